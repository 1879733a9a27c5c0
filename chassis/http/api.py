"""A service's read API: FastAPI routes under /v1/ on the service's public port, its OpenAPI
document at /docs/openapi.json on the internal port (chassis.service.ServiceApp). Every route takes
the caller's account from its API key (`Account`).

The document declares every status a route answers: 401, 422 and 503 every route (the key, the
input guard and the store), 400 a route that takes a cursor, 404 a route that names an invoice and
409 a route that serves a document (a draft has none), each route saying so with `refuses(...)`; tests/unit/test_read_api_contract.py holds every route to it.
"""

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, create_model

from chassis.aggregate import Aggregate
from chassis.http.keys import api_keys, caller
from chassis.http.pagination import Cursors
from chassis.service import Service, ServiceApp
from chassis.storage import STORE_UNAVAILABLE

API_PREFIX = "/v1/"
OPENAPI_PATH = "/docs/openapi.json"


class Problem(BaseModel):
    detail: str


class InvalidParameter(BaseModel):
    type: str
    loc: list[str | int]
    msg: str


class InvalidRequest(BaseModel):
    detail: list[InvalidParameter]


RESPONSES: dict[int, dict[str, Any]] = {
    400: {"model": Problem, "description": "The cursor is not one this API gave out for this account, "
                                           "filter and sort"},
    401: {"model": Problem, "description": "No API key, or one that is unknown or revoked"},
    404: {"model": Problem, "description": "No such invoice among the account's"},
    409: {"model": Problem, "description": "The invoice is a draft: it has no document until it is finalized"},
    422: {"model": InvalidRequest, "description": "A parameter is invalid: not of its type or range, not "
                                                  "UTF-8, longer than 1000 characters, or holding a control "
                                                  "character"},
    503: {"model": Problem, "description": "The store is unavailable; try again after Retry-After seconds"},
}
EVERY_ROUTE = (401, 422, 503)


def shown(aggregate: type[Aggregate], *, name: str, doc: str) -> type[BaseModel]:
    """The response model of an aggregate: its business fields, without the store's bookkeeping
    (its store key `id`, version, handled, outbox). A route answers with it, so no internal field
    leaves the service."""
    fields = {field: (info.annotation, info) for field, info in aggregate.model_fields.items()
              if field not in Aggregate.model_fields}
    return create_model(name, __doc__=doc, **fields)


def refuses(*statuses: int) -> dict[int, dict[str, Any]]:
    """The `responses` of a route that answers `statuses` besides those of EVERY_ROUTE."""
    return {status: RESPONSES[status] for status in statuses}


class ReadApi:
    def __init__(self, service: Service, *, description: str) -> None:
        self.keys = api_keys(service)
        self.app = FastAPI(title=f"{service.name} read API", version="1.0.0", description=description,
                           openapi_url=OPENAPI_PATH, docs_url=None, redoc_url=None,
                           responses=refuses(*EVERY_ROUTE))
        # The caller's account: every route declares a parameter of this type.
        self.Account = Annotated[str, Depends(caller(self.keys))]
        # Keyed at start, so documents can be generated where no secret is set.
        self.cursors = Cursors("")
        for unavailable in STORE_UNAVAILABLE:
            self.app.add_exception_handler(unavailable, _store_unavailable)

        @service.on_startup
        async def key_the_cursors() -> None:
            secret = service.settings.cursor_signing_secret()
            if not secret:
                raise RuntimeError("CURSOR_SECRET or CURSOR_SECRET_FILE is not set: the read API signs its "
                                   "cursors with it (one secret per deployment)")
            self.cursors = Cursors(secret)

    def serve_with(self, app: ServiceApp, public: dict[str, Any] | None = None) -> ServiceApp:
        """The service's app with this API on it; `public` maps further path prefixes to ASGI apps
        served without an API key (their own credential, if any, is theirs to check) that match
        their paths exactly (ServiceApp.serve_publicly)."""
        app.serve_publicly(API_PREFIX, self.app)
        for prefix, public_app in (public or {}).items():
            app.serve_publicly(prefix, public_app, exact_paths=True)
        app.internal[OPENAPI_PATH] = self.app
        app.api = self.app
        return app


async def _store_unavailable(request: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"detail": "The store is unavailable; try again shortly."}, status_code=503,
                        headers={"Retry-After": "5"})
