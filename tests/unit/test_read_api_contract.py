"""Every read API route's OpenAPI document declares the statuses the route answers, derived from
what the route takes: an API key (401), parameters behind the input guard (422), the store (503),
a cursor (400), an invoice named in its path (404), a document served (409: a draft has none). tests/integration/test_read_api.py provokes
each of them on the real stack."""

import importlib
import json
from types import SimpleNamespace

import pytest
from fastapi.routing import APIRoute

from chassis.http.api import RESPONSES, ReadApi
from chassis.settings import ServiceSettings
from chassis.storage.memory import MemoryStore
from contracts.export import OPENAPI

READERS = ("invoices", "payments", "numbering")


def expected_statuses(operation: dict) -> set[str]:
    parameters = {(parameter["in"], parameter["name"]) for parameter in operation.get("parameters", [])}
    statuses = {200, 401, 422, 503}
    if ("query", "cursor") in parameters:
        statuses.add(400)
    if any(where == "path" for where, _ in parameters):
        statuses.add(404)
    if "application/pdf" in operation["responses"].get("200", {}).get("content", {}):
        statuses.add(409)
    return {str(status) for status in statuses}


@pytest.fixture(scope="module", params=READERS)
def api(request):
    return request.param, importlib.import_module(f"services.{request.param}.app").create_app().api


def test_every_route_declares_the_statuses_it_answers(api):
    service, app = api
    document = app.openapi()
    routes = [route for route in app.routes if isinstance(route, APIRoute)]
    assert routes
    for route in routes:
        for method in route.methods:
            operation = document["paths"][route.path_format][method.lower()]
            assert set(operation["responses"]) == expected_statuses(operation), (service, route.path)
            for status in set(operation["responses"]) - {"200"}:
                assert operation["responses"][status]["description"] == RESPONSES[int(status)]["description"]


def test_the_published_document_is_the_routes(api):
    service, app = api
    assert json.loads((OPENAPI / f"{service}.json").read_text()) == app.openapi()


def test_no_response_model_carries_the_stores_bookkeeping(api):
    service, app = api
    for name, schema in app.openapi()["components"]["schemas"].items():
        assert not {"handled", "outbox"} & set(schema.get("properties", {})), (service, name)
        if name != "InvoiceSnapshot":  # an invoice's version is what a command's expected_version names
            assert "version" not in schema.get("properties", {}), (service, name)


async def test_a_read_api_does_not_start_without_its_cursor_secret():
    hooks = []
    for settings, starts in ((ServiceSettings(cursor_secret="", cursor_secret_file=""), False),
                            (ServiceSettings(cursor_secret="s3cret", cursor_secret_file=""), True)):
        service = SimpleNamespace(name="invoices", store=MemoryStore(), settings=settings, on_startup=hooks.append,
                                  consumer=SimpleNamespace(handles=lambda m: lambda f: f))
        read_api = ReadApi(service, description="")
        if starts:
            await hooks[-1]()
            assert read_api.cursors.secret == b"s3cret"
        else:
            with pytest.raises(RuntimeError, match="CURSOR_SECRET or CURSOR_SECRET_FILE is not set"):
                await hooks[-1]()
