"""The keyed read API's invoice document and hosted page address: GET /v1/invoices/{id}/pdf is the
Factur-X PDF the hosted page serves (one renderer, one cache), refused for a draft and for
another account's invoice; the invoice JSON and the list rows give hosted_url."""

import facturx
import pytest

from documents.rendering import DocumentRenderer, RenderFailed
from services.invoices.hosted_page import HostedInvoicePages
from tests.unit.invoices.test_hosted_page import get
from tests.unit.invoices.test_lifecycle import LINKS
from tests.unit.invoices.test_listing import api_client, invoices  # noqa: F401 (a fixture)


@pytest.fixture
def renderer():
    return DocumentRenderer(0)


@pytest.fixture
async def client(invoices, renderer):  # noqa: F811
    async with api_client(invoices, renderer) as http:
        yield http


async def test_the_pdf_is_the_hosted_pages_document_rendered_once(client, invoices, renderer):  # noqa: F811
    answer = await client.get("/v1/invoices/i1/pdf")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == 'attachment; filename="INV-9.pdf"'
    assert b"<ram:ID>INV-9</ram:ID>" in facturx.get_facturx_xml_from_pdf(answer.content, check_xsd=True)[1]
    stored = await invoices.get("acct", "i1")
    token = stored.hosted_url(LINKS).rsplit("/", 1)[1]
    status, _, page_pdf = await get(HostedInvoicePages(invoices, LINKS, renderer), f"/i/i1/{token}/pdf")
    assert status == 200 and page_pdf == answer.content and renderer.renders == 1


async def test_a_draft_has_no_document_and_another_accounts_invoice_is_not_found(client):
    draft = await client.get("/v1/invoices/i3/pdf")
    assert draft.status_code == 409
    assert draft.json() == {"detail": "The invoice is a draft and has no document yet; finalize it first."}
    for path in ("/v1/invoices/other/pdf", "/v1/invoices/nobody/pdf"):
        assert (await client.get(path)).status_code == 404
        assert (await client.get(path, headers={"Authorization": f"Bearer {client.other_key}"})).status_code == (
            200 if path == "/v1/invoices/other/pdf" else 404)


async def test_a_document_that_does_not_render_in_time_is_503_with_retry_after(client, monkeypatch):
    async def too_slow(*_):
        raise RenderFailed("The document took longer than 10 s.")

    monkeypatch.setattr(DocumentRenderer, "document", too_slow)
    answer = await client.get("/v1/invoices/i1/pdf")
    assert answer.status_code == 503 and answer.headers["retry-after"] == "60"
    assert answer.json()["detail"].startswith("The invoice document could not be prepared just now")


async def test_the_invoice_and_its_list_row_give_the_hosted_url_and_a_draft_none(client, invoices):  # noqa: F811
    url = (await invoices.get("acct", "i1")).hosted_url(LINKS)
    assert url.startswith("https://billing.example.com/i/i1/")
    assert (await client.get("/v1/invoices/i1")).json()["hosted_url"] == url
    assert (await client.get("/v1/invoices/i3")).json()["hosted_url"] is None
    rows = {row["id"]: row["hosted_url"] for row in (await client.get("/v1/invoices")).json()["data"]}
    assert rows == {"i1": url, "i2": (await invoices.get("acct", "i2")).hosted_url(LINKS), "i3": None}
