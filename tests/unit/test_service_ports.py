"""A service's two ports: the public one serves its public prefixes behind the input guard and
nothing else; the internal one serves the operators' endpoints. And the hosted page, as served."""

from types import SimpleNamespace

import httpx
import pytest

from chassis.service import ServiceApp
from services.invoices.hosted_page import HostedInvoicePages
from tests.unit.documents.samples import invoice
from tests.unit.invoices.test_lifecycle import LINKS

PUBLIC, INTERNAL = 8001, 8101
TOKEN = "q1W9cKx3V0Hn7bD2mT5sYf8RzL4pA6eJuN0gXiOkC3w"


def answering(name: str):
    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": name.encode()})

    return app


@pytest.fixture
def service_app():
    app = ServiceApp(answering("faststream"), INTERNAL)
    app.serve_publicly("/v1/", answering("api"))
    app.internal["/docs/openapi.json"] = answering("openapi")
    return app


async def get(app, port: int, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://127.0.0.1:{port}") as http:
        return await http.get(path)


@pytest.mark.parametrize(("port", "path", "served_by"), [
    (PUBLIC, "/v1/invoices", "api"),
    (INTERNAL, "/metrics", "faststream"), (INTERNAL, "/readyz", "faststream"),
    (INTERNAL, "/docs/asyncapi", "faststream"), (INTERNAL, "/docs/openapi.json", "openapi"),
])
async def test_each_path_is_served_on_its_own_port(service_app, port, path, served_by):
    answer = await get(service_app, port, path)
    assert answer.status_code == 200 and answer.text == served_by


@pytest.mark.parametrize("path", ["/metrics", "/healthz", "/readyz", "/docs/asyncapi", "/docs/openapi.json", "/"])
async def test_the_public_port_serves_no_operators_endpoint(service_app, path):
    assert (await get(service_app, PUBLIC, path)).status_code == 404


async def test_the_public_port_guards_every_request(service_app):
    refused = await get(service_app, PUBLIC, "/v1/invoices?customer=%00")
    assert refused.status_code == 422
    assert refused.json() == {"detail": [{"type": "invalid_characters", "loc": ["query", "customer"],
                                          "msg": "The query parameter 'customer' holds the control character U+0000."}]}


class OneInvoice:
    """The store's answer to the hosted page: the sample invoice, whose token is TOKEN."""

    async def with_id(self, invoice_id: str):
        snapshot = invoice()
        if invoice_id != snapshot.id:
            return []
        return [SimpleNamespace(deleted=False, issuer=snapshot.issuer, 
                                opens_hosted_page=lambda links, token: token == TOKEN,
                                snapshot=lambda: snapshot, credit_note_snapshots=lambda: [])]


@pytest.mark.parametrize("path", [f"/i/inv_9/{TOKEN}", f"/i/inv_9/{TOKEN}/nope", f"/i/inv_9/{TOKEN}%0A",
                                  f"/i/inv_9/{TOKEN}/pdf%0A", f"/i/inv_9/{TOKEN}/pdf/", f"/i/inv_9/{TOKEN}/pdfx",
                                  f"/i/inv_9/{TOKEN}%00", f"/i/inv%00_9/{TOKEN}/pdf"])
async def test_the_hosted_page_cannot_be_framed_and_its_paths_match_exactly(path):
    pages = HostedInvoicePages(OneInvoice(), LINKS)
    answer = await get(pages, PUBLIC, path)
    assert answer.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    if path == f"/i/inv_9/{TOKEN}":
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    else:
        assert answer.status_code == 404 and answer.text == "No such invoice page.\n"
