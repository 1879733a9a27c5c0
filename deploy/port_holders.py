"""Tells whether a server could bind 127.0.0.1:PORT and, when it could not, who holds the port.

    port_holders.py PORT     exit 0: bindable; exit 1: prints who holds it, on one line

Used by ensure_port_free in deploy/lib.sh for the case a connect test misses: nothing listens, yet
the bind fails with "Address already in use". Sockets and their owners come from /proc (no ss/lsof).
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

# The kernel's numbering of TCP states in /proc/net/tcp (include/net/tcp_states.h).
STATES = {
    "01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1", "05": "FIN_WAIT2",
    "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING",
}


def bindable(port: int) -> bool:
    # SO_REUSEADDR as every server of the stack sets it (JVM, Go, asyncio, http.server): without it a
    # TIME_WAIT left by our own server's earlier connections would count as taken.
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            s.listen()
        except OSError:
            return False
    return True


def address(hex_addr: str) -> str:
    # /proc prints each 32-bit word of the address in host (little-endian) byte order.
    ip_hex, port_hex = hex_addr.split(":")
    raw = b"".join(bytes.fromhex(ip_hex[i : i + 8])[::-1] for i in range(0, len(ip_hex), 8))
    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
    ip = socket.inet_ntop(family, raw)
    return f"{ip}:{int(port_hex, 16)}" if family == socket.AF_INET else f"[{ip}]:{int(port_hex, 16)}"


def sockets_on(port: int) -> list[tuple[str, str, str, str]]:
    """(local, remote, state, inode) of every TCP socket whose local port is `port`."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:  # no IPv6 in this kernel
            continue
        for line in lines:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
            if int(local.split(":")[1], 16) == port:
                found.append((local, remote, STATES.get(state, state), inode))
    return found


def owners() -> dict[str, str]:
    """Socket inode -> "pid N (command line)" for every process whose fds we may read."""
    result = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            links = [os.readlink(fd) for fd in (proc / "fd").iterdir()]
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:  # gone meanwhile, or another user's
            continue
        for link in links:
            if link.startswith("socket:["):
                result[link[len("socket:[") : -1]] = f"pid {proc.name} ({cmdline[:120]})"
    return result


def describe(local: str, remote: str, state: str, owner: str | None) -> str:
    where = f"{address(local)} -> {address(remote)}"
    if state == "TIME_WAIT":
        return (f"a closed connection in TIME_WAIT ({where}), owned by no process: the kernel frees the port"
                " within 60 s, start again after that")
    who = owner or "a process this user cannot see (`sudo ss -tanp` names it)"
    if state == "LISTEN":
        return f"a listener of {who} on {address(local)}: stop it or pick another STACK_NAME"
    if local == remote:
        return (f"a client connection of {who} connected to itself ({where}, {state}): it retried connecting"
                " to this port while nothing listened and the kernel gave it the same port as its source;"
                " stop or restart that process, then start again")
    return f"a connection of {who} in {state} ({where}): stop that process or wait until it closes, then start again"


def main() -> int:
    port = int(sys.argv[1])
    if bindable(port):
        return 0
    held = sockets_on(port)
    if not held:
        print(f"no TCP socket on port {port} is visible in /proc/net/tcp or /proc/net/tcp6")
        return 1
    by_inode = owners()
    print("; and by ".join(describe(local, remote, state, by_inode.get(inode)) for local, remote, state, inode in held))
    return 1


if __name__ == "__main__":
    sys.exit(main())
