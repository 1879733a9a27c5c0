"""`invoicing invoices show`, `pdf` and `list --payment-pending` against a fake read API: what
they print, ask for, write, and exit with."""

import httpx
import pytest
from typer.testing import CliRunner

from cli import http
from cli.exit_codes import ExitCode
from cli.main import app
from contracts.example_data import examples

SNAPSHOT = examples()["invoice.finalized"].model_dump(mode="json")["invoice"] | {"memo": "Thank you for your order",
                                                                                 "payment_pending": True}
HOSTED_URL = "https://billing.example.com/i/inv_1/" + "t" * 43
PDF = b"%PDF-1.7 the invoice"


def answer(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/v1/invoices/inv_1":
        return httpx.Response(200, json={"invoice": SNAPSHOT, "hosted_url": HOSTED_URL, "payments": [],
                                         "flags": {"past_due": False, "partially_paid": False, "last_sent_at": None,
                                                   "last_sent_to": []}})
    if path == "/v1/invoices/inv_1/pdf":
        return httpx.Response(200, content=PDF, headers={"content-type": "application/pdf"})
    if path == "/v1/invoices/inv_draft/pdf":
        return httpx.Response(409, json={"detail": "A draft has no document yet: finalize it first."})
    if path == "/v1/invoices":
        asked.append(dict(request.url.params))
        return httpx.Response(200, json={"data": [], "has_more": False, "next_cursor": None})
    return httpx.Response(404, json={"detail": "Not found"})


asked: list[dict] = []


@pytest.fixture(autouse=True)
def read_api(monkeypatch):
    real = httpx.Client
    monkeypatch.setattr(http.httpx, "Client", lambda **options: real(transport=httpx.MockTransport(answer), **options))
    asked.clear()


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
    assert invoke("invoices", "list").exit_code == ExitCode.OK
    assert "payment_pending" not in asked[1]
