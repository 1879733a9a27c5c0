"""The invoice clock on the real stack: past due on time and once, reminders on the account's
schedule, none for settled invoices, also across a restart and with two instances running.

Tests move each test account's time forward (INVOICES_CLOCK_OFFSETS_FILE, like Stripe's test
clocks) instead of waiting for due dates; every other account keeps the real time.
"""

import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

from contracts.messages.invoices import (
    FinalizeInvoice,
    InvoiceChanges,
    MarkInvoicePaid,
    MarkInvoiceUncollectible,
    UpdateInvoice,
    VoidInvoice,
)
from tests.integration.factories import configure_account, create_invoice
from tests.integration.harness import REPO, env, service_environment, stored_invoice

SCHEDULE = [-3, 1, 7]


def day_start(day: date, days: int = 0, hours: int = 0) -> datetime:
    day = day + timedelta(days=days)
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hours)


async def open_invoices(producer, event_log, account_id, count=1) -> list[tuple[str, date]]:
    """Finalized invoices of an account reminding on SCHEDULE, with their due dates."""
    await producer.send(configure_account(account_id, reminder_schedule=SCHEDULE), account_id=account_id)
    await event_log.wait_for_type("account.configured", account_id)
    opened = []
    for _ in range(count):
        invoice_id = f"inv_{uuid.uuid4().hex[:16]}"
        await producer.send(create_invoice(invoice_id, days_until_due=14), account_id=account_id)
        await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
        finalized = await event_log.wait_for_type("invoice.finalized", invoice_id)
        opened.append((invoice_id, date.fromisoformat(finalized.data["invoice"]["due_date"])))
    return opened


async def handled_so_far(producer, event_log, account_id, invoice_id) -> None:
    """Everything on the invoice's partition before this point is handled: a memo update after it
    is answered in order."""
    command = await producer.send(UpdateInvoice(invoice_id=invoice_id, changes=InvoiceChanges(memo=uuid.uuid4().hex)),
                                  account_id=account_id)
    await event_log.wait_for(lambda r: r.caused_by(command), timeout=60)


def distinct(event_log, type_name: str, invoice_id: str) -> list:
    """The messages of a type about an invoice, once each: a copy published again after a crash
    (the outbox relay) has the same id, and consumers drop it."""
    return list({r.headers["ce_id"]: r for r in event_log.of_type(type_name, invoice_id)}.values())


def reminders(event_log, invoice_id) -> list[int]:
    return [r.data["days_relative_to_due"] for r in distinct(event_log, "mail.send_reminder", invoice_id)]


async def test_past_due_once_and_reminders_on_the_accounts_schedule(
        services, producer, event_log, account_id, test_clock):
    [(invoice_id, due)] = await open_invoices(producer, event_log, account_id)

    test_clock.move_to(account_id, day_start(due, -3, hours=2))
    reminder = await event_log.wait_for_type("mail.send_reminder", invoice_id)
    assert reminder.data["days_relative_to_due"] == -3 and reminder.data["to"] == ["ap@globex.example"]
    sent = await event_log.wait_for(lambda r: r.type == "mail.sent" and r.data["mail_id"] == reminder.data["mail_id"])
    assert sent.data["kind"] == "reminder"
    assert not event_log.of_type("invoice.past_due", invoice_id)

    test_clock.move_to(account_id, day_start(due, 1, hours=0) + timedelta(seconds=5))
    past_due = await event_log.wait_for_type("invoice.past_due", invoice_id)
    assert past_due.data["days_past_due"] == 1 and past_due.data["invoice"]["status"] == "open"
    assert past_due.data["invoice"]["past_due"] is True
    await event_log.wait_for(lambda r: r.type == "mail.send_reminder" and r.key == invoice_id
                             and r.data["days_relative_to_due"] == 1)

    test_clock.move_to(account_id, day_start(due, 7, hours=9))
    await event_log.wait_for(lambda r: r.type == "mail.send_reminder" and r.key == invoice_id
                             and r.data["days_relative_to_due"] == 7)
    await handled_so_far(producer, event_log, account_id, invoice_id)

    assert len(distinct(event_log, "invoice.past_due", invoice_id)) == 1
    assert reminders(event_log, invoice_id) == SCHEDULE
    document = await stored_invoice(account_id, invoice_id, lambda d: sum(e["action"] == "email_sent" for e in d["history"]) == 3)
    actions = [entry["action"] for entry in document["history"]]
    assert actions.count("reminder_requested") == 3 and actions.count("past_due") == 1
    assert actions.count("email_sent") == 3
    assert document["next_clock_at"] is None


async def test_paid_void_and_uncollectible_invoices_get_no_reminder_and_are_never_past_due(
        services, producer, event_log, account_id, test_clock):
    invoices = await open_invoices(producer, event_log, account_id, count=4)
    (still_open, due), paid, void, uncollectible = invoices
    await producer.send(MarkInvoicePaid(invoice_id=paid[0]), account_id=account_id)
    await producer.send(VoidInvoice(invoice_id=void[0]), account_id=account_id)
    await producer.send(MarkInvoiceUncollectible(invoice_id=uncollectible[0]), account_id=account_id)
    for settled, event in ((paid, "invoice.paid"), (void, "invoice.voided"),
                           (uncollectible, "invoice.marked_uncollectible")):
        await event_log.wait_for_type(event, settled[0])

    for days in (-3, 1, 7):
        test_clock.move_to(account_id, day_start(due, days, hours=1))
        await event_log.wait_for(lambda r, days=days: r.type == "mail.send_reminder" and r.key == still_open
                                 and r.data["days_relative_to_due"] == days)
    await event_log.wait_for_type("invoice.past_due", still_open)
    for settled in (paid, void, uncollectible):
        await handled_so_far(producer, event_log, account_id, settled[0])
        assert not event_log.of_type("invoice.past_due", settled[0])
        assert not event_log.of_type("mail.send_reminder", settled[0])


def second_instance(log_dir: Path) -> subprocess.Popen:
    """Another invoices process on the same database and consumer group, with its own HTTP port."""
    log = open(log_dir / "invoices-2.log", "ab")  # noqa: SIM115  (owned by the child)
    port, internal_port = int(env("INVOICES_HTTP_PORT")) + 10, int(env("INVOICES_INTERNAL_PORT")) + 10
    process = subprocess.Popen([sys.executable, "-m", "services.invoices"], cwd=REPO,
                               env={**os.environ, **service_environment("invoices"), "HTTP_PORT": str(port),
                                    "INTERNAL_PORT": str(internal_port)},
                               stdout=log, stderr=subprocess.STDOUT)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{internal_port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"the second invoices instance exited; see {log_dir}/invoices-2.log")
        time.sleep(0.2)
    raise RuntimeError("the second invoices instance is not ready")


async def test_a_due_date_that_passes_while_the_service_is_down_is_announced_once_by_two_instances(
        services, producer, event_log, account_id, test_clock):
    [(invoice_id, due)] = await open_invoices(producer, event_log, account_id)
    test_clock.move_to(account_id, day_start(due, -3, hours=1))
    await event_log.wait_for(lambda r: r.type == "mail.send_reminder" and r.key == invoice_id)
    test_clock.move_to(account_id, day_start(due, 0, hours=23))  # the due date: not past due yet

    services.stop("invoices")
    test_clock.move_to(account_id, day_start(due, 1, hours=0) + timedelta(minutes=30))
    services.start("invoices")
    extra = second_instance(services.log_dir)
    try:
        services.wait_ready("invoices")
        past_due = await event_log.wait_for_type("invoice.past_due", invoice_id, timeout=60)
        await event_log.wait_for(lambda r: r.type == "mail.send_reminder" and r.key == invoice_id
                                 and r.data["days_relative_to_due"] == 1)
        # Killed right after: the restarted instance must not announce it again.
        services.kill("invoices")
        services.start("invoices")
        services.wait_ready("invoices")
        await handled_so_far(producer, event_log, account_id, invoice_id)
    finally:
        extra.terminate()
        extra.wait(timeout=30)

    assert past_due.data["days_past_due"] == 1
    assert len(distinct(event_log, "invoice.past_due", invoice_id)) == 1
    # Both instances asked for the past-due moment, with one and the same command.
    asked = {r.headers["ce_id"] for r in event_log.of_type("invoice.run_clock", invoice_id)
             if r.data["at"] == day_start(due, 1).isoformat().replace("+00:00", "Z")}
    assert len(asked) == 1
    assert reminders(event_log, invoice_id) == [-3, 1]
