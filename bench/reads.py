"""The read API at scale: filtered, sorted pages and the CSV export, against the invoices service
on the local stack, with a million invoices stored.

    make bench-reads                                   (1,000,000 invoices over 1,000 accounts)
    make bench-reads BENCH_ARGS="--stored 200000"

Bulk-loads the invoices as the service stores them (bench/stored.py), one account holding
`--largest` of them (100,000 by default) and the others spread over the remaining accounts, then
starts the invoices service and asks over HTTP, as a client would:
- pages: `--pages` requests, one at a time, each a random account's page with a random filter
  (status, customer, currency, due or issue date range, amount range, past due, or none) and a
  random sort in either direction; a third of them continue to the next page by its cursor.
  Prints p50, p99 and the slowest, from request to the last byte.
- export: the CSV of the largest account's invoices, streamed; prints rows per second and the
  service's resident memory before and at its peak during the export, sampled every 50 ms.
Asserts nothing; the last line reads `pages p99: <x> ms; export: <n> rows/s`.
"""

import argparse
import asyncio
import random
import time
from pathlib import Path

import httpx

from bench.__main__ import percentile, resident_memory_mib
from bench.stored import load_invoices
from chassis.http.key_format import created, new_api_key
from chassis.http.keys import ApiKeys
from chassis.storage import open_store
from tests.integration.harness import ServiceProcesses, database_url, env

FILTERS = [
    {}, {"status": "open"}, {"status": ["paid", "void"]}, {"customer": "Customer 7"}, {"currency": "USD"},
    {"past_due": "true"}, {"due_from": "2026-01-01", "due_to": "2026-03-31"}, {"issued_from": "2026-06-01"},
    {"amount_min": 20000, "amount_max": 60000}, {"status": "open", "customer": "Customer 3", "amount_min": 10000},
]
SORTS = ["due_date", "issued_on", "amount", "number"]


async def issue_keys(accounts: list[str]) -> dict[str, str]:
    """A key per account, written to the invoices store as its consumer would from api_keys.events."""
    store = open_store(database_url("invoices"), "invoices")
    await store.open()
    try:
        keys = ApiKeys(store)
        await store.prepare()
        issued = {}
        for account in accounts:
            issued[account] = new_api_key()[1]
            await keys.add(created(issued[account], account))
        return issued
    finally:
        await store.close()


async def pages(base: str, keys: dict[str, str], count: int) -> list[float]:
    seconds, rng = [], random.Random(8)
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for _ in range(count):
            account = rng.choice(list(keys))
            params = {**rng.choice(FILTERS), "sort": rng.choice(["", "-"]) + rng.choice(SORTS), "limit": 25}
            headers = {"Authorization": f"Bearer {keys[account]}"}
            started = time.perf_counter()
            answer = await client.get("/v1/invoices", params=params, headers=headers)
            seconds.append(time.perf_counter() - started)
            answer.raise_for_status()
            if answer.json()["has_more"] and rng.random() < 1 / 3:
                started = time.perf_counter()
                (await client.get("/v1/invoices", params={**params, "cursor": answer.json()["next_cursor"]},
                                  headers=headers)).raise_for_status()
                seconds.append(time.perf_counter() - started)
    return seconds


async def export(base: str, key: str, pid: int) -> tuple[int, float, float, float]:
    """Rows, seconds, and the service's resident memory before and at its peak meanwhile."""
    before, peak, done = resident_memory_mib(pid), 0.0, asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, resident_memory_mib(pid))
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample())
    rows, started = 0, time.perf_counter()
    async with httpx.AsyncClient(base_url=base, timeout=300) as client, client.stream(
            "GET", "/v1/invoices/export.csv", params={"sort": "due_date"},
            headers={"Authorization": f"Bearer {key}"}) as answer:
        answer.raise_for_status()
        async for chunk in answer.aiter_bytes():
            rows += chunk.count(b"\n")
    elapsed = time.perf_counter() - started
    done.set()
    await sampler
    return rows - 1, elapsed, before, peak


async def measure(args, services: ServiceProcesses) -> None:
    base = f"http://127.0.0.1:{services.port('invoices')}"
    accounts = [f"acct_stored_{n}" for n in range(args.accounts)]
    keys = await issue_keys(accounts)
    await pages(base, keys, 200)  # warm-up: connections, prepared statements, caches
    seconds = await pages(base, keys, args.pages)
    print(f"pages: {len(seconds)} requests (random account, filter, sort, a third followed by their next page), "
          f"one at a time: p50 {percentile(seconds, 0.5) * 1000:.1f} ms, p99 {percentile(seconds, 0.99) * 1000:.1f} ms, "
          f"max {max(seconds) * 1000:.1f} ms")
    pid = services.processes["invoices"].pid
    rows, elapsed, before, peak = await export(base, keys["acct_stored_0"], pid)
    print(f"export: {rows} rows in {elapsed:.2f} s = {rows / elapsed:,.0f} rows/s; invoices resident memory "
          f"{before:.0f} MiB before, {peak:.0f} MiB at most during the export")
    rows, elapsed, before, peak = await export(base, keys["acct_stored_0"], pid)
    print(f"export again: {rows / elapsed:,.0f} rows/s; memory {before:.0f} MiB before, {peak:.0f} MiB at most")
    print(f"pages p99: {percentile(seconds, 0.99) * 1000:.1f} ms; export: {rows / elapsed:,.0f} rows/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stored", type=int, default=1_000_000, help="invoices stored (default 1,000,000)")
    parser.add_argument("--accounts", type=int, default=1000, help="accounts they belong to (default 1000)")
    parser.add_argument("--largest", type=int, default=100_000,
                        help="invoices of the largest account, the one exported (default 100,000)")
    parser.add_argument("--pages", type=int, default=2000, help="page requests measured (default 2000)")
    args = parser.parse_args()
    started = time.perf_counter()
    asyncio.run(load_invoices(database_url("invoices"), args.stored, args.accounts, args.largest))
    print(f"stored invoices: {args.stored:,} over {args.accounts} accounts, {args.largest:,} in the largest "
          f"(loaded in {time.perf_counter() - started:.0f} s)")
    services = ServiceProcesses(Path(env("STACK_DIR")) / "bench-services")
    services.start_all(["invoices"])
    try:
        asyncio.run(measure(args, services))
    finally:
        services.stop_all()


if __name__ == "__main__":
    main()
