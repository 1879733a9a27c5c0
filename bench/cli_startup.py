"""How long `invoicing` takes to answer: its start (imports) and a publish on the test stack.

    python -m bench.cli_startup                 --help, types, a read against nothing (no stack)
    make bench-cli_startup                      the same, then publish on the test stack
    python -m bench.cli_startup --runs 20
    python -m bench.cli_startup --cli-dir /tmp/before   the CLI of another checkout (a worktree of an
                                                    older commit), run with this one's interpreter

Each command runs `--runs` times in a fresh interpreter, as a person runs it; the table shows the
median and the fastest wall time and the median CPU time (user + system: what the command itself
costs, where the wall time also shows what else the machine was doing). The read command is
`invoices list` against a port nothing listens on (it exits 4). Under deploy/run-tests.sh
(`make bench-cli_startup`), the services are started and `publish account.configure` is timed
until its answer is printed and until the command exits (`--settle`, 1 s by default, of quiet
after the answer). Asserts nothing.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

INVOICING = [sys.executable, "-m", "cli"]
CLI_DIR: str | None = None  # where `python -m cli` finds the CLI timed (--cli-dir); None: here


def timed(argv: list[str], stdin: str = "", environment: dict | None = None) -> tuple[float, float, float | None, int]:
    """Wall seconds to exit, CPU seconds, wall seconds to the first line on stdout, exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(INVOICING + argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, cwd=CLI_DIR,
                               env={**os.environ, **(environment or {}), **({"PYTHONPATH": CLI_DIR} if CLI_DIR else {})})
    process.stdin.write(stdin)
    process.stdin.close()
    first = process.stdout.readline()
    first_at = time.perf_counter() - started if first else None
    process.stdout.read()
    code = process.wait()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, first_at, code


def measure(name: str, argv: list[str], runs: int, **options) -> None:
    results = [timed(argv, **options) for _ in range(runs)]
    walls, cpus = [r[0] for r in results], [r[1] for r in results]
    firsts = [r[2] for r in results if r[2] is not None]
    answered = f" {statistics.median(firsts):7.3f}" if firsts else "       -"
    print(f"{name:34} {statistics.median(walls):7.3f} {min(walls):7.3f} {statistics.median(cpus):7.3f}{answered}"
          f"   exit {sorted({r[3] for r in results})}")


def on_the_stack(runs: int) -> None:
    from tests.integration.factories import configure_account
    from tests.integration.harness import ServiceProcesses, env

    services = ServiceProcesses(Path(env("STACK_DIR")) / "bench-cli-services")
    services.start_all()
    try:
        account = f"acct_bench_{uuid.uuid4().hex[:8]}"
        document = json.dumps(configure_account(account).model_dump(mode="json"))
        argv = ["publish", "account.configure", "-", "--account", account]
        timed(argv, stdin=document)  # the first configures the account; the rest change nothing
        measure("publish account.configure", argv, runs, stdin=document)
        measure("publish ... --settle 0.3", [*argv, "--settle", "0.3"], runs, stdin=document)
    finally:
        services.stop_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--cli-dir", help="time the CLI of this checkout instead of this one's")
    args = parser.parse_args()
    global CLI_DIR
    CLI_DIR = args.cli_dir
    print(f"{'command':34} {'median':>7} {'min':>7} {'cpu':>7} {'answer':>7}   (seconds, {args.runs} runs, "
          f"load {os.getloadavg()[0]:.1f})")
    measure("--help", ["--help"], args.runs)
    measure("types", ["types"], args.runs)
    measure("invoices list (nothing listening)", ["invoices", "list", "--api-key", "key_0.x"], args.runs,
            environment={"INVOICES_API_URL": "http://127.0.0.1:9"})
    if os.environ.get("STACK_NAME") == "test":  # under deploy/run-tests.sh: the stack is up
        on_the_stack(args.runs)


if __name__ == "__main__":
    main()
