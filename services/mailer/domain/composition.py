"""Composing a mail about an invoice or a credit note: subject, text and HTML body in the
customer's language, headers. Both documents go through the same functions; only the facts a mail
states and its texts depend on its kind. What the mail says is decided here (its texts, or the
account's own with their placeholders filled in; the link; how to pay, with the transfer QR code);
how it looks, in layout.

Names, memos and invoice numbers come from users. In headers they are reduced to one line and
left to the email package's header encoding (RFC 2047, quoted display names), so nobody can
smuggle in a Bcc: line; in HTML every value is escaped. Pure: no I/O.
"""

import io
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from functools import lru_cache
from typing import Annotated, Any

from pydantic import Discriminator, Tag

from contracts.messages.common import InvoiceSnapshot, Issuer
from contracts.messages.credit_notes import CreditNoteSnapshot
from contracts.messages.mail import MailKind, MailText
from contracts.references import format_in_groups
from documents import user_text
from documents.epc_qr import TransferRequest, epc_qr, transfer_request
from documents.locale import long_date, money
from services.mailer.domain.layout import Action, InlineImage, MailBody, Transfer, html_part, text_part
from services.mailer.domain.translations import Texts, texts_for

# C0/C1 controls and Unicode line separators: anything a mail client could treat as a line break.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")
_BLANK_LINES = re.compile(r"\n[ \t]*\n")
_QR_WIDTH = 180  # CSS pixels: large enough for a phone camera held to a screen, small beside the text
_MESSAGE_ID_NAMESPACE = uuid.UUID("0b6f4d52-93a4-4b8e-8f0e-5a7d2c1e9b34")
# Text parts in quoted-printable: readable on the wire, unlike base64 (compat32's default for UTF-8).
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP


def _document_type(value: Any) -> str:
    if isinstance(value, dict):
        return "credit_note" if "invoice_number" in value else "invoice"
    return "credit_note" if isinstance(value, CreditNoteSnapshot) else "invoice"


# What a mail is about and attaches: told apart by what only a credit note has (the invoice it corrects).
MailDocument = Annotated[Annotated[InvoiceSnapshot, Tag("invoice")] | Annotated[CreditNoteSnapshot, Tag("credit_note")],
                         Discriminator(_document_type)]


@dataclass(frozen=True)
class MailContent:
    subject: str
    text: str
    html: str
    images: tuple[InlineImage, ...] = ()  # the HTML part's, by Content-ID


def single_line(text: str) -> str:
    return " ".join(_CONTROLS.sub(" ", text).split())


def local_date(value: date | datetime, language: str) -> str:
    return long_date(value.date() if isinstance(value, datetime) else value, language)


def document_number(document: MailDocument, texts: Texts) -> str:
    return document.number or texts.draft


def document_filename(document: MailDocument) -> str:
    return f"{_UNSAFE_FILENAME.sub('_', document.number or document.id)}.pdf"


def asks_for_payment(kind: MailKind) -> bool:
    return kind in ("invoice", "reminder")


def owes(document: MailDocument, kind: MailKind) -> InvoiceSnapshot | None:
    """The invoice when the mail asks for a payment and something is still owed."""
    if isinstance(document, InvoiceSnapshot) and asks_for_payment(kind) and document.amount_remaining > 0:
        return document
    return None


def facts(document: MailDocument, kind: MailKind, texts: Texts, language: str) -> list[tuple[str, str]]:
    """The label/value pairs a mail of this kind states about its document (how to pay: transfer())."""
    if isinstance(document, CreditNoteSnapshot):
        return _credit_note_facts(document, texts, language)
    invoice = document
    rows = [(texts.number, document_number(invoice, texts))]
    if kind == "receipt":
        rows.append((texts.amount_paid, money(invoice.amount_paid, invoice.currency, language)))
        if invoice.paid_at:
            rows.append((texts.paid_on, local_date(invoice.paid_at, language)))
    elif asks_for_payment(kind):
        if invoice.amount_paid:
            rows.append((texts.total, money(invoice.amount_due, invoice.currency, language)))
            rows.append((texts.amount_paid, money(invoice.amount_paid, invoice.currency, language)))
        rows.append((texts.amount_outstanding, money(invoice.amount_remaining, invoice.currency, language)))
        if invoice.due_date:
            rows.append((texts.due_date, local_date(invoice.due_date, language)))
    return rows


def _credit_note_facts(note: CreditNoteSnapshot, texts: Texts, language: str) -> list[tuple[str, str]]:
    rows = [(texts.credit_note_number, document_number(note, texts)), (texts.number, note.invoice_number),
            (texts.amount_credited, money(note.total, note.currency, language))]
    for label, amount in ((texts.refunded, note.refund_amount), (texts.credited_to_balance, note.customer_balance_amount)):
        if amount:
            rows.append((label, money(amount, note.currency, language)))
    return rows


def transfer(document: MailDocument, kind: MailKind, texts: Texts, language: str) -> Transfer | None:
    """How to pay by bank transfer, while the mail asks for a payment: the rows in every mail, and
    in the HTML one the EPC QR code carrying them when the scheme applies (euros, an RF reference)."""
    invoice = owes(document, kind)
    if invoice is None or not invoice.payee_iban:
        return None
    amount = money(invoice.amount_remaining, invoice.currency, language)
    rows = [(texts.payee, single_line(invoice.issuer.company_name)), (texts.iban, format_in_groups(invoice.payee_iban))]
    if invoice.payee_bic:
        rows.append((texts.bic, invoice.payee_bic))
    rows.append((texts.amount, amount))
    if invoice.payment_reference:
        rows.append((texts.reference, format_in_groups(invoice.payment_reference)))
    request = transfer_request(invoice)
    if request is None:
        return Transfer(texts.transfer_heading, rows)
    qr = InlineImage(content_id=f"transfer-qr.{invoice.id}@{_ascii_domain(invoice.issuer.email.rsplit('@', 1)[1])}",
                     filename="transfer-qr.png", png=_qr_png(request), width=_QR_WIDTH,
                     alt=texts.qr_alt.format(amount=amount, payee=request.payee))
    return Transfer(texts.transfer_heading, rows, qr, texts.qr_caption)


@lru_cache(maxsize=256)
def _qr_png(request: TransferRequest) -> bytes:
    """At twice the size it is shown at, for sharp screens. Remembered: making it costs more than
    the rest of a mail, and an invoice's mails and retries ask for the same code."""
    png = io.BytesIO()
    code = epc_qr(request)
    code.save(png, kind="png", scale=2 * _QR_WIDTH // code.symbol_size(scale=1)[0] or 1, border=4)
    return png.getvalue()


def placeholder_values(document: MailDocument, texts: Texts, language: str, hosted_url: str | None) -> dict[str, str]:
    """What an account's own texts fill in (contracts.mail_texts lists them), formatted in the mail's language."""
    values = {"number": single_line(document_number(document, texts)),
              "company_name": single_line(document.issuer.company_name if document.issuer else ""),
              "customer_name": single_line(document.customer.name),
              "total": money(document.total, document.currency, language), "hosted_url": hosted_url or ""}
    if isinstance(document, CreditNoteSnapshot):
        return {**values, "invoice_number": single_line(document.invoice_number)}
    return {**values, "invoice_number": values["number"],
            "amount_due": money(document.amount_due, document.currency, language),
            "amount_paid": money(document.amount_paid, document.currency, language),
            "amount_remaining": money(document.amount_remaining, document.currency, language),
            "due_date": local_date(document.due_date, language) if document.due_date else ""}


def _filled(template: str, values: dict[str, str]) -> str:
    # The contract let through only plain {name} placeholders (contracts.mail_texts): nothing else to evaluate.
    return template.format_map(values)


def _own_paragraphs(body: str) -> list[str]:
    """An account's body as paragraphs, split at blank lines, each line as text (no markup from users)."""
    return ["\n".join(user_text.paragraphs(block)) for block in _BLANK_LINES.split(body.strip()) if block.strip()]


def action(document: MailDocument, kind: MailKind, texts: Texts, hosted_url: str | None) -> Action | None:
    if hosted_url is None:
        return None
    if isinstance(document, CreditNoteSnapshot):
        return Action(texts.view_credit_note, hosted_url)
    return Action(texts.pay_action if owes(document, kind) else texts.view_invoice, hosted_url)


def render_content(document: MailDocument, issuer: Issuer, kind: MailKind, language: str, *, attached: bool = True,
                   hosted_url: str | None = None, wording: MailText | None = None) -> MailContent:
    """The mail in `language`: the platform's texts, or the account's own `wording` for what it
    overrides (a body replaces the greeting, the message and the closing; the facts, the link, how
    to pay and the footer stay: they are what the mail is for)."""
    texts = texts_for(language)
    company = single_line(issuer.company_name)
    fields = {"number": single_line(document_number(document, texts)), "company": company,
              "invoice": single_line(getattr(document, "invoice_number", ""))}  # the invoice a credit note corrects
    document_type = "credit_note" if isinstance(document, CreditNoteSnapshot) else "invoice"
    how_to_pay = transfer(document, kind, texts, language)
    intro = texts.intros[kind].format(**fields)
    where = texts.attached[document_type] if attached else texts.on_page[document_type] if hosted_url else ""
    paragraphs = [texts.greeting.format(customer=single_line(document.customer.name)), f"{intro} {where}".strip(),
                   texts.payment_instruction if how_to_pay else ""]
    signature = [texts.closing, company]
    subject = single_line(texts.subjects[kind].format(**fields))
    if wording is not None:
        # The account's text made plain text first, then filled in: the values are ours, formatted
        # (a no-break space in "270,25 €" stays one).
        values = placeholder_values(document, texts, language, hosted_url)
        if wording.subject:
            subject = _filled(single_line(wording.subject), values)
        if wording.body:
            paragraphs, signature = [_filled(paragraph, values) for paragraph in _own_paragraphs(wording.body)], []
    body = MailBody(
        language=language, title=subject, preheader=intro, company=company,
        paragraphs=[paragraph for paragraph in paragraphs if paragraph],
        facts=facts(document, kind, texts, language), action=action(document, kind, texts, hosted_url),
        transfer=how_to_pay, memo=user_text.paragraphs(document.memo.strip()) if document.memo.strip() else [],
        signature=signature, footer=_footer(issuer),
    )
    qr = how_to_pay.qr if how_to_pay else None
    return MailContent(subject=subject, text=text_part(body), html=html_part(body), images=(qr,) if qr else ())


def _footer(issuer: Issuer) -> list[str]:
    address = issuer.address
    lines = [issuer.company_name, address.line1, address.line2,
             " ".join(part for part in (address.postal_code, address.city) if part), address.country]
    return [single_line(line) for line in lines if line.strip()]


def message_id(account_id: str, mail_id: str, sender: str) -> str:
    """Stable per mail, so a retried delivery carries the same Message-ID and receivers can dedupe."""
    domain = _ascii_domain(sender.rsplit("@", 1)[1])
    return f"<{uuid.uuid5(_MESSAGE_ID_NAMESPACE, f'{account_id}/{mail_id}').hex}@{domain}>"


def build_message(
    document: MailDocument,
    issuer: Issuer,
    content: MailContent,
    *,
    to: list[str],
    cc: list[str],
    message_id: str,
    sent_at: datetime,
    pdf: bytes | None,
) -> Message:
    """The mail, built with the email package's compat32 classes (and written by its compat32
    generator, as aiosmtplib does): the default policy parses every header it is given and every
    header of every part, which cost more than the rest of sending."""
    html_alternative: Message = MIMEText(content.html, "html", _UTF8_QP)
    if content.images:
        # The HTML and the images it shows by cid: (RFC 2387), as one alternative to the text.
        html_alternative = MIMEMultipart("related", _boundary(), [html_alternative, *map(_inline, content.images)])
    message = MIMEMultipart("alternative", _boundary(), [MIMEText(content.text, "plain", _UTF8_QP), html_alternative])
    if pdf is not None:
        attachment = MIMEApplication(pdf, "pdf")
        attachment.add_header("Content-Disposition", "attachment", filename=document_filename(document))
        message = MIMEMultipart("mixed", _boundary(), [message, attachment])
    customer = single_line(document.customer.name)
    mailboxes = {
        "From": [(single_line(issuer.company_name), issuer.email)],
        "Reply-To": [("", issuer.reply_to or issuer.email)],
        "To": [(customer, address) for address in to],
        "Cc": [("", address) for address in cc],
    }
    for name, boxes in mailboxes.items():
        if boxes:
            message[name] = _mailboxes(name, boxes)
    message["Subject"] = Header(content.subject, None if content.subject.isascii() else "utf-8", header_name="Subject")
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = message_id
    # RFC 3834: tells vacation responders and ticket systems not to answer a machine.
    message["Auto-Submitted"] = "auto-generated"
    return message


def _inline(image: InlineImage) -> MIMEImage:
    part = MIMEImage(image.png, "png")
    part["Content-ID"] = f"<{image.content_id}>"
    part.add_header("Content-Disposition", "inline", filename=image.filename)
    return part


def _boundary() -> str:
    """A multipart boundary that no part can contain: "=_" occurs neither in quoted-printable nor
    in base64 text. (Left to it, the email package searches the parts for a free one, compiling a
    regular expression for every mail.)"""
    return f"=_{uuid.uuid4().hex}"


def _mailboxes(name: str, boxes: list[tuple[str, str]]) -> Header:
    """An address header: names with specials quoted, names outside ASCII encoded per RFC 2047
    (a long one in several encoded words, each short enough for a header line), domains in IDNA
    form, which needs no SMTPUTF8 (local parts are ASCII: the contracts refuse others)."""
    header = Header(header_name=name)
    for index, (display_name, address) in enumerate(boxes):
        local, domain = address.rsplit("@", 1)
        address = f"{local}@{_ascii_domain(domain)}"
        separator = "," if index < len(boxes) - 1 else ""
        if display_name.isascii():
            header.append(formataddr((display_name, address)) + separator)
        else:
            header.append(display_name, "utf-8")
            header.append(f"<{address}>{separator}")
    return header


def _ascii_domain(domain: str) -> str:
    return domain.encode("idna").decode("ascii")
