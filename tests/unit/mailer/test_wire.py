"""A mail serialized once for SMTP (adapters.wire): the very bytes aiosmtplib's send_message
would have sent for it (flattened by the email package's compat32 generator, line endings made
CRLF), for every kind of mail the mailer composes."""

from datetime import UTC, datetime

import pytest
from aiosmtplib.email import flatten_message
from aiosmtplib.protocol import normalize_message_line_endings

from documents import render_document
from services.mailer.adapters.wire import wire_bytes
from services.mailer.delivery import compose
from services.mailer.domain.mail_job import MailJob
from services.mailer.domain.notice import Undelivered, UndeliveredNotice, build_notice
from tests.unit.mailer.factories import credit_note, invoice

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
LONG_NAME = "Łukasz Żółć und Söhne Maschinenbau Gesellschaft mit beschränkter Haftung & Co. KG, Zürich"


def job(document, kind="invoice", language="en", to=("ap@globex.example",), cc=(), attach_pdf=True) -> MailJob:
    return MailJob.queue(mail_id="mail_1", account_id="acct_1", invoice_id="inv_1", kind=kind, language=language,
                         attach_pdf=attach_pdf, document=document, to=list(to), cc=list(cc), suppressed=set(),
                         cause={}, now=NOW, hosted_url="https://pay.example/i/inv_1/t")


def sent_by_aiosmtplib(message) -> bytes:
    return normalize_message_line_endings(flatten_message(message))


@pytest.mark.parametrize("mail", [
    job(invoice()),
    job(invoice(customer={"name": LONG_NAME, "email": ["ap@globex.example"]}), language="de",
        to=("ap@globex.example", "cfo@globex.example"), cc=("audit@globex.example",)),
    job(invoice(memo="From the first of April on,\nFrom now: a line a mail reader could take for a separator.\r\n"
                     ". a line starting with a period"), kind="reminder", language="fr"),
    job(invoice(issuer={"company_name": "Bücher AG", "email": "billing@bücher.example"}), to=("ap@zürich.example",)),
    job(invoice(status="paid", amount_paid=27025, amount_remaining=0), kind="receipt", attach_pdf=False),
    job(credit_note(), kind="credit_note", language="it"),
], ids=["invoice with its PDF and QR code", "long non-ASCII names, several recipients", "memo lines From and CRLF",
        "international domains", "receipt without document", "credit note"])
def test_a_mail_is_the_bytes_aiosmtplib_would_have_sent(mail):
    pdf = render_document(mail.document, mail.document.issuer, mail.language) if mail.attach_pdf else None
    message, _ = compose(mail, NOW, pdf)
    wire = wire_bytes(message)
    assert wire == sent_by_aiosmtplib(message)
    assert wire.endswith(b"\r\n") and b"\n" not in wire.replace(b"\r\n", b"")


def test_a_notice_is_the_bytes_aiosmtplib_would_have_sent():
    notice = UndeliveredNotice(mail_id="mail_1", kind="invoice",
                               undelivered=[Undelivered(recipient="ap@globex.example", why="bounced",
                                                        diagnostic="550 5.1.1 user unknown")])
    message, _ = build_notice(notice, invoice(), account_id="acct_1", notice_id="notice-1", to="owner@acme.example",
                              language="de", sent_at=NOW)
    assert wire_bytes(message) == sent_by_aiosmtplib(message)
