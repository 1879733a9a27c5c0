"""The mailer's SMTP adapter against the real SMTP catcher: kept connections and their recovery.

The catcher names each stored message's client address and port (`peer`), so messages sent
over one connection share it; it closes the connection after acknowledging a mail to
`hangup*`, as a relay does at its idle timeout or when restarting.
"""

import uuid
from email.mime.text import MIMEText

import httpx
import pytest

from services.mailer.adapters.smtp import SmtpRelay
from services.mailer.settings import MailerSettings
from tests.integration.harness import env

SENDER = "billing@acme.example"


def mail(to: str) -> MIMEText:
    # The email package's compat32 classes, as the mailer composes its mails.
    message = MIMEText("Hello")
    message["From"] = SENDER
    message["To"] = to
    message["Subject"] = "Invoice"
    return message


def address(local: str) -> str:
    return f"{local}-{uuid.uuid4().hex[:8]}@example.com"


@pytest.fixture
async def relay():
    relay = SmtpRelay(MailerSettings(smtp_host=env("SMTP_HOST"), smtp_port=int(env("SMTP_PORT")),
                                     concurrency=2))
    yield relay
    await relay.close()


async def send(relay: SmtpRelay, *recipients: str):
    return await relay.deliver(mail(recipients[0]), sender=SENDER, recipients=list(recipients))


def peer_of(smtp_catcher_url: str, recipient: str) -> str:
    [entry] = [entry for entry in httpx.get(f"{smtp_catcher_url}/messages").json() if recipient in entry["rcpt_tos"]]
    return entry["peer"]


async def test_messages_one_after_the_other_share_one_connection(relay, smtp_catcher_url):
    recipients = [address("reuse") for _ in range(3)]
    for recipient in recipients:
        assert (await send(relay, recipient)).accepted == (recipient,)

    assert len({peer_of(smtp_catcher_url, recipient) for recipient in recipients}) == 1


async def test_a_refused_transaction_leaves_the_connection_clean_for_the_next_message(relay, smtp_catcher_url):
    first, bounced, tempfailed, after = address("first"), address("bounce"), address("tempfail"), address("after")
    await send(relay, first)

    report = await send(relay, bounced)
    assert report.refused[bounced].code == 550 and report.refused_at_recipient
    report = await send(relay, tempfailed, after)
    assert report.accepted == (after,) and report.refused[tempfailed].code == 451

    # The refused recipients left nothing behind (RSET): the next mail goes to its own recipient only.
    last = address("last")
    assert (await send(relay, last)).accepted == (last,)
    listing = httpx.get(f"{smtp_catcher_url}/messages").json()
    assert [entry["rcpt_tos"] for entry in listing if last in entry["rcpt_tos"]] == [[last]]
    assert peer_of(smtp_catcher_url, last) == peer_of(smtp_catcher_url, first)


async def test_a_connection_the_relay_closed_is_replaced_without_failing_the_next_message(relay, smtp_catcher_url):
    hangup, after = address("hangup"), address("after")
    assert (await send(relay, hangup)).accepted == (hangup,)

    # Whether or not the mailer noticed the close before it sends again, the mail goes through.
    assert (await send(relay, after)).accepted == (after,)
    assert peer_of(smtp_catcher_url, after) != peer_of(smtp_catcher_url, hangup)

    again = address("again")
    assert (await send(relay, again)).accepted == (again,)
    assert peer_of(smtp_catcher_url, again) == peer_of(smtp_catcher_url, after)


async def test_an_unreachable_relay_is_temporary_and_bounces_nobody():
    settings = MailerSettings(smtp_host="127.0.0.1", smtp_port=1, smtp_timeout_seconds=5)
    recipient = address("ap")
    report = await SmtpRelay(settings).deliver(mail(recipient), sender=SENDER, recipients=[recipient])

    assert report.accepted == () and report.refused[recipient].code is None
    assert not report.refused_at_recipient
