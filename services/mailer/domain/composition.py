"""Composing an invoice mail: subject, text and HTML body in the customer's language, headers.

Names, memos and invoice numbers come from users. In headers they are reduced to one line and
left to the email package's header encoding (RFC 2047, quoted display names), so nobody can
smuggle in a Bcc: line; in HTML every value is escaped. Pure: no I/O.
"""

import html
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from contracts.messages.common import InvoiceSnapshot, Issuer
from contracts.messages.mail import MailKind
from contracts.money import format_amount
from contracts.references import format_in_groups
from services.mailer.domain.translations import Texts, texts_for

# C0/C1 controls and Unicode line separators: anything a mail client could treat as a line break.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")
_MESSAGE_ID_NAMESPACE = uuid.UUID("0b6f4d52-93a4-4b8e-8f0e-5a7d2c1e9b34")


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


def invoice_number(invoice: InvoiceSnapshot, texts: Texts) -> str:
    return invoice.number or texts.draft


def document_filename(invoice: InvoiceSnapshot) -> str:
    return f"{_UNSAFE_FILENAME.sub('_', invoice.number or invoice.id)}.pdf"


def asks_for_payment(kind: MailKind) -> bool:
    return kind in ("invoice", "reminder")


def facts(invoice: InvoiceSnapshot, kind: MailKind, texts: Texts) -> list[tuple[str, str]]:
    """The label/value pairs a mail of this kind states about the invoice."""
    rows = [(texts.number, invoice_number(invoice, texts))]
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


def render_content(invoice: InvoiceSnapshot, issuer: Issuer, kind: MailKind, language: str) -> MailContent:
    texts = texts_for(language)
    company = single_line(issuer.company_name)
    fields = {"number": single_line(invoice_number(invoice, texts)), "company": company}
    greeting = texts.greeting.format(customer=single_line(invoice.customer.name))
    intro = texts.intros[kind].format(**fields)
    instruction = texts.payment_instruction if asks_for_payment(kind) and invoice.payee_iban else ""
    rows = facts(invoice, kind, texts)
    memo = invoice.memo.strip()

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
    domain = sender.rsplit("@", 1)[1].encode("idna").decode("ascii")
    return f"<{uuid.uuid5(_MESSAGE_ID_NAMESPACE, f'{account_id}/{mail_id}').hex}@{domain}>"


def build_message(
    invoice: InvoiceSnapshot,
    issuer: Issuer,
    content: MailContent,
    *,
    to: list[str],
    cc: list[str],
    message_id: str,
    sent_at: datetime,
    pdf: bytes | None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = Address(display_name=single_line(issuer.company_name), addr_spec=issuer.email)
    message["Reply-To"] = Address(addr_spec=issuer.reply_to or issuer.email)
    customer = single_line(invoice.customer.name)
    if to:
        message["To"] = [Address(display_name=customer, addr_spec=address) for address in to]
    if cc:
        message["Cc"] = [Address(addr_spec=address) for address in cc]
    message["Subject"] = content.subject
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = message_id
    # RFC 3834: tells vacation responders and ticket systems not to answer a machine.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(content.text)
    message.add_alternative(content.html, subtype="html")
    if pdf is not None:
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename=document_filename(invoice))
    return message
