"""Full invoice lifecycles per second on the local stack, against the raw bound of the same work.

    make bench                                   (1,000 stored invoices)
    make bench BENCH_ARGS="--stored 1000000"     (bulk-loads a million first)

First, bench/mail.py measures invoice mails per second through the mailer next to raw
aiosmtplib sends of the same mails (`--mails`).

Each lifecycle: configure (once per account), create, finalize (numbered), send (an email with
the PDF to the SMTP catcher), bank transfer matched, paid. Prints, for a run at saturation and
one at half that rate: lifecycles per second, p50/p99 from each command to its result event, the
raw bound (the same store operations through psycopg alone plus the same Kafka records through
aiokafka alone), the ratio, the CPU time each component spent per lifecycle, and each service's
resident memory. Checks that numbers are gapless
and unique per account, every lifecycle ended paid, and each sent exactly one email. Asserts
nothing; the last line reads `lifecycles: <n>/s; raw bound: <m>/s; ratio: <r>`.
"""

import argparse
import asyncio
import os
import re
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx

from bench import mail
from bench.cpu import by_component, cpu_report, cpu_seconds, machine_busy_seconds
from bench.lifecycles import STEPS, Lifecycle, LifecycleDriver
from bench.raw import kafka_seconds, store_seconds
from bench.stored import load_invoices, sample_invoice_document
from tests.integration.factories import configure_account
from tests.integration.harness import SERVICES, EventLog, Producer, ServiceProcesses, database_url, env, internal_url


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def scrape(services: ServiceProcesses) -> Counter:
    """Counters summed over the services: store operations by kind, Kafka records in and out."""
    totals: Counter = Counter()
    for name in SERVICES:
        for line in httpx.get(internal_url(name, "/metrics"), timeout=5).text.splitlines():
            if match := re.match(r'invoicing_store_operations_total\{collection="(\w+)",operation="(\w+)"\} (\S+)', line):
                totals[f"store:{match[2]}"] += float(match[3])
                totals[f"{name}/{match[1]}.{match[2]}"] += float(match[3])
            elif match := re.match(r"invoicing_messages_published_total\{.*\} (\S+)", line):
                totals["kafka:published"] += float(match[1])
            elif match := re.match(r'invoicing_messages_consumed_total\{.*outcome="(\w+)".*\} (\S+)', line):
                totals["kafka:consumed"] += float(match[2])
    return totals


def resident_memory_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def check(lifecycles: list[Lifecycle], label: str) -> None:
    unfinished = [lc for lc in lifecycles if not lc.done]
    extra_mail = [lc for lc in lifecycles if lc.mails > 1]
    by_account: dict[str, list[int]] = {}
    for lc in lifecycles:
        if lc.number:
            by_account.setdefault(lc.account_id, []).append(int(re.sub(r"\D", "", lc.number)[-5:]))
    duplicates = sum(len(numbers) - len(set(numbers)) for numbers in by_account.values())
    print(f"{label}: {len(lifecycles) - len(unfinished)}/{len(lifecycles)} paid with their email; "
          f"{len(extra_mail)} with more than one email; duplicate numbers: {duplicates}")


async def configure(producer: Producer, accounts: list[str]) -> None:
    log = EventLog(env("KAFKA_BOOTSTRAP_SERVERS"))
    await log.start()
    for account in accounts:
        await producer.send(configure_account(account), account_id=account)
    for account in accounts:
        await log.wait_for_type("account.configured", account, timeout=120)
    await log.stop()


def latency_line(label: str, lifecycles: list[Lifecycle]) -> list[float]:
    every = [lc.latencies[command] for lc in lifecycles for command in STEPS if command in lc.latencies]
    parts = []
    for command in STEPS:
        values = [lc.latencies[command] for lc in lifecycles if command in lc.latencies]
        parts.append(f"{command} p50 {percentile(values, 0.5) * 1000:.0f} / p99 {percentile(values, 0.99) * 1000:.0f} ms")
    print(f"{label}: " + "; ".join(parts))
    return every


async def measure(args, services: ServiceProcesses) -> dict[str, float]:
    bootstrap = env("KAFKA_BOOTSTRAP_SERVERS")
    accounts = [f"acct_bench_{uuid.uuid4().hex[:8]}" for _ in range(args.accounts)]
    producer = Producer(bootstrap)
    await producer.start()
    await configure(producer, accounts)
    await producer.stop()
    driver = LifecycleDriver(bootstrap)
    await driver.start()
    try:
        await driver.run(accounts, min(100, args.lifecycles), None, timeout=120)  # warm-up
        before = scrape(services)
        pids = {process.pid: name for name, process in services.processes.items()}
        cpu_before, busy_before = cpu_seconds(pids, env("STACK_DIR")), machine_busy_seconds()
        started = time.perf_counter()
        saturated = await driver.run(accounts, args.lifecycles, None, timeout=args.timeout)
        wall = max(lc.finished for lc in saturated if lc.finished) - started
        cpu = by_component(cpu_before, cpu_seconds(pids, env("STACK_DIR")))
        busy = machine_busy_seconds() - busy_before
        await asyncio.sleep(1)
        work = scrape(services) - before
        rate = sum(lc.done for lc in saturated) / wall
        print(f"saturation: {args.lifecycles} lifecycles in {wall:.1f} s = {rate:.1f}/s")
        check(saturated, "saturation")
        line, platform_ms = cpu_report(cpu, args.lifecycles, busy, wall, "lifecycle at saturation")
        print(line)
        latency_line("saturation latency", saturated)

        half = await driver.run(accounts, max(50, args.lifecycles // 2), rate / 2, timeout=args.timeout)
        every = latency_line(f"half load ({rate / 2:.0f}/s) latency", half)
        steps_p99 = {command: percentile([lc.latencies[command] for lc in half if command in lc.latencies], 0.99)
                     for command in STEPS}
        print(f"half load: command -> result p50 {percentile(every, 0.5) * 1000:.1f} ms, "
              f"p99 {percentile(every, 0.99) * 1000:.1f} ms")
        check(half, "half load")
        if driver.rejections:
            print(f"rejections: {len(driver.rejections)}, first: {driver.rejections[0]}")
    finally:
        await driver.stop()

    operations = Counter({key.split(":", 1)[1]: value for key, value in work.items() if key.startswith("store:")})
    published = work["kafka:published"] + driver.commands_sent
    print("store operations per lifecycle: " + ", ".join(
        f"{kind} {count / args.lifecycles:.1f}" for kind, count in operations.most_common()))
    for name in SERVICES:
        detail = Counter({key.split("/", 1)[1]: value for key, value in work.items()
                          if key.startswith(f"{name}/")})
        print(f"  {name}: " + ", ".join(f"{kind} {count / args.lifecycles:.1f}" for kind, count in detail.most_common()
                                        if count >= args.lifecycles / 20))
    print(f"Kafka records per lifecycle: {published / args.lifecycles:.1f} produced, "
          f"{work['kafka:consumed'] / args.lifecycles:.1f} consumed")
    store = await store_seconds(database_url("invoices"), operations, sample_invoice_document())
    kafka = await kafka_seconds(bootstrap, int(published), int(work["kafka:consumed"]))
    bound = args.lifecycles / (store + kafka)
    print(f"raw bound: store {store:.1f} s + Kafka {kafka:.1f} s for the work of {args.lifecycles} lifecycles")
    resident = {name: resident_memory_mib(services.processes[name].pid) for name in SERVICES}
    for name, mib in resident.items():
        print(f"resident memory {name}: {mib:.1f} MiB")
    print(f"lifecycles: {rate:.1f}/s; raw bound: {bound:.1f}/s; ratio: {rate / bound:.2f}")
    return {"cpu_ms": platform_ms, "rate": rate, "ratio": rate / bound, "p99_ms": percentile(every, 0.99) * 1000,
            "steps_p99_ms": max(p99 for command, p99 in steps_p99.items() if command != "invoice.send") * 1000,
            "rss_mib": max(resident.values())}


# The performance targets on the project's 2-core machine kind: (figure, label, bound, whether above is better).
TARGETS = (
    ("cpu_ms", "platform CPU per lifecycle (ms)", 20, False),
    ("rate", "lifecycles per second", 90, True),
    ("ratio", "ratio to the raw bound", 0.35, True),
    ("p99_ms", "half-load p99 command -> result (ms)", 250, False),
    ("steps_p99_ms", "half-load p99 of the slowest step but send (ms)", 100, False),
    ("mails_per_second", "mails with the document per second", 120, True),
    ("rss_mib", "largest service resident memory (MiB)", 150, False),
)


def print_targets(figures: dict[str, float]) -> None:
    for key, label, bound, higher in TARGETS:
        if key in figures:
            value = figures[key]
            met = value >= bound if higher else value < bound
            print(f"target {label}: {value:.2f} ({'at least' if higher else 'under'} {bound}: {'met' if met else 'missed'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lifecycles", type=int, default=2000, help="lifecycles at saturation (default 2000)")
    parser.add_argument("--stored", type=int, default=1000, help="invoices stored before the run (default 1000)")
    parser.add_argument("--accounts", type=int, default=50, help="accounts the lifecycles are spread over")
    parser.add_argument("--timeout", type=float, default=600, help="seconds a run may take")
    parser.add_argument("--mails", type=int, default=2000, help="invoice mails through the mailer first (bench/mail.py;"
                                                                " default 2000, 0 skips)")
    args = parser.parse_args()
    started = time.perf_counter()
    asyncio.run(load_invoices(database_url("invoices"), args.stored))
    print(f"stored invoices: {args.stored} (loaded in {time.perf_counter() - started:.0f} s)")
    services = ServiceProcesses(Path(env("STACK_DIR")) / "bench-services")
    # The mailer's rate limit protects real relays; the catcher takes whatever comes.
    os.environ.setdefault("MAILER_RATE_PER_SECOND", "100000")
    os.environ.setdefault("MAILER_BATCH_SIZE", "500")
    os.environ.setdefault("MAILER_BATCH_INTERVAL_SECONDS", "0.05")
    services.start_all()
    figures: dict[str, float] = {}
    try:
        if args.mails:
            figures["mails_per_second"] = asyncio.run(mail.measure(args.mails, services, args.timeout))
        figures |= asyncio.run(measure(args, services))
    finally:
        services.stop_all()
    print_targets(figures)


if __name__ == "__main__":
    main()
