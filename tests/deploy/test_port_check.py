"""ensure_port_free (deploy/lib.sh) against real sockets: it must tell a free port, a foreign listener,
a client connected to itself and the TIME_WAIT it leaves apart, because only the first can be bound."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[2] / "deploy" / "lib.sh"


def ensure_port_free(port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", f'source "{LIB}" && ensure_port_free smtp "$1"', "_", str(port)],
        env={**os.environ, "STACK_NAME": "porttest"},
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.fixture
def self_connected() -> Iterator[socket.socket]:
    # What a client retrying a port with nothing listening ends up with when the kernel picks that same
    # port as its source: Linux's TCP simultaneous open connects the socket to itself. Binding the
    # source port first makes the outcome certain instead of one in some ten thousand tries.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.connect(sock.getsockname())
    assert sock.getpeername() == sock.getsockname()
    yield sock
    sock.close()


def test_free_port_passes() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = ensure_port_free(port)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_foreign_listener_is_in_use_by_another_process() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = ensure_port_free(port)
    assert result.returncode == 1
    assert f"smtp: port {port} is already in use by another process" in result.stderr


def test_client_connected_to_itself_is_named_with_its_pid(self_connected: socket.socket) -> None:
    port = self_connected.getsockname()[1]
    result = ensure_port_free(port)
    assert result.returncode == 1
    assert f"smtp: port {port} cannot be bound although nothing listens on it" in result.stderr
    assert f"a client connection of pid {os.getpid()} (" in result.stderr
    assert f"connected to itself (127.0.0.1:{port} -> 127.0.0.1:{port}, ESTABLISHED)" in result.stderr


def test_time_wait_left_by_a_self_connection_is_reported(self_connected: socket.socket) -> None:
    port = self_connected.getsockname()[1]
    self_connected.close()
    result = ensure_port_free(port)
    assert result.returncode == 1
    assert f"smtp: port {port} cannot be bound although nothing listens on it" in result.stderr
    assert "TIME_WAIT" in result.stderr and "owned by no process" in result.stderr
