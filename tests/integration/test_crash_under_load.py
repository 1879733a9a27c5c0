"""A kill -9 of each service in the middle of a run of many lifecycles loses and duplicates nothing:
every lifecycle ends paid, with one `invoice.sent`, one email Message-ID and a number of its own
in a gapless series."""

import asyncio
import re
import uuid

import httpx

from bench.lifecycles import LifecycleDriver
from services.mailer.domain.composition import message_id
from tests.integration.factories import configure_account
from tests.integration.harness import SERVICES, env

SENDER = configure_account("acct").sender_email
LIFECYCLES = 240
ACCOUNTS = 4


async def test_killing_each_service_mid_run_loses_and_duplicates_nothing(services, producer, event_log,
                                                                         smtp_catcher_url):
    accounts = [f"acct_{uuid.uuid4().hex[:12]}" for _ in range(ACCOUNTS)]
    for account in accounts:
        await producer.send(configure_account(account), account_id=account)
    for account in accounts:
        await event_log.wait_for_type("account.configured", account)
    driver = LifecycleDriver(env("KAFKA_BOOTSTRAP_SERVERS"))
    await driver.start()
    try:
        # Lifecycles arrive over the whole run, so every kill lands among messages in flight.
        run = asyncio.create_task(driver.run(accounts, LIFECYCLES, rate=LIFECYCLES / 16, timeout=240))
        for service in SERVICES:
            await asyncio.sleep(3)
            services.kill(service)
            services.start(service)
            await asyncio.to_thread(services.wait_ready, service)
        lifecycles = await run
    finally:
        await driver.stop()

    assert [lc.invoice_id for lc in lifecycles if not lc.done] == []
    assert [lc.invoice_id for lc in lifecycles if lc.mails != 1] == []
    for account in accounts:
        numbers = sorted(int(re.sub(r"\D", "", lc.number)[-5:]) for lc in lifecycles if lc.account_id == account)
        assert numbers == list(range(1, len(numbers) + 1)), f"{account}: {numbers}"
    # SMTP is at-least-once: a mailer killed between the relay's accept and the recorded attempt
    # sends that one mail again, under the same Message-ID; every lifecycle's mail arrived.
    delivered = {mail.get("message_id") for mail in httpx.get(f"{smtp_catcher_url}/messages", timeout=10).json()}
    expected = {message_id(lc.account_id, lc.mail_ids[0], SENDER) for lc in lifecycles}
    assert expected <= delivered, f"{len(expected - delivered)} emails never reached the relay"
