"""How soon the invoice clock announces many invoices that become past due at the same moment.

    make bench-clock BENCH_ARGS="--invoices 2000 --accounts 20"

Opens the invoices (each account reminding one day after the due date), then moves every
account's time (INVOICES_CLOCK_OFFSETS_FILE) one second past the moment they all become past due,
with the clock looking at its production interval (INVOICES_CLOCK_INTERVAL_SECONDS, 5 s). Prints
the time from that moment to each `invoice.past_due` and `mail.send_reminder` (p50, p99, last),
and how many invoices were announced more or less than once. Asserts nothing.
"""

import argparse
import asyncio
import json
import os
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bench.__main__ import percentile
from contracts.messages.invoices import FinalizeInvoice
from tests.integration.factories import configure_account, create_invoice
from tests.integration.harness import EventLog, Producer, ServiceProcesses, env

WATCHED = ("invoice.finalized", "invoice.past_due", "mail.send_reminder")


class Arrivals(EventLog):
    """When each watched message first arrived, per type and invoice, and how many distinct ids
    (the event log's list of every record would be scanned at every wait)."""

    def __init__(self, bootstrap: str) -> None:
        super().__init__(bootstrap)
        self.first: dict[tuple[str, str], float] = {}
        self.ids: dict[tuple[str, str], set[str]] = {}
        self.data: dict[tuple[str, str], dict] = {}

    async def _collect(self) -> None:
        async for record in self.consumer:
            headers = {name: value.decode() for name, value in record.headers}
            if headers.get("ce_type") in WATCHED:
                key = (headers["ce_type"], headers["ce_subject"])
                self.first.setdefault(key, time.perf_counter())
                self.ids.setdefault(key, set()).add(headers["ce_id"])
                self.data.setdefault(key, json.loads(record.value))

    def count(self, type_name: str) -> int:
        return sum(1 for kind, _ in self.first if kind == type_name)

    async def wait_for_count(self, type_name: str, count: int, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while self.count(type_name) < count and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)


async def measure(args) -> None:
    bootstrap = env("KAFKA_BOOTSTRAP_SERVERS")
    accounts = [f"acct_clock_{uuid.uuid4().hex[:8]}" for _ in range(args.accounts)]
    arrivals = Arrivals(bootstrap)
    await arrivals.start()
    producer = Producer(bootstrap)
    await producer.start()
    log = EventLog(bootstrap)
    await log.start()
    for account in accounts:
        await producer.send(configure_account(account, reminder_schedule=[1]), account_id=account)
    for account in accounts:
        await log.wait_for_type("account.configured", account, timeout=120)
    await log.stop()
    invoice_ids = []
    for position in range(args.invoices):
        invoice_id, account = f"inv_clock_{uuid.uuid4().hex[:12]}", accounts[position % len(accounts)]
        invoice_ids.append(invoice_id)
        await producer.send(create_invoice(invoice_id, days_until_due=14), account_id=account)
        await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account)
    await producer.stop()
    await arrivals.wait_for_count("invoice.finalized", args.invoices, timeout=600)
    due = date.fromisoformat(next(iter(arrivals.data.values()))["invoice"]["due_date"])
    print(f"opened: {arrivals.count('invoice.finalized')}/{args.invoices} invoices, due {due}")

    past_due_from = datetime(due.year, due.month, due.day, tzinfo=UTC) + timedelta(days=1)
    offset = (past_due_from + timedelta(seconds=1) - datetime.now(UTC)).total_seconds()
    offsets_file = Path(env("INVOICES_CLOCK_OFFSETS_FILE"))
    scratch = offsets_file.with_suffix(".tmp")
    scratch.write_text(json.dumps({account: offset for account in accounts}))
    scratch.replace(offsets_file)
    moment = time.perf_counter()
    await arrivals.wait_for_count("invoice.past_due", args.invoices, timeout=600)
    await arrivals.wait_for_count("mail.send_reminder", args.invoices, timeout=60)
    await asyncio.sleep(2 * float(os.environ["INVOICES_CLOCK_INTERVAL_SECONDS"]))  # for late duplicates
    await arrivals.stop()
    offsets_file.write_text("{}")

    for type_name in ("invoice.past_due", "mail.send_reminder"):
        delays = [arrivals.first[(type_name, invoice_id)] - moment for invoice_id in invoice_ids
                  if (type_name, invoice_id) in arrivals.first]
        twice = sum(len(arrivals.ids.get((type_name, invoice_id), ())) > 1 for invoice_id in invoice_ids)
        print(f"{type_name}: {len(delays)}/{args.invoices} invoices, {twice} announced more than once; after the "
              f"moment p50 {percentile(delays, 0.5):.1f} s, p99 {percentile(delays, 0.99):.1f} s, "
              f"last {max(delays, default=float('nan')):.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=2000, help="invoices becoming past due at once")
    parser.add_argument("--accounts", type=int, default=20, help="accounts they are spread over")
    args = parser.parse_args()
    os.environ["INVOICES_CLOCK_INTERVAL_SECONDS"] = "5"  # production's, not the tests'
    services = ServiceProcesses(Path(env("STACK_DIR")) / "bench-clock-services")
    services.start_all()
    try:
        asyncio.run(measure(args))
    finally:
        services.stop_all()


if __name__ == "__main__":
    main()
