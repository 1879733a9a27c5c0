"""Credit notes, an entity of the invoice they correct (docs/design.md, "Credit notes"). Pure: no I/O.

A credit note takes back the whole invoice, chosen lines (all or some of a line's quantity) or an
amount, tax included. Its lines are priced as the invoice's are, as positive amounts, and what
all credit notes of an invoice take back, pending ones included, never exceeds what the invoice
charged: per line (quantity and amount) and in total. The invoice checks that, once, when it
accepts a credit note; this module prices the lines and says what is left.
"""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from pydantic import BaseModel

from contracts.messages.bounds import MAX_LINE_AMOUNT, MAX_LINES
from contracts.messages.common import Customer, Issuer, LineItem, PricedLine
from contracts.messages.credit_notes import CreditedLine, CreditNoteReason, CreditNoteSnapshot, CreditTo
from services.invoices.domain.errors import RuleViolation
from services.invoices.domain.totals import price_line, totals


class CreditNoteLine(PricedLine):
    """A priced line of a credit note, and the invoice line it takes back (none for a part of an amount)."""

    invoice_line: int | None = None


class CreditNote(BaseModel):
    id: str
    command_id: str
    status: Literal["pending", "issued"] = "pending"
    account_id: str
    invoice_id: str
    invoice_number: str
    invoice_issued_on: date
    currency: str
    customer: Customer
    issuer: Issuer | None = None
    lines: list[CreditNoteLine]
    reason: CreditNoteReason
    memo: str = ""
    credit_to: CreditTo
    number: str | None = None
    series_key: str
    number_format: str
    pre_payment_amount: int = 0
    refund_amount: int = 0
    customer_balance_amount: int = 0
    created_at: datetime
    issued_at: datetime | None = None
    version: int = 1

    @property
    def total(self) -> int:
        return totals(self.lines).total

    def settle(self, owed: int) -> None:
        """Split the total: what lowers what the invoice still owes, and the rest to where the command said."""
        self.pre_payment_amount = min(self.total, owed)
        rest = self.total - self.pre_payment_amount
        self.refund_amount = rest if self.credit_to == "refund" else 0
        self.customer_balance_amount = rest if self.credit_to == "customer_balance" else 0

    def snapshot(self) -> CreditNoteSnapshot:
        figures = totals(self.lines)
        return CreditNoteSnapshot(
            **self.model_dump(include=set(CreditNoteSnapshot.model_fields) - {"lines"}),
            lines=[PricedLine(**line.model_dump(include=set(PricedLine.model_fields))) for line in self.lines],
            subtotal=figures.subtotal, tax=figures.tax, total=figures.total,
        )


def credited_lines(invoice_lines: list[PricedLine], chosen: list[CreditedLine], earlier: list[CreditNote]) -> list[CreditNoteLine]:
    """The lines a credit note takes back: `chosen` (all of the invoice's lines when none is), each for
    the quantity asked or, without one, what is left of it. The last part of a line is priced as what
    is left of its amount and tax, so a line credited in parts adds up to the line exactly."""
    taken = [line for note in earlier for line in note.lines]
    whole_invoice = not chosen
    chosen = chosen or [CreditedLine(line=position) for position in range(len(invoice_lines))]
    priced: list[CreditNoteLine] = []
    for choice in chosen:
        if choice.line >= len(invoice_lines):
            raise RuleViolation("unknown_line", f"The invoice has no line {choice.line} (it has "
                                                f"{len(invoice_lines)}, counted from 0).")
        line = invoice_lines[choice.line]
        before = [part for part in taken + priced if part.invoice_line == choice.line]
        quantity_left = line.quantity - sum((part.quantity for part in before), Decimal(0))
        quantity = quantity_left if choice.quantity is None else choice.quantity
        if quantity_left <= 0 and whole_invoice:
            continue  # credited in full before
        if quantity > quantity_left or quantity_left <= 0:
            raise RuleViolation("credit_exceeds_invoice", f"Line {choice.line} has {quantity_left} of its quantity "
                                                          f"{line.quantity} left to credit, not {quantity}.")
        item = LineItem(**line.model_dump(include=set(LineItem.model_fields) - {"quantity"}), quantity=quantity)
        if quantity == quantity_left:
            amount = line.amount - sum(part.amount for part in before)
            tax_amount = line.tax_amount - sum(part.tax_amount for part in before)
            priced.append(CreditNoteLine(**item.model_dump(), amount=amount, tax_amount=tax_amount,
                                         invoice_line=choice.line))
        else:
            priced.append(CreditNoteLine(**price_line(item).model_dump(), invoice_line=choice.line))
    return priced


def credited_amount(invoice_lines: list[PricedLine], amount: int) -> list[CreditNoteLine]:
    """An amount, tax included, spread over the invoice's tax rates in proportion to what the lines
    of each rate charged, tax included (rates whose lines charge nothing take no part). Each part is
    one line (several where it is more than a line may be: MAX_LINE_AMOUNT each at most): the
    largest remainders get the minor units the division leaves, so the parts add up to the amount
    exactly, and each line's tax is what is left of it after its net, rounded half-up."""
    charged: dict[Decimal, int] = {}
    for line in invoice_lines:
        charged[line.tax_rate] = charged.get(line.tax_rate, 0) + line.amount + line.tax_amount
    charged = {rate: gross for rate, gross in charged.items() if gross > 0}
    whole = sum(charged.values())
    if whole == 0:
        return []  # the invoice charged nothing: nothing can be taken back
    shares = {rate: divmod(amount * gross, whole) for rate, gross in charged.items()}
    parts = {rate: share for rate, (share, _) in shares.items()}
    by_remainder = sorted(shares, key=lambda rate: (-shares[rate][1], rate))
    for rate in by_remainder[:amount - sum(parts.values())]:
        parts[rate] += 1
    lines = []
    for rate, part in sorted(parts.items()):
        count = -(-part // MAX_LINE_AMOUNT)
        for gross in (part // count + (index < part % count) for index in range(count)):
            net = int((Decimal(gross) * 100 / (100 + rate)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
            lines.append(CreditNoteLine(description=f"Credit of the lines at {rate.normalize():f} % tax",
                                        quantity=1, unit_amount=net, tax_rate=rate, amount=net,
                                        tax_amount=gross - net))
    return lines


# All credit notes of an invoice together: four times an invoice's lines. The invoice is stored
# with its credit notes, and this keeps one at its largest (250 lines of 500-character text, about
# 0.4 MB) within a few MB, far below a MongoDB document's 16 MB, however it is credited in parts.
MAX_CREDITED_LINES = 4 * MAX_LINES


def check_amount_within(invoice_total: int, earlier: list[CreditNote], amount: int) -> None:
    """An amount to credit is no more than what the invoice's credit notes leave of its total:
    checked before it is spread over lines."""
    left = invoice_total - sum(note.total for note in earlier)
    if amount > left:
        raise RuleViolation("credit_exceeds_invoice", f"The credit note totals {amount} minor units; the invoice has "
                                                      f"{left} of its {invoice_total} left to credit.")


def check_within(invoice_total: int, earlier: list[CreditNote], lines: list[CreditNoteLine]) -> None:
    """A credit note takes back something, no more than what the invoice's credit notes leave of its
    total, and within the lines all of them may have."""
    if (count := sum(len(note.lines) for note in earlier) + len(lines)) > MAX_CREDITED_LINES:
        raise RuleViolation("credit_note_limit", f"The invoice's credit notes would have {count} lines; they may "
                                                 f"have {MAX_CREDITED_LINES} together.")
    total = totals(lines).total
    if total <= 0:
        raise RuleViolation("nothing_to_credit", f"The credit note would total {total} minor units; it must take "
                                                 "back more than nothing.")
    check_amount_within(invoice_total, earlier, total)
