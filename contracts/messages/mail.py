"""mail.commands and mail.events: delivering invoice emails."""

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from contracts import topics
from contracts.mail_texts import checked_kind, checked_text
from contracts.messages.base import Command, Event, Identifier, message_type
from contracts.messages.bounds import Count, Document, Moment, Paragraph, QuotedName, QuotedText, Text, bounded_list
from contracts.messages.common import (
    CcAddresses,
    CommandRejected,
    EmailAddress,
    InvoiceSnapshot,
    Language,
    ToAddresses,
    ValueModel,
)
from contracts.messages.credit_notes import CreditNoteSnapshot
from contracts.reasons import MailDropReason

MailKind = Literal["invoice", "receipt", "void_notice", "reminder", "credit_note"]
To = Annotated[ToAddresses, Field(min_length=1)]
# Whom an attempt concerns: some of a mail's to and cc.
Recipients = bounded_list(Text, 12)
HostedUrl = Annotated[str, Field(
    max_length=500, pattern=r"^https?://[^\s]+/i/[A-Za-z0-9_.:-]+/[A-Za-z0-9_\-]{43}$",
    description="The invoice's hosted page, <public base>/i/<invoice id>/<token>: the mail links it (text and "
                "HTML). Absent when the deployment has no public address or the invoice has no page (a draft)")]


class MailText(ValueModel):
    """An account's own wording of one kind of mail in one language; absent parts keep the
    platform's. Placeholders in braces ({number}, {amount_remaining}, ...) are filled in per mail;
    the list of placeholders and their check: contracts.mail_texts. A body is plain text, its
    paragraphs separated by blank lines."""

    subject: Annotated[Text, AfterValidator(checked_text)] | None = None
    body: Annotated[Paragraph, AfterValidator(checked_text)] | None = None


def _placeholders_of_each_kind(texts: dict[MailKind, MailText]) -> dict[MailKind, MailText]:
    for kind, text in texts.items():
        checked_kind(kind, text.subject, text.body)
    return texts


MailTexts = Annotated[dict[Language, Annotated[dict[MailKind, MailText], Field(max_length=10),
                                               AfterValidator(_placeholders_of_each_kind)]], Field(max_length=10)]


class DocumentMail(Command):
    """A mail that carries a document of an invoice's (the invoice itself, or a credit note)."""

    mail_id: Identifier = Field(description="Idempotency key of the delivery")
    invoice_id: Identifier
    to: To
    cc: CcAddresses = []
    language: Language = "en"
    attach_pdf: bool = True
    hosted_url: HostedUrl | None = None
    automatic: bool = Field(default=False, description="Sent by the account's own settings (auto-send, reminders), "
                                                       "not asked for: the mailer holds it for the account's "
                                                       "mail_delay_minutes before the first attempt")


class InvoiceMail(DocumentMail):
    invoice: InvoiceSnapshot


@message_type("mail.send_invoice", topic=topics.MAIL_COMMANDS, key="invoice_id")
class SendInvoiceMail(InvoiceMail):
    kind: Literal["invoice", "receipt", "void_notice"] = "invoice"


@message_type("mail.send_credit_note", topic=topics.MAIL_COMMANDS, key="invoice_id")
class SendCreditNoteMail(DocumentMail):
    """Email an issued credit note, with its PDF (Factur-X, type 381) attached. Events about it
    name the invoice it corrects and the kind `credit_note`."""

    credit_note: CreditNoteSnapshot


@message_type("mail.send_reminder", topic=topics.MAIL_COMMANDS, key="invoice_id")
class SendReminderMail(InvoiceMail):
    days_relative_to_due: Annotated[int, Field(ge=-60, le=365, description="Negative before the due date, positive after")]


@message_type("mail.unsuppress", topic=topics.MAIL_COMMANDS, key="address")
class UnsuppressAddress(Command):
    """Lift the account's suppression of an address (it bounced for good, or was dropped): its
    next mails are tried again. Answered with `mail.unsuppressed`, or `mail.rejected` when the
    account does not suppress it."""

    address: EmailAddress
    reason: Text = ""


@message_type("mail.preview", topic=topics.MAIL_COMMANDS, key="invoice_id")
class PreviewMail(Command):
    invoice_id: Identifier
    invoice: InvoiceSnapshot
    kind: MailKind = "invoice"
    language: Language = "en"


class MailEvent(Event):
    mail_id: Identifier
    invoice_id: Identifier
    kind: MailKind


@message_type("mail.queued", topic=topics.MAIL_EVENTS, key="invoice_id")
class MailQueued(MailEvent):
    to: ToAddresses
    cc: CcAddresses = []
    queued_at: Moment


@message_type("mail.sent", topic=topics.MAIL_EVENTS, key="invoice_id")
class MailSent(MailEvent):
    to: ToAddresses
    cc: CcAddresses = []
    sent_at: Moment
    attempts: Count
    smtp_message_id: Text


class MailRefused(MailEvent):
    """Recipients the SMTP relay refused, with what it said."""

    recipients: Recipients
    smtp_code: Annotated[int, Field(ge=100, le=599)] | None = None
    diagnostic: QuotedText


@message_type("mail.deferred", topic=topics.MAIL_EVENTS, key="invoice_id")
class MailDeferred(MailRefused):
    """An attempt was refused temporarily (SMTP 4xx or no connection); the mail is tried again."""

    attempt: Count
    next_attempt_at: Moment


@message_type("mail.bounced", topic=topics.MAIL_EVENTS, key="invoice_id")
class MailBounced(MailRefused):
    permanent: bool
    attempts: Count


@message_type("mail.dropped", topic=topics.MAIL_EVENTS, key="invoice_id")
class MailDropped(MailEvent):
    recipients: Recipients
    reason: MailDropReason


@message_type("mail.previewed", topic=topics.MAIL_EVENTS, key="invoice_id")
class MailPreviewed(Event):
    invoice_id: Identifier
    kind: MailKind
    language: Language
    subject: Text
    body_text: Document


@message_type("mail.unsuppressed", topic=topics.MAIL_EVENTS, key="address")
class AddressUnsuppressed(Event):
    address: EmailAddress
    suppressed_at: Moment = Field(description="When it was suppressed (the suppression just lifted)")
    unsuppressed_at: Moment
    reason: Text = ""
    mail_id: Identifier | None = Field(default=None, description="The mail whose bounce suppressed it")
    smtp_code: Annotated[int, Field(ge=100, le=599)] | None = None
    diagnostic: QuotedText = Field(default="", description="What the relay said when it bounced")
    unsuppressed_by: QuotedName | None = Field(default=None, description="The actor of the mail.unsuppress")
    times_suppressed: Count = Field(default=1, description="How often the account suppressed it so far")


@message_type("mail.rejected", topic=topics.MAIL_EVENTS, key="invoice_id")
class MailCommandRejected(CommandRejected):
    """`invoice_id` is the refused command's key: its invoice's id, or for a mail.unsuppress the
    address (also in `address`), so the answer is on the command's partition."""

    invoice_id: QuotedName
    address: EmailAddress | None = Field(default=None, description="The address a refused mail.unsuppress names")
