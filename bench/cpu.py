"""CPU time spent by each part of the stack, read from /proc: where a lifecycle's cost goes.

A profiler's share of samples misleads on a saturated machine (a process waiting for a core
looks busy), so the bench reports CPU seconds per component instead, taken around a run.
"""

import os
from collections import Counter
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _component(pid: int, cmdline: str, parent: int, services: dict[int, str], stack_dir: str,
               postmasters: set[int]) -> str | None:
    if pid in services:
        return services[pid]
    if parent in services:
        return services[parent]  # a service's worker process (the mailer's composers)
    if pid == os.getpid():
        return "bench driver"
    if parent in postmasters:
        return "postgresql"
    # Run as root, the stack's postmaster keeps its data outside the stack dir (deploy/stack.sh
    # pg_home): it is known by the stack's port.
    if "/bin/postgres" in cmdline and f" -p {os.environ.get('POSTGRES_PORT')} " in cmdline:
        postmasters.add(pid)
        return "postgresql"
    if stack_dir not in cmdline:
        return None  # another stack's process on the same machine
    if "kafka.Kafka" in cmdline:
        return "kafka"
    if "smtp/catcher.py" in cmdline:
        return "smtp catcher"
    return None


def cpu_seconds(services: dict[int, str], stack_dir: str) -> Counter:
    """CPU seconds (user + system) so far of every live process of the stack in `stack_dir`, by
    component and pid; `services` names the service processes by pid."""
    processes = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        # After the command: state, parent pid, ...; utime and stime are the 12th and 13th.
        processes.append((int(entry.name), cmdline, int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS))
    postmasters: set[int] = set()
    totals: Counter = Counter()
    # Postmasters first, so their backends (children) are known for what they are.
    for pid, cmdline, parent, seconds in sorted(processes, key=lambda process: "/bin/postgres" not in process[1]):
        if component := _component(pid, cmdline, parent, services, stack_dir, postmasters):
            totals[(component, pid)] += seconds
    return totals


def by_component(before: Counter, after: Counter) -> Counter:
    """CPU seconds spent between two readings, by component, counting only processes alive at both."""
    spent: Counter = Counter()
    for (component, pid), seconds in after.items():
        if (component, pid) in before:
            spent[component] += seconds - before[(component, pid)]
    return spent


def machine_busy_seconds() -> float:
    """CPU seconds all cores have spent busy so far (every state of /proc/stat but idle and iowait)."""
    values = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / _TICKS


# Not the platform: the test relay stands in for the customers' mail servers, the driver for their systems.
OUTSIDE = ("smtp catcher", "bench driver")


def cpu_report(cpu: Counter, count: int, busy: float, wall: float, unit: str) -> tuple[str, float]:
    """A line of the CPU time every component spent per `unit` (ms), with the platform's (the
    services, PostgreSQL, Kafka) summed apart from the SMTP catcher's and the driver's; and the
    platform's milliseconds per unit."""
    platform = sum(seconds for name, seconds in cpu.items() if name not in OUTSIDE) / count * 1000
    parts = ", ".join(f"{name} {seconds / count * 1000:.1f} ms" for name, seconds in cpu.most_common())
    outside = ", ".join(f"{name} {cpu[name] / count * 1000:.1f} ms" for name in OUTSIDE)
    return (f"CPU per {unit} (machine busy {busy / wall:.2f} of {os.cpu_count()} cores): {parts}; "
            f"the platform {platform:.1f} ms (apart: {outside}), the whole machine {busy / count * 1000:.1f} ms",
            platform)
