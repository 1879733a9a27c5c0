"""`invoicing invoices show`, `pdf` and `list --payment-pending` against a read API of their own
(a local HTTP server): what they print, ask for, write, and exit with."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from typer.testing import CliRunner

from cli.exit_codes import ExitCode
from cli.main import app
from contracts.example_data import examples

SNAPSHOT = examples()["invoice.finalized"].model_dump(mode="json")["invoice"] | {"memo": "Thank you for your order",
                                                                                 "payment_pending": True}
HOSTED_URL = "https://billing.example.com/i/inv_1/" + "t" * 43
PDF = b"%PDF-1.7 the invoice"
DETAIL = {"invoice": SNAPSHOT, "hosted_url": HOSTED_URL, "payments": [],
          "flags": {"past_due": False, "partially_paid": False, "last_sent_at": None, "last_sent_to": []}}
ANSWERS = {
    "/v1/invoices/inv_1": (200, "application/json", json.dumps(DETAIL).encode()),
    "/v1/invoices/inv_1/pdf": (200, "application/pdf", PDF),
    "/v1/invoices/inv_draft/pdf": (409, "application/json",
                                   b'{"detail": "A draft has no document yet: finalize it first."}'),
    "/v1/invoices": (200, "application/json", b'{"data": [], "has_more": false, "next_cursor": null}'),
}
asked: list[dict] = []


class ReadApi(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlparse(self.path)
        asked.append({name: values[0] for name, values in parse_qs(url.query).items()})
        status, content_type, body = ANSWERS.get(url.path, (404, "application/json", b'{"detail": "Not found"}'))
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(autouse=True)
def read_api(monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), ReadApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("INVOICES_API_URL", f"http://127.0.0.1:{server.server_port}")
    asked.clear()
    yield
    server.shutdown()


def invoke(*argv):
    return CliRunner().invoke(app, [*argv, "--api-key", "key_0.secret"])


def test_show_prints_the_hosted_page_the_lines_the_memo_and_the_pending_payment():
    shown = invoke("invoices", "show", "inv_1")
    assert shown.exit_code == ExitCode.OK, shown.output
    assert shown.stdout.splitlines()[-1] == f"hosted page: {HOSTED_URL}"
    rows = {cells[0]: cells[1] for row in shown.stdout.splitlines()
            if len(cells := [cell.strip() for cell in row.strip("│").split("│")]) == 2}
    assert rows["memo"] == "Thank you for your order" and rows["payment pending"] == "yes"
    assert [name for name in rows if name.startswith("line ")] == [f"line {n}" for n in range(len(SNAPSHOT["lines"]))]
    assert rows["line 0"].startswith(f"{SNAPSHOT['lines'][0]['quantity']} x ")


def test_pdf_downloads_the_document_and_never_overwrites_unasked(tmp_path):
    target = tmp_path / "INV-1.pdf"
    assert invoke("invoices", "pdf", "inv_1", "-o", str(target)).exit_code == ExitCode.OK
    assert target.read_bytes() == PDF
    again = invoke("invoices", "pdf", "inv_1", "-o", str(target))
    assert again.exit_code == ExitCode.BAD_INPUT and "--force" in again.output
    assert invoke("invoices", "pdf", "inv_1", "-o", str(target), "--force").exit_code == ExitCode.OK
    to_stdout = invoke("invoices", "pdf", "inv_1", "-o", "-")
    assert to_stdout.stdout_bytes == PDF


def test_pdf_of_an_unknown_invoice_exits_1_and_of_a_draft_says_why(tmp_path):
    unknown = invoke("invoices", "pdf", "inv_nope", "-o", str(tmp_path / "x.pdf"))
    assert unknown.exit_code == ExitCode.NOT_FOUND and "invoice inv_nope: not found" in unknown.output
    draft = invoke("invoices", "pdf", "inv_draft", "-o", str(tmp_path / "y.pdf"))
    assert draft.exit_code == ExitCode.BAD_INPUT
    assert "invoice inv_draft: A draft has no document yet" in draft.output and "Traceback" not in draft.output
    assert not (tmp_path / "y.pdf").exists()


def test_list_asks_for_the_invoices_with_a_payment_pending():
    assert invoke("invoices", "list", "--payment-pending").exit_code == ExitCode.OK
    assert asked[0]["payment_pending"] == "true"
    assert invoke("invoices", "list", "--status", "open", "--status", "paid").exit_code == ExitCode.OK
    assert "payment_pending" not in asked[1] and asked[1]["status"] == "open"
