"""The mailer's composing processes: a mail composed in a worker is the mail composed on the
event loop, and the pool starts again after the delivery loop closed it (a restart after a failure)."""

from datetime import UTC, datetime

from services.mailer.delivery import Composer, compose
from services.mailer.domain.mail_job import MailJob
from tests.unit.mailer.factories import invoice

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def job() -> MailJob:
    return MailJob.queue(mail_id="mail_1", account_id="acct_1", invoice_id="inv_1", kind="invoice", language="en",
                         attach_pdf=True, invoice=invoice(), to=["ap@globex.example"], cc=[], suppressed=set(),
                         cause={"ce_id": "cmd"}, now=NOW)


async def test_a_worker_composes_the_same_mail_and_the_pool_starts_again_after_a_close():
    composer = Composer(1)
    try:
        message, message_id = await composer.compose(job(), NOW)
        expected, expected_id = compose(job(), NOW)
        assert message_id == expected_id
        assert message["Subject"] == expected["Subject"]
        assert [p.get_content_type() for p in message.walk()] == [p.get_content_type() for p in expected.walk()]
        composer.close()
        again, _ = await composer.compose(job(), NOW)
        assert again["Message-ID"] == message["Message-ID"]
    finally:
        composer.close()
