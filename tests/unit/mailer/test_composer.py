"""The mailer's documents: rendered in a worker process, the same mail as composed in-process, and
rendered once per invoice version however many mails and tries attach it."""

from datetime import UTC, datetime

from documents import render_document
from documents.rendering import DocumentRenderer
from services.mailer.delivery import compose
from services.mailer.domain.mail_job import MailJob
from tests.unit.mailer.factories import invoice

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def job(mail_id: str = "mail_1", **changes) -> MailJob:
    return MailJob.queue(mail_id=mail_id, account_id="acct_1", invoice_id="inv_1", kind="invoice", language="en",
                         attach_pdf=True, document=invoice(**changes), to=["ap@globex.example"], cc=[], suppressed=set(),
                         cause={"ce_id": "cmd"}, now=NOW)


async def test_a_worker_renders_the_document_once_for_every_mail_and_try_of_one_invoice_version():
    renderer = DocumentRenderer(1)
    try:
        first = job()
        pdf = await renderer.document(first.document, first.document.issuer, "en")
        message, message_id = compose(first, NOW, pdf)
        expected, expected_id = compose(first, NOW, render_document(first.document, first.document.issuer, "en"))
        assert message_id == expected_id
        assert [p.get_content_type() for p in message.walk()] == [p.get_content_type() for p in expected.walk()]
        assert pdf.startswith(b"%PDF-")

        resend = job("mail_2")  # another mail (a resend), and a retried try of the first
        for again in (resend, first):
            assert await renderer.document(again.document, again.document.issuer, "en") == pdf
        assert renderer.renders == 1

        newer = job("mail_3", version=5)
        await renderer.document(newer.document, newer.document.issuer, "en")
        await renderer.document(newer.document, newer.document.issuer, "de")
        assert renderer.renders == 3
    finally:
        renderer.close()
