"""A service's read API: FastAPI routes served on the service's port beside FastStream's own
endpoints (/metrics, /healthz, /readyz, /docs/asyncapi), with its OpenAPI document at
/docs/openapi.json. Every route takes the caller's account from its API key (`Account`)."""

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from faststream.asgi import AsgiFastStream

from chassis.http.keys import api_keys, caller
from chassis.service import Service
from chassis.storage import STORE_UNAVAILABLE

API_PREFIX = "/v1/"
OPENAPI_PATH = "/docs/openapi.json"


class ReadApi:
    def __init__(self, service: Service, *, description: str) -> None:
        self.keys = api_keys(service)
        self.app = FastAPI(title=f"{service.name} read API", version="1.0.0", description=description,
                           openapi_url=OPENAPI_PATH, docs_url=None, redoc_url=None)
        # The caller's account: every route declares a parameter of this type.
        self.Account = Annotated[str, Depends(caller(self.keys))]
        for unavailable in STORE_UNAVAILABLE:
            self.app.add_exception_handler(unavailable, _store_unavailable)

    def serve_with(self, stream: AsgiFastStream, public: dict[str, Any] | None = None) -> "ServiceApp":
        """The service's one ASGI app; `public` maps path prefixes to ASGI apps served without an
        API key (their own credential, if any, is theirs to check)."""
        return ServiceApp(stream, self.app, public or {})


class ServiceApp:
    """One ASGI app on the service's port: API paths go to FastAPI, the `public` prefixes to their
    apps, everything else (the lifespan that starts the consumer and the store, and FastStream's
    endpoints) to FastStream."""

    def __init__(self, stream: AsgiFastStream, api: FastAPI, public: dict[str, Any]) -> None:
        self.stream = stream
        self.api = api
        self.routes = {API_PREFIX: api, OPENAPI_PATH: api, **public}

    def __getattr__(self, name: str) -> Any:
        # Otherwise it is the FastStream app: its broker, its AsyncAPI schema.
        return getattr(self.stream, name)

    async def __call__(self, scope: dict[str, Any], receive, send) -> None:
        if scope["type"] == "http":
            for prefix, app in self.routes.items():
                if scope["path"].startswith(prefix):
                    await app(scope, receive, send)
                    return
        await self.stream(scope, receive, send)


async def _store_unavailable(request: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"detail": "The store is unavailable; try again shortly."}, status_code=503,
                        headers={"Retry-After": "5"})

