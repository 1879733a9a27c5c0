"""Value types that several messages carry: parties, lines, and the invoice snapshot."""

from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema, model_validator
from pydantic.networks import validate_email
from pydantic_core import PydanticCustomError
from stdnum import bic

from contracts.messages.base import Event, Identifier
from contracts.messages.bounds import (
    MAX_LINE_AMOUNT,
    MAX_LINES,
    Amount,
    AmountPaid,
    Count,
    Day,
    LineAmount,
    Moment,
    Name,
    Paragraph,
    Quantity,
    QuotedName,
    QuotedText,
    ShortText,
    TaxRate,
    Text,
    Version,
    bounded_list,
    text,
)
from contracts.money import Currency
from contracts.reasons import RejectionReason
from contracts.references import compact, is_valid_iban
from contracts.tax import VatExemption

Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")]


@lru_cache(maxsize=8192)
def _checked_iban(value: str) -> str:
    # Remembered per IBAN like addresses below: a statement import validates one IBAN per booking.
    iban = compact(value)
    if not is_valid_iban(iban):
        raise ValueError("not a valid IBAN (its country's length and format, and its check digits, must agree)")
    return iban


Iban = Annotated[str, StringConstraints(max_length=50), AfterValidator(_checked_iban)]


def _checked_bic(value: str) -> str:
    try:
        return bic.validate(value)
    except ValueError:
        raise ValueError("not a valid BIC (ISO 9362: 8 or 11 letters and digits)") from None


Bic = Annotated[str, StringConstraints(max_length=20), AfterValidator(_checked_bic)]


@lru_cache(maxsize=8192)
def _checked_email(value: str) -> str:
    address = validate_email(value)[1]
    if not address.rsplit("@", 1)[0].isascii():
        # Such an address needs SMTPUTF8 from end to end, which the mailer does not use: refused
        # where the sender hears why, not at every delivery attempt. (Domains outside ASCII are
        # fine: they have an ASCII form.)
        raise PydanticCustomError("value_error", "value is not a valid email address: {reason}",
                                  {"reason": "the part before the @ must be ASCII (SMTPUTF8 is not supported)"})
    return address


# pydantic's EmailStr rules and normalisation, less local parts outside ASCII, remembered per
# address: every message and every stored aggregate that carries an address validates it again,
# and the same few addresses come back all the time (the international-domain checks cost more
# than the rest of a message).
EmailAddress = Annotated[str, AfterValidator(_checked_email), WithJsonSchema({"type": "string", "format": "email"})]


def _recipients(limit: int) -> AfterValidator:
    def at_most(addresses: list[str]) -> list[str]:
        if len(addresses) > limit:
            # The error type is the reason code the rejection carries (see contracts.reasons).
            raise PydanticCustomError(
                "too_many_recipients", "at most {limit} addresses, got {count}", {"limit": limit, "count": len(addresses)}
            )
        return addresses

    return AfterValidator(at_most)


# Up to 3 `to` and 9 `cc` addresses per mail; the schema says so with maxItems.
ToAddresses = Annotated[list[EmailAddress], _recipients(3), Field(json_schema_extra={"maxItems": 3})]
CcAddresses = Annotated[list[EmailAddress], _recipients(9), Field(json_schema_extra={"maxItems": 9})]
# Stripe's bounds: 50 keys of up to 40 characters, values of up to 500.
Metadata = Annotated[dict[text(40, min_length=1), Text], Field(max_length=50)]  # type: ignore[valid-type]

# What a number format renders (contracts.messages.numbering.NumberFormat).
InvoiceNumber = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9\-_/.]{1,80}$")]

InvoiceStatus = Literal["draft", "open", "paid", "void", "uncollectible"]


class ValueModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Address(ValueModel):
    line1: Text = ""
    line2: Text = ""
    postal_code: text(20) = ""  # type: ignore[valid-type]
    city: Text = ""
    country: Annotated[str, StringConstraints(pattern=r"^([A-Z]{2})?$")] = ""


class Customer(ValueModel):
    """Who is billed. Up to 3 `to` and 9 `cc` addresses."""

    id: Identifier | None = Field(default=None, description="The customer's id in the account: credits to a customer "
                                                            "balance and its use on later invoices follow it")
    name: Name
    email: ToAddresses = []
    cc: CcAddresses = []
    address: Address = Address()
    tax_id: ShortText = ""
    language: Language = "en"


class Issuer(ValueModel):
    """Who bills: the account's company details as printed on the invoice."""

    company_name: Name
    email: EmailAddress
    reply_to: EmailAddress | None = None
    address: Address = Address()
    tax_id: ShortText = ""


class LineItem(ValueModel):
    """One line; quantity x unit_amount is at most 10^12 minor units either way
    (contracts.messages.bounds)."""

    description: text(500, min_length=1, line_breaks=True)  # type: ignore[valid-type]
    quantity: Quantity
    unit_amount: LineAmount = Field(description="Price of one unit in minor units, before tax")
    tax_rate: TaxRate = Decimal(0)
    tax_exemption: VatExemption | None = Field(
        default=None, description="Why the line bears no VAT, as a VATEX code (EN 16931 BT-121): reverse charge, an "
                                  "export, an exemption; its rate is then 0. Absent: a rate above 0 is standard rated, "
                                  "0 % zero rated.")

    @model_validator(mode="after")
    def _amount_within_bounds(self):
        if abs(self.quantity * self.unit_amount) > MAX_LINE_AMOUNT:
            raise ValueError(f"quantity x unit_amount is more than {MAX_LINE_AMOUNT} minor units either way")
        return self


Lines = bounded_list(LineItem, MAX_LINES)


class PricedLine(LineItem):
    """A line with the amounts the invoices service computed for it."""

    amount: LineAmount = Field(description="quantity x unit_amount, rounded to minor units")
    tax_amount: LineAmount


class OutOfBandPayment(ValueModel):
    """A payment received outside the platform, as the person marking the invoice paid told it
    (`invoice.mark_paid`; Stripe's `paid_out_of_band`)."""

    paid_on: Day
    note: Text = ""


class PrecedingInvoice(ValueModel):
    """An invoice another document corrects or replaces, as EN 16931 names it."""

    number: InvoiceNumber = Field(description="BT-25")
    issued_on: Day = Field(description="BT-26")


class InvoiceSnapshot(ValueModel):
    """The invoice as its owner sees it now: event-carried state for payments and mailer."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: Identifier
    # The envelope's `ce_accountid` as it came, and bounded as it is: a snapshot is written by the
    # service for the account of the command it handles, and must not fail where that passed.
    account_id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    status: InvoiceStatus
    number: InvoiceNumber | None = None
    currency: Currency
    customer: Customer
    issuer: Issuer | None = None
    lines: bounded_list(PricedLine, MAX_LINES)  # type: ignore[valid-type]
    subtotal: Amount
    tax: Amount
    total: Amount
    amount_paid: AmountPaid
    amount_credited: AmountPaid = Field(default=0, description="Taken off what it owes by its credit notes")
    applied_balance: AmountPaid = Field(default=0, description="Paid from the customer's balance at finalization "
                                                               "(Stripe's starting_balance); lowers amount_due")
    amount_due: Amount
    amount_remaining: Amount
    paid_out_of_band: bool = Field(default=False, description="Marked paid by hand (invoice.mark_paid)")
    out_of_band_payment: OutOfBandPayment | None = Field(default=None, description="While paid out of band")
    due_date: Day | None = None
    days_until_due: Count | None = None
    past_due: bool = Field(default=False, description="Open and announced past its due date (invoice.past_due)")
    payee_iban: Iban | None = None
    payee_bic: Bic | None = Field(default=None, description="The payee's BIC, when the account configured one "
                                                            "(printed beside the IBAN and in the transfer QR code)")
    payment_reference: ShortText | None = None
    payment_pending: bool = Field(default=False, description="A transfer for it was announced by the bank and "
                                                             "has not been booked yet")
    payment_pending_amount: AmountPaid = Field(default=0, description="What the pending transfers announce, "
                                                                      "while payment_pending")
    quote_id: Identifier | None = None
    revision_of: Identifier | None = Field(default=None, description="The invoice this one replaces (invoice.revise)")
    revised_by: Identifier | None = Field(default=None, description="The finalized revision that replaced it")
    replaces: PrecedingInvoice | None = Field(default=None, description="The invoice a revision replaces, as its "
                                                                        "document names it (BT-25, BT-26)")
    memo: Paragraph = ""
    metadata: Metadata = {}
    created_at: Moment
    finalized_at: Moment | None = None
    paid_at: Moment | None = None
    voided_at: Moment | None = None
    last_sent_at: Moment | None = None
    version: Version


class CommandRejected(Event):
    """The answer to a command that was refused. `reason` is a stable machine-readable code."""

    command_id: QuotedName
    command_type: QuotedName
    reason: RejectionReason = Field(description="Why; every code and its rule: docs/reason-codes.md")
    message: QuotedText
