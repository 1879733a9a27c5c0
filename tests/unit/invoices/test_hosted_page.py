"""The hosted invoice page without a server: what its HTML states, user text escaped, and its PDF
rendered in a worker, once per invoice version."""

from documents.rendering import DocumentRenderer, DocumentSettings
from services.invoices.domain.hosted_link import token_digest
from services.invoices.hosted_page import HostedInvoicePages, page
from tests.unit.documents.samples import as_stored_before_bounds, invoice

TOKEN = "q1W9cKx3V0Hn7bD2mT5sYf8RzL4pA6eJuN0gXiOkC3w"


def test_the_page_states_number_status_amount_owed_and_links_the_pdf():
    html = page(invoice(), TOKEN)
    assert '<h1 id=number>Rechnung F-2026-00042</h1>' in html
    assert '<span class="status open" id=status>Offen</span>' in html
    assert '<span class=owed id=amount-owed>1.281,15\xa0€</span>' in html
    assert f'href="/i/inv_9/{TOKEN}/pdf"' in html
    assert "FR76 3000 6000 0112 3456 7890 189" in html


def test_user_text_is_escaped():
    html = page(invoice(customer={"name": "<img src=x onerror=alert(1)>", "language": "en"}), TOKEN)
    assert "<script>" not in html and "<img src=x" not in html and "<b>beaucoup</b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_void_invoice_says_so_and_that_nothing_is_owed():
    html = page(invoice(status="void", amount_remaining=0, customer={"name": "Globex", "language": "fr"}), TOKEN)
    assert '<span class="status void" id=status>ANNULÉE</span>' in html
    assert "Cette facture a été annulée. Aucun montant n&#x27;est dû." in html
    assert "id=iban" not in html


class _StoredInvoice:
    """What the page reads of a stored invoice."""

    def __init__(self, snapshot) -> None:
        self.deleted, self.issuer, self._snapshot = False, snapshot.issuer, snapshot
        self.hosted_token_digest = token_digest(TOKEN)

    def snapshot(self):
        return self._snapshot


class _Invoices:
    def __init__(self, *snapshots) -> None:
        self.snapshots = list(snapshots)

    async def with_id(self, invoice_id: str):
        return [_StoredInvoice(s) for s in self.snapshots if s.id == invoice_id]


async def get(app: HostedInvoicePages, path: str) -> tuple[int, dict[bytes, bytes], bytes]:
    sent = []

    async def send(message):
        sent.append(message)

    await app({"type": "http", "method": "GET", "path": path}, None, send)
    return sent[0]["status"], dict(sent[0]["headers"]), sent[1]["body"]


async def test_the_pdf_renders_in_a_worker_once_per_invoice_version():
    invoices = _Invoices(invoice())
    renderer = DocumentRenderer(1)
    app = HostedInvoicePages(invoices, renderer)
    try:
        first = await get(app, f"/i/inv_9/{TOKEN}/pdf")
        second = await get(app, f"/i/inv_9/{TOKEN}/pdf")
        assert first[0] == second[0] == 200 and first[1][b"content-type"] == b"application/pdf"
        assert first[2] == second[2] and first[2].startswith(b"%PDF-")
        assert renderer.renders == 1
        invoices.snapshots = [invoice(version=5, amount_paid=148115, amount_remaining=0, status="paid")]
        assert (await get(app, f"/i/inv_9/{TOKEN}/pdf"))[2] != first[2]
        assert renderer.renders == 2
    finally:
        renderer.close()


async def test_a_pdf_that_does_not_render_in_time_is_answered_503_with_a_sentence():
    renderer = DocumentRenderer(1, DocumentSettings(document_render_seconds=0.001))
    try:
        status, headers, body = await get(HostedInvoicePages(_Invoices(invoice()), renderer), f"/i/inv_9/{TOKEN}/pdf")
        assert status == 503 and headers[b"retry-after"] == b"60"
        assert body == b"The invoice document could not be prepared just now. Please try again in a minute.\n"
    finally:
        renderer.close()


async def test_control_characters_stored_in_an_invoice_still_give_its_pdf():
    """Stored before the contracts refused them: lxml refused them in the XML and /pdf answered 500."""
    dirty = as_stored_before_bounds(customer={"name": "Globex\x00\x1b Corp", "language": "en", "address": {"country": "DE"}},
                    memo="Thanks\x01\x0b")
    status, headers, body = await get(HostedInvoicePages(_Invoices(dirty), DocumentRenderer(0)), f"/i/inv_9/{TOKEN}/pdf")
    assert status == 200 and body.startswith(b"%PDF-")
