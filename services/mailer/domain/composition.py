"""Composing a mail about an invoice or a credit note: subject, text and HTML body in the
customer's language, headers. Both documents go through the same functions; only the facts a mail
states and its texts depend on its kind.

Names, memos and invoice numbers come from users. In headers they are reduced to one line and
left to the email package's header encoding (RFC 2047, quoted display names), so nobody can
smuggle in a Bcc: line; in HTML every value is escaped. Pure: no I/O.
"""

import html
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from typing import Annotated, Any

from pydantic import Discriminator, Tag

from contracts.messages.common import InvoiceSnapshot, Issuer
from contracts.messages.credit_notes import CreditNoteSnapshot
from contracts.messages.mail import MailKind
from contracts.money import format_amount
from contracts.references import format_in_groups
from services.mailer.domain.translations import Texts, texts_for

# C0/C1 controls and Unicode line separators: anything a mail client could treat as a line break.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")
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


def single_line(text: str) -> str:
    return " ".join(_CONTROLS.sub(" ", text).split())


def money(amount: int, currency: str) -> str:
    return f"{format_amount(amount, currency)} {currency}"


def local_date(value: date | datetime, texts: Texts) -> str:
    return value.strftime(texts.date_format)


def document_number(document: MailDocument, texts: Texts) -> str:
    return document.number or texts.draft


def document_filename(document: MailDocument) -> str:
    return f"{_UNSAFE_FILENAME.sub('_', document.number or document.id)}.pdf"


def asks_for_payment(kind: MailKind) -> bool:
    return kind in ("invoice", "reminder")


def facts(document: MailDocument, kind: MailKind, texts: Texts) -> list[tuple[str, str]]:
    """The label/value pairs a mail of this kind states about its document."""
    if isinstance(document, CreditNoteSnapshot):
        return _credit_note_facts(document, texts)
    invoice = document
    rows = [(texts.number, document_number(invoice, texts))]
    if kind == "receipt":
        rows.append((texts.amount_paid, money(invoice.amount_paid, invoice.currency)))
        if invoice.paid_at:
            rows.append((texts.paid_on, local_date(invoice.paid_at, texts)))
    elif asks_for_payment(kind):
        if invoice.amount_paid:
            rows.append((texts.total, money(invoice.amount_due, invoice.currency)))
            rows.append((texts.amount_paid, money(invoice.amount_paid, invoice.currency)))
        rows.append((texts.amount_outstanding, money(invoice.amount_remaining, invoice.currency)))
        if invoice.due_date:
            rows.append((texts.due_date, local_date(invoice.due_date, texts)))
        if invoice.payee_iban:
            rows.append((texts.iban, format_in_groups(invoice.payee_iban)))
        if invoice.payment_reference:
            rows.append((texts.reference, format_in_groups(invoice.payment_reference)))
    return rows


def _credit_note_facts(note: CreditNoteSnapshot, texts: Texts) -> list[tuple[str, str]]:
    rows = [(texts.credit_note_number, document_number(note, texts)), (texts.number, note.invoice_number),
            (texts.amount_credited, money(note.total, note.currency))]
    for label, amount in ((texts.refunded, note.refund_amount), (texts.credited_to_balance, note.customer_balance_amount)):
        if amount:
            rows.append((label, money(amount, note.currency)))
    return rows


def render_content(document: MailDocument, issuer: Issuer, kind: MailKind, language: str) -> MailContent:
    texts = texts_for(language)
    company = single_line(issuer.company_name)
    fields = {"number": single_line(document_number(document, texts)), "company": company,
              "invoice": single_line(getattr(document, "invoice_number", ""))}  # the invoice a credit note corrects
    greeting = texts.greeting.format(customer=single_line(document.customer.name))
    intro = texts.intros[kind].format(**fields)
    instruction = texts.payment_instruction if asks_for_payment(kind) and document.payee_iban else ""
    rows = facts(document, kind, texts)
    memo = document.memo.strip()

    text_blocks = [greeting, intro, instruction, "\n".join(f"{label}: {value}" for label, value in rows), memo]
    text = "\n\n".join(block for block in text_blocks if block) + f"\n\n{texts.closing}\n{company}\n"

    e = html.escape
    table = "".join(f"<tr><th align=\"left\">{e(label)}</th><td>{e(value)}</td></tr>" for label, value in rows)
    html_blocks = [greeting, intro, instruction]
    html_body = (
        "<!DOCTYPE html><html><body>"
        + "".join(f"<p>{e(block)}</p>" for block in html_blocks if block)
        + f"<table>{table}</table>"
        + (f"<p>{e(memo).replace(chr(10), '<br>')}</p>" if memo else "")
        + f"<p>{e(texts.closing)}<br>{e(company)}</p></body></html>"
    )
    return MailContent(subject=single_line(texts.subjects[kind].format(**fields)), text=text, html=html_body)


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
    message = MIMEMultipart("alternative", _boundary(), [MIMEText(content.text, "plain", _UTF8_QP),
                                                         MIMEText(content.html, "html", _UTF8_QP)])
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
