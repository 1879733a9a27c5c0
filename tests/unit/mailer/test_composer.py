"""The mailer's documents: rendered in a worker process, the same mail as composed in-process, and
rendered once per document however many mails, reminders, tries and invoice versions attach it."""

from datetime import UTC, datetime, timedelta

from documents import render_document
from documents.rendering import DocumentRenderer
from services.mailer.delivery import compose
from services.mailer.domain.mail_job import MailJob
from tests.unit.mailer.factories import invoice

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def job(mail_id: str = "mail_1", kind: str = "invoice", **changes) -> MailJob:
    return MailJob.queue(mail_id=mail_id, account_id="acct_1", invoice_id="inv_1", kind=kind, language="en",
                         attach_pdf=True, document=invoice(**changes), to=["ap@globex.example"], cc=[], suppressed=set(),
                         cause={"ce_id": "cmd"}, now=NOW)


async def test_a_worker_renders_the_document_once_for_every_mail_reminder_and_try_that_prints_it():
    renderer = DocumentRenderer(1)
    try:
        first = job()
        pdf = await renderer.document(first.document, first.document.issuer, "en")
        message, message_id = compose(first, NOW, pdf)
        expected, expected_id = compose(first, NOW, render_document(first.document, first.document.issuer, "en"))
        assert message_id == expected_id
        assert [p.get_content_type() for p in message.walk()] == [p.get_content_type() for p in expected.walk()]
        assert pdf.startswith(b"%PDF-")

        # A resend of the version sent; a retried try of the first; a resend and a reminder of the
        # versions that recorded the send and the reminder asked for (nothing printed changed).
        resend = job("mail_2")
        sent = job("mail_3", version=4, last_sent_at=NOW)
        reminder = job("mail_4", kind="reminder", version=5, last_sent_at=NOW + timedelta(days=10))
        for again in (resend, first, sent, reminder):
            assert await renderer.document(again.document, again.document.issuer, "en") == pdf
        assert renderer.renders == 1

        partly_paid = job("mail_5", version=6, amount_paid=10000, amount_remaining=17025)
        await renderer.document(partly_paid.document, partly_paid.document.issuer, "en")
        await renderer.document(partly_paid.document, partly_paid.document.issuer, "de")
        assert renderer.renders == 3
    finally:
        renderer.close()
