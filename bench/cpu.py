"""CPU time spent by each part of the stack, read from /proc: where a lifecycle's cost goes.

A profiler's share of samples misleads on a saturated machine (a process waiting for a core
looks busy), so the bench reports CPU seconds per component instead, taken around a run.
"""

import os
from collections import Counter
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _component(pid: int, cmdline: str, services: dict[int, str]) -> str | None:
    if pid in services:
        return services[pid]
    if pid == os.getpid():
        return "bench driver"
    if "kafka.Kafka" in cmdline:
        return "kafka"
    if cmdline.startswith("postgres") or "/bin/postgres" in cmdline:
        return "postgresql"
    if "smtp/catcher.py" in cmdline:
        return "smtp catcher"
    return None


def cpu_seconds(services: dict[int, str]) -> Counter:
    """CPU seconds (user + system) so far of every live process of the stack, by component;
    `services` names the service processes by pid."""
    totals: Counter = Counter()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        if component := _component(int(entry.name), cmdline, services):
            # utime and stime are fields 14 and 15 of stat; the split starts at field 3.
            totals[component] += (int(fields[11]) + int(fields[12])) / _TICKS
    return totals


def machine_busy_seconds() -> float:
    """CPU seconds all cores have spent busy so far (every state of /proc/stat but idle and iowait)."""
    values = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / _TICKS
