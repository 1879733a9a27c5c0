"""What the invoices list reads of an invoice, stored with it, and how list queries become
indexed store queries.

Each invoice's document carries a `listing`, everything a list shows of it and filters by (one
field to read, so an export reads and decodes a few hundred bytes per invoice, not the whole
document), and its `positions`, one per sort order. A sort position is text that sorts like the
order it stands for and ends with the invoice id, so it is unique: `2026-11-30 inv_7`, a padded
amount, a number; an invoice without the value (a draft has no number) sorts last, as `~`.
Pages continue after the last position they showed, on an index that starts with the account, so
a page costs the same on the first and the thousandth page, and no account's rows are read for
another's.
"""

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from chassis.storage import Condition, Index, Key, Order
from services.invoices.domain.invoice import Invoice, Status

SortField = Literal["due_date", "issued_on", "amount", "number"]
SORT_FIELDS: tuple[SortField, ...] = ("due_date", "issued_on", "amount", "number")
_NONE = "~"  # after every character a number, a date or a padded amount is written with
_SEPARATOR = " "  # before all of them, so "INV-1 x" sorts before "INV-10 y"
_AMOUNT_OFFSET = 10**18  # amounts sort as 19 digits, negative ones too

# With the repository's own keys: account_id, status, deleted.
KEYS = (
    Key("currency", "text"),
    Key("due_date", "date"),
    Key("customer", "text", path="listing.customer"),
    Key("total", "integer", path="listing.total"),
    Key("issued_on", "date", path="listing.issued_on"),
    Key("past_due", "boolean", path="listing.past_due"),
    Key("credit_note_ids", "text_list", path="listing.credit_note_ids"),
    Key("credited", "boolean", path="listing.credited"),
    Key("payment_pending", "boolean", path="listing.payment_pending"),
    *(Key(f"sort_{field}", "text", path=f"positions.{field}") for field in SORT_FIELDS),
)
INDEXES = (*(Index(("account_id", f"sort_{field}")) for field in SORT_FIELDS), Index(("credit_note_ids",)),
           Index(("account_id", "credited")))


def sort_positions(invoice_id: str, *, due_date: date | None, issued_on: date | None, total: int,
                   number: str | None) -> dict[str, str]:
    def position(value: str | None) -> str:
        return f"{_NONE if value is None else value}{_SEPARATOR}{invoice_id}"

    return {
        "due_date": position(due_date.isoformat() if due_date else None),
        "issued_on": position(issued_on.isoformat() if issued_on else None),
        "amount": position(f"{total + _AMOUNT_OFFSET:019d}"),
        "number": position(number),
    }


def listed(invoice: Invoice) -> dict:
    """What is stored beside the invoice for lists: its `listing` and its `positions`."""
    issued_on = invoice.finalized_at.date() if invoice.finalized_at else None
    total = invoice.total
    credit_notes = [{"id": note.id, "number": note.number, "total": note.total,
                     "issued_on": note.issued_at.date().isoformat()} for note in invoice.credit_note_snapshots()]
    listing = {
        "id": invoice.id,
        "number": invoice.number,
        "status": invoice.status,
        "currency": invoice.currency,
        "customer": invoice.customer.name,
        "customer_email": invoice.customer.email[0] if invoice.customer.email else None,
        "total": total,
        "amount_paid": invoice.amount_paid,
        "amount_remaining": invoice.amount_remaining,
        "applied_balance": invoice.applied_balance,
        "issued_on": issued_on.isoformat() if issued_on else None,
        "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
        "last_sent_at": invoice.last_sent_at.isoformat() if invoice.last_sent_at else None,
        "past_due": invoice.past_due,
        "payment_pending": invoice.payment_pending,
        "credit_note_ids": [note.id for note in invoice.credit_notes],
        "credited": bool(credit_notes),
        "credit_notes": credit_notes,
    }
    positions = sort_positions(invoice.id, due_date=invoice.due_date, issued_on=issued_on, total=total,
                               number=invoice.number)
    return {"listing": listing, "positions": positions}


def position(document: dict, sort: SortField) -> str:
    """Where a stored invoice stands in a sort order: the place a page that ends with it ends."""
    return document["positions"][sort]


class InvoiceFilter(BaseModel):
    """Every field given narrows the list. Ranges include both ends."""

    status: list[Status] = Field([], description="Any of these statuses (repeat the parameter)")
    customer: str | None = Field(None, description="The customer's name, exactly")
    currency: str | None = None
    number: str | None = None
    issued_from: date | None = None
    issued_to: date | None = None
    due_from: date | None = None
    due_to: date | None = None
    amount_min: int | None = Field(None, description="Total at least this, in minor units")
    amount_max: int | None = Field(None, description="Total at most this, in minor units")
    past_due: bool | None = Field(None, description="true: only invoices past due (announced by the clock)")
    payment_pending: bool | None = Field(None, description="true: only invoices with a transfer on its way "
                                                           "(payment.pending); false: only those without")

    @field_validator("past_due")
    @classmethod
    def _past_due_only(cls, past_due: bool | None) -> bool | None:
        if past_due is False:
            raise ValueError("past_due selects past-due invoices only: use past_due=true, or leave it out")
        return past_due


def conditions(account_id: str, wanted: InvoiceFilter) -> list[Condition]:
    where = [Condition("account_id", "eq", account_id), Condition("deleted", "eq", False)]
    if wanted.status:
        where.append(Condition("status", "in", wanted.status))
    for key, value in (("customer", wanted.customer), ("currency", wanted.currency)):
        if value is not None:
            where.append(Condition(key, "eq", value))
    if wanted.number is not None:
        where += number_is(wanted.number)
    for key, low, high in (("issued_on", wanted.issued_from, wanted.issued_to),
                           ("due_date", wanted.due_from, wanted.due_to),
                           ("total", wanted.amount_min, wanted.amount_max)):
        if low is not None:
            where.append(Condition(key, "gte", low))
        if high is not None:
            where.append(Condition(key, "lte", high))
    if wanted.past_due:
        where.append(Condition("past_due", "eq", True))
    if wanted.payment_pending is not None:
        where.append(Condition("payment_pending", "eq", wanted.payment_pending))
    return where


def number_is(number: str) -> list[Condition]:
    """The invoice with this number, found on the number sort's index: its positions are
    `<number> <id>`, so they lie between `<number> ` and `<number>!`."""
    return [Condition("sort_number", "gt", f"{number}{_SEPARATOR}"), Condition("sort_number", "lt", f"{number}!")]


def order(sort: SortField, descending: bool) -> Order:
    return Order(f"sort_{sort}", descending=descending)


def after(sort: SortField, descending: bool, position: str) -> Condition:
    return Condition(f"sort_{sort}", "lt" if descending else "gt", position)
