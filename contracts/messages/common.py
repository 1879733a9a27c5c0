"""Value types that several messages carry: parties, lines, and the invoice snapshot."""

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema
from pydantic.networks import validate_email
from pydantic_core import PydanticCustomError

from contracts.messages.base import Event, Identifier
from contracts.money import Currency
from contracts.reasons import RejectionReason
from contracts.references import compact, is_valid_iban

Text = Annotated[str, StringConstraints(max_length=500)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")]


@lru_cache(maxsize=8192)
def _checked_iban(value: str) -> str:
    # Remembered per IBAN like addresses below: a statement import validates one IBAN per booking.
    iban = compact(value)
    if not is_valid_iban(iban):
        raise ValueError("not a valid IBAN (its country's length and format, and its check digits, must agree)")
    return iban


Iban = Annotated[str, AfterValidator(_checked_iban)]


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
Metadata = Annotated[dict[str, Annotated[str, StringConstraints(max_length=500)]], Field(max_length=50)]

InvoiceStatus = Literal["draft", "open", "paid", "void", "uncollectible"]


class ValueModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Address(ValueModel):
    line1: Text = ""
    line2: Text = ""
    postal_code: Annotated[str, StringConstraints(max_length=20)] = ""
    city: Text = ""
    country: Annotated[str, StringConstraints(pattern=r"^([A-Z]{2})?$")] = ""


class Customer(ValueModel):
    """Who is billed. Up to 3 `to` and 9 `cc` addresses."""

    name: Name
    email: ToAddresses = []
    cc: CcAddresses = []
    address: Address = Address()
    tax_id: Annotated[str, StringConstraints(max_length=50)] = ""
    language: Language = "en"


class Issuer(ValueModel):
    """Who bills: the account's company details as printed on the invoice."""

    company_name: Name
    email: EmailAddress
    reply_to: EmailAddress | None = None
    address: Address = Address()
    tax_id: Annotated[str, StringConstraints(max_length=50)] = ""


class LineItem(ValueModel):
    description: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    quantity: Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=4)]
    unit_amount: int = Field(description="Price of one unit in minor units, before tax")
    tax_rate: Annotated[Decimal, Field(ge=0, le=100, max_digits=7, decimal_places=4)] = Decimal(0)


class PricedLine(LineItem):
    """A line with the amounts the invoices service computed for it."""

    amount: int = Field(description="quantity x unit_amount, rounded to minor units")
    tax_amount: int


class InvoiceSnapshot(ValueModel):
    """The invoice as its owner sees it now: event-carried state for payments and mailer."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: Identifier
    account_id: str
    status: InvoiceStatus
    number: str | None = None
    currency: Currency
    customer: Customer
    issuer: Issuer | None = None
    lines: list[PricedLine]
    subtotal: int
    tax: int
    total: int
    amount_paid: int
    amount_due: int
    amount_remaining: int
    due_date: date | None = None
    days_until_due: int | None = None
    past_due: bool = Field(default=False, description="Open and announced past its due date (invoice.past_due)")
    payee_iban: Iban | None = None
    payment_reference: str | None = None
    quote_id: str | None = None
    memo: Text = ""
    metadata: Metadata = {}
    created_at: datetime
    finalized_at: datetime | None = None
    paid_at: datetime | None = None
    voided_at: datetime | None = None
    last_sent_at: datetime | None = None
    version: int


class CommandRejected(Event):
    """The answer to a command that was refused. `reason` is a stable machine-readable code."""

    command_id: str
    command_type: str
    reason: RejectionReason = Field(description="Why; every code and its rule: docs/reason-codes.md")
    message: str
