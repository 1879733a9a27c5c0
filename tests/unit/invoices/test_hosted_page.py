"""The hosted invoice page without a server: what its HTML states, user text escaped, its PDF
rendered in a worker, once per invoice version, and its credit notes listed and served."""

from datetime import UTC, datetime
from decimal import Decimal

import facturx
import pytest
from lxml import etree

from contracts.messages.credit_notes import CreditNoteSnapshot
from documents.rendering import DocumentRenderer, DocumentSettings
from services.invoices.domain.invoice import Invoice
from services.invoices.hosted_page import HostedInvoicePages, page
from tests.unit.documents.samples import as_stored_before_bounds, invoice
from tests.unit.documents.test_document import NS
from tests.unit.invoices.test_hosted_link import finalized
from tests.unit.invoices.test_lifecycle import LINKS

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


def test_while_something_is_owed_the_page_shows_the_transfer_qr_code_inline_with_the_bic():
    html = page(invoice(payee_bic="BNPAFRPPXXX"), TOKEN)
    figure = html[html.index("<figure id=transfer-qr>"):html.index("</figure>")]
    assert "<svg" in figure and "Mit Ihrer Banking-App scannen und bezahlen" in figure
    assert "href" not in figure and "src=" not in figure  # inline: the page still loads nothing but itself
    assert "<span id=bic>BNPAFRPPXXX</span>" in html
    for settled in (invoice(status="paid", amount_paid=148115, amount_remaining=0),
                    invoice(status="void", amount_remaining=0), invoice(currency="USD")):
        assert "transfer-qr" not in page(settled, TOKEN)
    assert "transfer-qr" in page(invoice(status="uncollectible"), TOKEN)


class _StoredInvoice:
    """What the page reads of a stored invoice."""

    def __init__(self, snapshot, credit_notes=()) -> None:
        self.deleted, self.issuer, self._snapshot, self._credit_notes = False, snapshot.issuer, snapshot, list(credit_notes)

    def opens_hosted_page(self, links, token: str) -> bool:
        return token == TOKEN

    def snapshot(self):
        return self._snapshot

    def credit_note_snapshots(self):
        return self._credit_notes


class _Invoices:
    def __init__(self, *snapshots, credit_notes=()) -> None:
        self.snapshots, self.credit_notes = list(snapshots), list(credit_notes)

    async def with_id(self, invoice_id: str):
        return [_StoredInvoice(s, self.credit_notes) for s in self.snapshots if s.id == invoice_id]


async def get(app: HostedInvoicePages, path: str) -> tuple[int, dict[bytes, bytes], bytes]:
    sent = []

    async def send(message):
        sent.append(message)

    await app({"type": "http", "method": "GET", "path": path}, None, send)
    return sent[0]["status"], dict(sent[0]["headers"]), sent[1]["body"]


async def test_the_pdf_renders_in_a_worker_once_per_invoice_version():
    invoices = _Invoices(invoice())
    renderer = DocumentRenderer(1)
    app = HostedInvoicePages(invoices, LINKS, renderer)
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
        status, headers, body = await get(HostedInvoicePages(_Invoices(invoice()), LINKS, renderer), f"/i/inv_9/{TOKEN}/pdf")
        assert status == 503 and headers[b"retry-after"] == b"60"
        assert body == b"The invoice document could not be prepared just now. Please try again in a minute.\n"
    finally:
        renderer.close()


async def test_control_characters_stored_in_an_invoice_still_give_its_pdf():
    """Stored before the contracts refused them: lxml refused them in the XML and /pdf answered 500."""
    dirty = as_stored_before_bounds(customer={"name": "Globex\x00\x1b Corp", "language": "en", "address": {"country": "DE"}},
                    memo="Thanks\x01\x0b")
    status, headers, body = await get(HostedInvoicePages(_Invoices(dirty), LINKS, DocumentRenderer(0)), f"/i/inv_9/{TOKEN}/pdf")
    assert status == 200 and body.startswith(b"%PDF-")


def credit_notes_of(invoice) -> list[CreditNoteSnapshot]:
    """Two issued credit notes of the real invoice, one unit of its line each: 59.50 apiece."""
    line = invoice.lines[0].model_copy(update={"quantity": Decimal(1), "amount": 5000, "tax_amount": 950})
    return [CreditNoteSnapshot(
        id=f"cn_{n}", account_id=invoice.account_id, invoice_id=invoice.id, invoice_number=invoice.number,
        invoice_issued_on=invoice.finalized_at.date(), number=f"CN-2026-0000{n}", status="issued",
        currency=invoice.currency, customer=invoice.customer, issuer=invoice.issuer, lines=[line], subtotal=5000,
        tax=950, total=5950, pre_payment_amount=5950, refund_amount=0, customer_balance_amount=0,
        reason="order_change", created_at=datetime(2026, 11, 3 + n, 9, tzinfo=UTC),
        issued_at=datetime(2026, 11, 3 + n, 9, tzinfo=UTC), version=1) for n in (1, 2)]


class _Aggregates:
    """The repository's answer for the page: the stored invoices with that id."""

    def __init__(self, *invoices) -> None:
        self.invoices = invoices

    async def with_id(self, invoice_id: str):
        return [invoice for invoice in self.invoices if invoice.id == invoice_id]


@pytest.fixture
def credited(monkeypatch):
    """A finalized invoice, its token, and its credit notes as Invoice.credit_note_snapshots gives them."""
    invoice, finalized_event = finalized()
    notes = credit_notes_of(invoice)
    monkeypatch.setattr(Invoice, "credit_note_snapshots", lambda self: notes if self.id == invoice.id else [])
    return invoice, finalized_event.hosted_token, notes


async def test_the_page_lists_the_issued_credit_notes_with_number_date_amount_and_a_pdf_link(credited):
    invoice, token, notes = credited
    status, _, body = await get(HostedInvoicePages(_Aggregates(invoice), LINKS, DocumentRenderer(0)), f"/i/{invoice.id}/{token}")
    html = body.decode()
    assert status == 200 and "<h2>Credit notes</h2>" in html
    for note, day in zip(notes, ("Nov 4, 2026", "Nov 5, 2026"), strict=True):
        link = f'href="/i/{invoice.id}/{token}/credit-notes/{note.id}/pdf"'
        assert f"<td><a {link} download>{note.number}</a></td><td>{day}</td><td class=n>€59.50</td>" in html


async def test_without_credit_notes_the_page_lists_none(monkeypatch):
    invoice, event = finalized()
    status, _, body = await get(HostedInvoicePages(_Aggregates(invoice), LINKS, DocumentRenderer(0)),
                                f"/i/{invoice.id}/{event.hosted_token}")
    assert status == 200 and b"credit-notes" not in body and b"Credit notes" not in body


async def test_each_credit_note_pdf_is_served_under_the_invoices_token_and_nothing_else(credited):
    invoice, token, notes = credited
    renderer = DocumentRenderer(0)
    app = HostedInvoicePages(_Aggregates(invoice), LINKS, renderer)
    status, headers, pdf = await get(app, f"/i/{invoice.id}/{token}/credit-notes/cn_2/pdf")
    assert status == 200 and headers[b"content-disposition"] == b'attachment; filename="CN-2026-00002.pdf"'
    root = etree.fromstring(facturx.get_facturx_xml_from_pdf(pdf, check_xsd=True)[1])
    assert root.xpath("string(//rsm:ExchangedDocument/ram:ID)", namespaces=NS) == "CN-2026-00002"
    assert root.xpath("string(//rsm:ExchangedDocument/ram:TypeCode)", namespaces=NS) == "381"
    assert root.xpath("string(//ram:InvoiceReferencedDocument/ram:IssuerAssignedID)", namespaces=NS) == invoice.number
    # The invoice's own PDF is still the invoice.
    _, _, invoice_pdf = await get(app, f"/i/{invoice.id}/{token}/pdf")
    assert b"<ram:TypeCode>380</ram:TypeCode>" in facturx.get_facturx_xml_from_pdf(invoice_pdf, check_xsd=False)[1]
    assert renderer.renders == 2
    wrong_token = token[:-1] + ("A" if token[-1] != "A" else "B")
    for path in (f"/i/{invoice.id}/{token}/credit-notes/cn_9/pdf", f"/i/{invoice.id}/{wrong_token}/credit-notes/cn_2/pdf",
                 f"/i/{invoice.id}/{token}/credit-notes/cn_2", f"/i/{invoice.id}/{token}/credit-notes/cn_2/pdf%0A"):
        assert (await get(app, path))[0] == 404, path
