"""Local SMTP catcher: accepts every mail, stores it on disk and exposes it over a tiny HTTP API.

Stands in for a real mail relay in the dev and test stacks (started by deploy/stack.sh):

    SMTP  on $SMTP_HOST:$SMTP_PORT              messages stored as <id>.eml (+ <id>.json envelope) in
                                                $SMTP_CATCHER_DIR; ids sort by arrival time
    HTTP  on 127.0.0.1:$SMTP_CATCHER_HTTP_PORT  GET /messages       JSON list, newest last
                                                GET /messages/<id>  raw message (message/rfc822)
                                                DELETE /messages    remove all stored messages
                                                GET /healthz        200 once SMTP and HTTP are up

Simulated delivery failures, so the mailer's retry/bounce handling can be tested without a real relay:
    RCPT TO bounce*@...    -> 550 5.1.1 mailbox unavailable   (permanent)
    RCPT TO fixed*@...     -> 550 5.1.1 mailbox unavailable the first time the catcher sees the
                              address, accepted from then on: a mailbox repaired after it bounced
    RCPT TO tempfail*@...  -> 451 4.3.0 try again later        (transient)
    RCPT TO slowack*@...   -> the message is stored (and listed) at once, but the 250 after DATA
                              comes SLOW_ACK_SECONDS later: a window in which a test can kill the
                              sender after the relay took the mail and before the sender knows
    RCPT TO hangup*@...    -> the message is stored and acknowledged, then the catcher closes the
                              connection, as a relay does at its idle timeout or when restarting

Each stored message's envelope names the client's address and port (`peer`), so a test can tell
which messages came over one connection.

Only the standard library and aiosmtpd: aiohttp is not a project dependency.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import itertools
import json
import os
import re
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller

ID_RE = re.compile(r"^[0-9]{20}-[0-9]{6}$")
SLOW_ACK_SECONDS = 2


class Store:
    """Messages as files, so they survive a catcher restart and can be inspected with any editor."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._seq = itertools.count()

    def new_id(self) -> str:
        # Nanosecond timestamp + per-process sequence: unique and lexically sorted by arrival time.
        with self._lock:
            return f"{time.time_ns():020d}-{next(self._seq) % 1_000_000:06d}"

    def save(self, raw: bytes, mail_from: str, rcpt_tos: list[str], peer: str) -> str:
        msg_id = self.new_id()
        # The headers alone: parsing the body's parts too cost ten times as much CPU per message.
        parsed = email.parser.BytesParser(policy=email.policy.default).parsebytes(raw, headersonly=True)
        meta = {
            "id": msg_id,
            "mail_from": mail_from,
            "rcpt_tos": rcpt_tos,
            "peer": peer,
            "subject": str(parsed.get("Subject", "")),
            "message_id": str(parsed.get("Message-ID", "")),
            "received_at": datetime.now(UTC).isoformat(),
        }
        # Write-then-rename: a concurrent GET never sees a half-written message.
        for suffix, data in ((".eml", raw), (".json", json.dumps(meta).encode())):
            tmp = self.dir / f".{msg_id}{suffix}.tmp"
            tmp.write_bytes(data)
            tmp.replace(self.dir / f"{msg_id}{suffix}")
        return msg_id

    def list(self) -> list[dict]:
        out = []
        for meta_file in sorted(self.dir.glob("*.json")):
            try:
                out.append(json.loads(meta_file.read_text()))
            except (OSError, ValueError):
                continue  # removed or replaced concurrently
        return out

    def raw(self, msg_id: str) -> bytes | None:
        if not ID_RE.match(msg_id):
            return None
        path = self.dir / f"{msg_id}.eml"
        return path.read_bytes() if path.exists() else None

    def clear(self) -> int:
        n = 0
        for path in list(self.dir.glob("*.eml")) + list(self.dir.glob("*.json")):
            path.unlink(missing_ok=True)
            n += path.suffix == ".eml"
        return n


class CatchingHandler:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.refused_once: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("bounce"):
            return "550 5.1.1 mailbox unavailable"
        if local.startswith("fixed") and address.lower() not in self.refused_once:
            self.refused_once.add(address.lower())
            return "550 5.1.1 mailbox unavailable"
        if local.startswith("tempfail"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        peer = ":".join(str(part) for part in session.peer[:2])
        msg_id = self.store.save(envelope.original_content or envelope.content, envelope.mail_from,
                                 list(envelope.rcpt_tos), peer)
        print(f"stored {msg_id} from={envelope.mail_from} to={envelope.rcpt_tos}", flush=True)
        mailboxes = [address.split("@", 1)[0].lower() for address in envelope.rcpt_tos]
        if any(local.startswith("slowack") for local in mailboxes):
            await asyncio.sleep(SLOW_ACK_SECONDS)
        if any(local.startswith("hangup") for local in mailboxes):
            # Runs once the reply below is written (no await comes between); close() sends it first.
            asyncio.get_running_loop().call_soon(server.transport.close)
        return f"250 Message accepted for delivery as {msg_id}"


def make_http_handler(store: Store):
    class Api(BaseHTTPRequestHandler):
        server_version = "smtp-catcher"

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, payload) -> None:
            self._send(status, json.dumps(payload).encode(), "application/json")

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0].rstrip("/")
            if path == "/healthz":
                self._json(200, {"status": "ok"})
            elif path == "/messages":
                self._json(200, store.list())
            elif path.startswith("/messages/"):
                raw = store.raw(path.removeprefix("/messages/"))
                if raw is None:
                    self._json(404, {"error": "no such message"})
                else:
                    self._send(200, raw, "message/rfc822")
            else:
                self._json(404, {"error": "not found"})

        def do_DELETE(self) -> None:
            if self.path.split("?", 1)[0].rstrip("/") == "/messages":
                self._json(200, {"deleted": store.clear()})
            else:
                self._json(404, {"error": "not found"})

        def log_message(self, fmt, *args) -> None:
            pass  # health polling would flood the log

    return Api


def main() -> int:
    smtp_host = os.environ.get("SMTP_HOST", "127.0.0.1")
    smtp_port = int(os.environ.get("SMTP_PORT", "1025"))
    http_port = int(os.environ.get("SMTP_CATCHER_HTTP_PORT", "8025"))
    # --dir overrides SMTP_CATCHER_DIR; deploy/stack.sh passes it so each stack's catcher has a
    # distinguishable command line (its pid-file check relies on that).
    directory = os.environ.get("SMTP_CATCHER_DIR", ".cache/smtp-messages")
    if len(sys.argv) == 3 and sys.argv[1] == "--dir":
        directory = sys.argv[2]
    elif len(sys.argv) != 1:
        print("usage: catcher.py [--dir MESSAGES_DIR]", file=sys.stderr)
        return 2
    store = Store(Path(directory).resolve())

    controller = Controller(
        CatchingHandler(store),
        hostname=smtp_host,
        port=smtp_port,
        enable_SMTPUTF8=True,
        ready_timeout=10,
    )
    controller.start()
    httpd = ThreadingHTTPServer(("127.0.0.1", http_port), make_http_handler(store))
    httpd.daemon_threads = True

    def _stop(signum, frame):
        # shutdown() blocks until serve_forever returns, so call it off the main thread.
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print(
        f"smtp catcher: SMTP {smtp_host}:{smtp_port}, HTTP 127.0.0.1:{http_port}, dir {store.dir}",
        flush=True,
    )
    try:
        httpd.serve_forever(poll_interval=0.2)
    finally:
        httpd.server_close()
        controller.stop()
        print("smtp catcher: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
