"""invoices.commands and invoices.events: the invoice lifecycle and account settings."""

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from contracts import topics
from contracts.messages.base import Command, Event, Identifier, message_type
from contracts.messages.bounds import (
    Amount,
    Count,
    Day,
    Moment,
    Name,
    Paragraph,
    QuotedName,
    ShortText,
    Text,
    bounded_list,
)
from contracts.messages.common import (
    Address,
    Bic,
    CcAddresses,
    CommandRejected,
    Customer,
    EmailAddress,
    Iban,
    InvoiceNumber,
    InvoiceSnapshot,
    Language,
    Lines,
    Metadata,
    ToAddresses,
    ValueModel,
)
from contracts.messages.mail import MailTexts
from contracts.messages.numbering import NumberFormat, SeriesKey
from contracts.money import Currency

DaysUntilDue = Annotated[int, Field(ge=0, le=365)]
CorrectionRule = Literal["void", "credit_note"]
ReminderDay = Annotated[int, Field(ge=-60, le=365, description="Days relative to the due date: negative before, positive after")]

# --- commands ---------------------------------------------------------------------------------


@message_type("invoice.create", topic=topics.INVOICES_COMMANDS, key="invoice_id")
class CreateInvoice(Command):
    invoice_id: Identifier
    currency: Currency
    customer: Customer
    lines: Lines = []
    due_date: Day | None = None
    days_until_due: DaysUntilDue | None = None
    memo: Paragraph = ""
    metadata: Metadata = {}
    quote_id: Identifier | None = None
    subscription_id: Identifier | None = Field(
        default=None, description="Set for invoices a subscription issues; they are never fully editable once open"
    )

    @model_validator(mode="after")
    def _one_due_rule(self):
        if self.due_date is not None and self.days_until_due is not None:
            raise ValueError("give either due_date or days_until_due, not both")
        return self


class InvoiceChanges(ValueModel):
    """Fields to change; absent (or null) fields stay as they are."""

    currency: Currency | None = None
    customer: Customer | None = None
    lines: Lines | None = None
    due_date: Day | None = None
    days_until_due: DaysUntilDue | None = None
    memo: Paragraph | None = None
    metadata: Metadata | None = None


@message_type("invoice.update", topic=topics.INVOICES_COMMANDS, key="invoice_id")
class UpdateInvoice(Command):
    invoice_id: Identifier
    changes: InvoiceChanges


@message_type("invoice.delete", topic=topics.INVOICES_COMMANDS, key="invoice_id")
class DeleteInvoice(Command):
    invoice_id: Identifier
    reason: Text = ""


@message_type("invoice.clone", topic=topics.INVOICES_COMMANDS, key="invoice_id")
class CloneInvoice(Command):
    invoice_id: Identifier = Field(description="The invoice to copy")
    new_invoice_id: Identifier


@message_type("invoice.finalize", topic=topics.INVOICES_COMMANDS, key="invoice_id")
class FinalizeInvoice(Command):
    invoice_id: Identifier


@message_type("invoice.run_clock", topic=topics.INVOICES_COMMANDS, key="invoice_id")
class RunInvoiceClock(Command):
    """The invoices service's clock: the invoice's next moment (past due, a reminder) has come.

    Published by the invoices service itself, with an id derived from the invoice and the moment,
    so every instance and every restart publishes the same message and it is handled once. The
    invoice decides what is due by the service's own clock: a clock command from anyone else
    cannot make anything due early; one that finds nothing due is answered with `nothing_due`.
    """

    invoice_id: Identifier
    at: Moment = Field(description="The moment the clock found due (the invoice's next clock moment)")


@message_type("invoice.send", topic=topics.INVOICES_COMMANDS, key="invoice_id")
class SendInvoice(Command):
    invoice_id: Identifier
    to: ToAddresses | None = Field(
        default=None, description="Overrides the customer's addresses for this send"
    )
    cc: CcAddresses | None = None
    language: Language | None = None


@message_type("invoice.void", topic=topics.INVOICES_COMMANDS, key="invoice_id")
class VoidInvoice(Command):
    invoice_id: Identifier
    reason: Text = ""


@message_type("invoice.rotate_hosted_link", topic=topics.INVOICES_COMMANDS, key="invoice_id")
class RotateHostedLink(Command):
    """Revokes the hosted invoice page's address at once and gives the invoice a new one."""

    invoice_id: Identifier
    reason: Text = ""


@message_type("invoice.mark_uncollectible", topic=topics.INVOICES_COMMANDS, key="invoice_id")
class MarkInvoiceUncollectible(Command):
    invoice_id: Identifier
    reason: Text = ""


@message_type("invoice.mark_paid", topic=topics.INVOICES_COMMANDS, key="invoice_id")
class MarkInvoicePaid(Command):
    invoice_id: Identifier
    paid_on: Day | None = None
    note: Text = ""


@message_type("invoice.mark_unpaid", topic=topics.INVOICES_COMMANDS, key="invoice_id")
class MarkInvoiceUnpaid(Command):
    invoice_id: Identifier
    reason: Text = ""


@message_type("account.configure", topic=topics.INVOICES_COMMANDS, key="account_id")
class ConfigureAccount(Command):
    """Invoicing settings of one account. Absent fields keep their current value."""

    account_id: Identifier
    company_name: Name | None = None
    company_address: Address | None = None
    company_tax_id: ShortText | None = None
    sender_email: EmailAddress | None = None
    reply_to: EmailAddress | None = None
    payee_iban: Iban | None = None
    payee_bic: Bic | None = Field(default=None, description="Printed beside the IBAN and put in the transfer QR code")
    notification_email: EmailAddress | None = Field(
        default=None, description="Where the account hears of mails that could not be delivered (bounced for good, "
                                  "dropped); by default its reply_to, else its sender_email")
    number_format: NumberFormat | None = Field(default=None, examples=["INV-{yyyy}-{seq:05}"])
    credit_note_number_format: NumberFormat | None = Field(
        default=None, examples=["CN-{yyyy}-{seq:05}"],
        description="The series credit notes are numbered from; never the invoices' own")
    default_days_until_due: DaysUntilDue | None = None
    edit_finalized_invoices: bool | None = None
    delete_finalized_invoices: bool | None = None
    correction_rule: CorrectionRule | None = Field(
        default=None, description="How a finalized revision settles the invoice it replaces (invoice.revise): "
                                  "`void` it (the default), or issue a `credit_note` for all of it where the "
                                  "jurisdiction needs one (France, Germany)")
    reminder_schedule: bounded_list(ReminderDay, 10) | None = Field(  # type: ignore[valid-type]
        default=None, examples=[[-3, 1, 7]],
        description="When open invoices remind their customer, in days relative to the due date (-3: three days "
                    "before, 0: on the day, 7: a week after); an empty list sends no reminders",
    )

    send_on_finalize: bool | None = Field(default=None, description="Email each invoice to its customer when it "
                                                                    "is finalized (off by default)")
    send_receipts: bool | None = Field(default=None, description="Email a receipt when an invoice is paid (off by default)")
    send_credit_notes: bool | None = Field(default=None, description="Email each credit note when it is issued "
                                                                     "(off by default)")
    mail_delay_minutes: Annotated[int, Field(ge=0, le=60)] | None = Field(
        default=None, description="Mails sent automatically wait this long before delivery, and go out together "
                                  "(0, the default: at once)")
    mail_texts: MailTexts | None = Field(
        default=None, description="The account's own subject and body per language and kind of mail, with "
                                  "placeholders; the whole set is replaced")

    @model_validator(mode="after")
    def _distinct_reminder_days(self):
        if self.reminder_schedule is not None and len(set(self.reminder_schedule)) != len(self.reminder_schedule):
            raise ValueError("reminder_schedule names a day twice")
        return self


# --- events -----------------------------------------------------------------------------------


class InvoiceStateEvent(Event):
    """An event that carries the whole invoice after the change."""

    invoice_id: Identifier
    invoice: InvoiceSnapshot


@message_type("invoice.created", topic=topics.INVOICES_EVENTS, key="invoice_id")
class InvoiceCreated(InvoiceStateEvent):
    cloned_from: Identifier | None = None


class FieldChange(ValueModel):
    field: Name
    before: Any = None
    after: Any = None


@message_type("invoice.updated", topic=topics.INVOICES_EVENTS, key="invoice_id")
class InvoiceUpdated(InvoiceStateEvent):
    changes: bounded_list(FieldChange, 20)  # type: ignore[valid-type]


@message_type("invoice.deleted", topic=topics.INVOICES_EVENTS, key="invoice_id")
class InvoiceDeleted(Event):
    invoice_id: Identifier
    status: Name
    number: InvoiceNumber | None = Field(default=None, description="Set when a finalized invoice is deleted: its number becomes a recorded gap")
    series_key: SeriesKey | None = None
    reason: Text = ""
    deleted_at: Moment


HostedToken = Annotated[str, Field(
    pattern=r"^[A-Za-z0-9_\-]{43}$",
    description="The secret part of the invoice's hosted page address, <public base>/i/<invoice id>/<token>. "
                "Handed out in this event only (the invoices service keeps its digest): whoever shows the "
                "invoice to its customer keeps it; invoice.rotate_hosted_link revokes it and issues another",
)]


@message_type("invoice.finalized", topic=topics.INVOICES_EVENTS, key="invoice_id")
class InvoiceFinalized(InvoiceStateEvent):
    hosted_token: HostedToken


@message_type("invoice.sent", topic=topics.INVOICES_EVENTS, key="invoice_id")
class InvoiceSent(Event):
    invoice_id: Identifier
    number: InvoiceNumber | None
    mail_id: Identifier
    to: ToAddresses
    cc: CcAddresses = []
    sent_at: Moment


@message_type("invoice.payment_applied", topic=topics.INVOICES_EVENTS, key="invoice_id")
class InvoicePaymentApplied(InvoiceStateEvent):
    payment_id: Identifier
    amount: Amount
    overpaid_amount: Amount = 0


@message_type("invoice.paid", topic=topics.INVOICES_EVENTS, key="invoice_id")
class InvoicePaid(InvoiceStateEvent):
    paid_out_of_band: bool = Field(default=False, description="Marked paid by hand, without a recorded payment")


@message_type("invoice.marked_unpaid", topic=topics.INVOICES_EVENTS, key="invoice_id")
class InvoiceMarkedUnpaid(InvoiceStateEvent):
    removed_payment_ids: bounded_list(Identifier, 1000) = []  # type: ignore[valid-type]


@message_type("invoice.voided", topic=topics.INVOICES_EVENTS, key="invoice_id")
class InvoiceVoided(InvoiceStateEvent):
    reason: Text = ""


@message_type("invoice.hosted_link_rotated", topic=topics.INVOICES_EVENTS, key="invoice_id")
class HostedLinkRotated(InvoiceStateEvent):
    """The previous hosted page address answers 404 from now on; `hosted_token` is the new one."""

    hosted_token: HostedToken
    reason: Text = ""


@message_type("invoice.marked_uncollectible", topic=topics.INVOICES_EVENTS, key="invoice_id")
class InvoiceMarkedUncollectible(InvoiceStateEvent):
    reason: Text = ""


@message_type("invoice.past_due", topic=topics.INVOICES_EVENTS, key="invoice_id")
class InvoicePastDue(InvoiceStateEvent):
    days_past_due: Count


@message_type("account.configured", topic=topics.ACCOUNTS_EVENTS, key="account_id")
class AccountConfigured(Event):
    """The account's settings as its owner configured them, all of them in every event: on the
    compacted accounts.events, keyed by the account, so the latest one per account is kept for ever
    and a new consumer reads every account's current settings from the start of the topic."""

    account_id: Identifier
    settings: Annotated[dict[Name, Any], Field(max_length=50)]


@message_type("invoice.command_rejected", topic=topics.INVOICES_EVENTS, key="subject_id")
class InvoiceCommandRejected(CommandRejected):
    subject_id: QuotedName = Field(description="The invoice (or account) the command named")



@message_type("quote.invoiced", topic=topics.INVOICES_EVENTS, key="quote_id")
class QuoteInvoiced(Event):
    """The quote has its invoice: the quote system locks it. Published with the `invoice.created`
    of the invoice made from it; the quote stays invoiced however the invoice ends, voided or
    credited included (a correction does not un-invoice a quote), until a draft of it is deleted."""

    quote_id: Identifier
    invoice_id: Identifier


@message_type("quote.released", topic=topics.INVOICES_EVENTS, key="quote_id")
class QuoteReleased(Event):
    """The draft made from the quote was deleted: the quote may be invoiced again, and the quote
    system unlocks it."""

    quote_id: Identifier
    invoice_id: Identifier = Field(description="The deleted invoice")
    reason: Text = ""


# --- revisions --------------------------------------------------------------------------------


@message_type("invoice.revise", topic=topics.INVOICES_COMMANDS, key="invoice_id")
class ReviseInvoice(Command):
    """A new draft copying an open invoice, naming it (`revision_of`). Once the revision is
    finalized, the original is settled by the account's `correction_rule` and names its revision
    (`revised_by`); payments applied to it move to the revision. Refused for drafts, paid and void
    invoices, and while another revision of it is in progress."""

    invoice_id: Identifier = Field(description="The open invoice to replace")
    new_invoice_id: Identifier


@message_type("invoice.settle_revision", topic=topics.INVOICES_COMMANDS, key="invoice_id", internal=True)
class SettleRevisedInvoice(Command):
    """Internal: the revision `revision_id` was finalized; the invoice it replaces (`invoice_id`,
    on its own partition) is settled by the account's correction rule."""

    invoice_id: Identifier
    revision_id: Identifier
    revision_number: InvoiceNumber


@message_type("invoice.revised", topic=topics.INVOICES_EVENTS, key="invoice_id")
class InvoiceRevised(InvoiceStateEvent):
    """The invoice is replaced by its finalized revision. The payments it had are no longer its
    own: payments moves each to the revision (`payment.matched` for the revision)."""

    revision_id: Identifier
    moved_payment_ids: bounded_list(Identifier, 1000) = []  # type: ignore[valid-type]
