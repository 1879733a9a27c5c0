"""Throughput and latency of the thin slice on the real local stack; prints figures, asserts nothing.

    make bench                         (starts the test stack and the four services)
    python -m bench --invoices 300     (with the test stack's environment exported)

Measures, for a burst of invoices of one account: create -> invoice.created, finalize ->
invoice.finalized (through numbering), and bank transfer -> invoice.paid (through payments);
then each service's resident memory.
"""

import argparse
import asyncio
import re
import statistics
import time
import uuid
from datetime import date
from pathlib import Path

import httpx

from contracts.messages.invoices import FinalizeInvoice
from contracts.messages.payments import BankTransactionReceived
from tests.integration.factories import PAYEE_IBAN, configure_account, create_invoice
from tests.integration.harness import SERVICES, EventLog, Producer, ServiceProcesses, env


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(stage: str, latencies: list[float], wall: float) -> None:
    print(
        f"{stage:34} n={len(latencies):4}  throughput {len(latencies) / wall:7.1f}/s  "
        f"latency p50 {statistics.median(latencies) * 1000:7.1f} ms  p95 {percentile(latencies, 0.95) * 1000:7.1f} ms  "
        f"max {max(latencies) * 1000:7.1f} ms"
    )


async def stage(name: str, log: EventLog, ids: list[str], answer: str, send) -> None:
    sent_at: dict[str, float] = {}
    started = time.perf_counter()
    for invoice_id in ids:
        sent_at[invoice_id] = time.perf_counter()
        await send(invoice_id)
    latencies = []
    for invoice_id in ids:
        record = await log.wait_for_type(answer, invoice_id, timeout=300)
        latencies.append(record.arrived_at - sent_at[invoice_id])
    report(name, latencies, time.perf_counter() - started)


async def run(count: int) -> None:
    log = EventLog(env("KAFKA_BOOTSTRAP_SERVERS"))
    producer = Producer(env("KAFKA_BOOTSTRAP_SERVERS"))
    await log.start()
    await producer.start()
    account = f"acct_bench_{uuid.uuid4().hex[:8]}"
    await producer.send(configure_account(account), account_id=account)
    await log.wait_for_type("account.configured", account)
    ids = [f"inv_bench_{uuid.uuid4().hex[:12]}" for _ in range(count)]
    snapshots: dict[str, dict] = {}

    await stage("create -> invoice.created", log, ids, "invoice.created",
                lambda i: producer.send(create_invoice(i), account_id=account))
    await stage("finalize -> invoice.finalized", log, ids, "invoice.finalized",
                lambda i: producer.send(FinalizeInvoice(invoice_id=i), account_id=account))
    for invoice_id in ids:
        snapshots[invoice_id] = (await log.wait_for_type("invoice.finalized", invoice_id)).data["invoice"]
    numbers = sorted(int(s["number"].rsplit("-", 1)[1]) for s in snapshots.values())
    print(f"{'numbers allocated':34} {len(numbers)}, gapless 1..{numbers[-1]}: {numbers == list(range(1, count + 1))}")

    def transfer(invoice_id: str):
        invoice = snapshots[invoice_id]
        return producer.send(
            BankTransactionReceived(transaction_id=f"tx-{invoice_id}", iban=PAYEE_IBAN, amount=invoice["amount_due"],
                                    currency="EUR", booked_on=date.today(),
                                    remittance_information=invoice["payment_reference"]),
            account_id=account,
        )

    await stage("bank transfer -> invoice.paid", log, ids, "invoice.paid", transfer)
    await producer.stop()
    await log.stop()


def handler_means(port: int) -> dict[str, tuple[int, float]]:
    """type -> (messages handled, mean handler seconds), from a service's /metrics."""
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for line in httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text.splitlines():
        match = re.match(r'invoicing_handler_duration_seconds_(sum|count)\{type="([^"]+)"\} (\S+)', line)
        if match:
            kind, type_name, value = match.groups()
            (sums if kind == "sum" else counts)[type_name] = float(value)
    return {type_name: (int(counts[type_name]), sums[type_name] / counts[type_name]) for type_name in counts if counts[type_name]}


def resident_memory_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=200, help="invoices in the burst (default 200)")
    args = parser.parse_args()
    services = ServiceProcesses(Path(env("STACK_DIR")) / "bench-services")
    services.start_all()
    try:
        asyncio.run(run(args.invoices))
        for name in SERVICES:
            print(f"{'resident memory ' + name:34} {resident_memory_mib(services.processes[name].pid):7.1f} MiB")
        for name in SERVICES:
            for type_name, (count, mean) in sorted(handler_means(services.port(name)).items()):
                print(f"{'handler ' + name + ' ' + type_name:48} n={count:4}  mean {mean * 1000:7.1f} ms")
    finally:
        services.stop_all()


if __name__ == "__main__":
    main()
