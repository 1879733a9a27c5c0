"""Reading the services' HTTP APIs from the CLI: where they are, the key to send, and what a
failed request tells the person at the terminal (with an exit code scripts can test).

Exit codes (cli/exit_codes.py): 1 not found, 2 refused input, 3 the API key was refused, 4 the
service did not answer.
"""

import io
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from http.client import HTTPResponse
from typing import Annotated, Any, NoReturn
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import typer

from cli.exit_codes import ExitCode

_DEFAULT_PORTS = {"invoices": 8001, "numbering": 8002, "payments": 8003}

ApiKey = Annotated[str, typer.Option("--api-key", envvar="INVOICING_API_KEY", show_envvar=True,
                                     help="The account's API key (see `invoicing keys create`)")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table")]


def base_url(service: str) -> str:
    """<SERVICE>_API_URL, or the service's local port (<SERVICE>_HTTP_PORT, as the env files set)."""
    port = os.environ.get(f"{service.upper()}_HTTP_PORT", _DEFAULT_PORTS[service])
    return os.environ.get(f"{service.upper()}_API_URL", f"http://127.0.0.1:{port}")


def fail(message: str, code: int) -> NoReturn:
    typer.secho(message, fg="red", err=True)
    raise typer.Exit(code)


def _check(response: HTTPResponse, what: str) -> None:
    """Says a failed answer (4xx, 5xx) as a sentence with its exit code."""
    body = response.read()
    try:
        detail = json.loads(body).get("detail")
    except (ValueError, AttributeError):
        detail = body.decode(errors="replace")
    if isinstance(detail, list):  # a validation error: name each refused parameter
        detail = "; ".join(f"{'.'.join(str(p) for p in item['loc'][1:])}: {item['msg']}" for item in detail)
    if response.status == 401:
        fail(f"the API key was refused: {detail}", ExitCode.KEY_REFUSED)
    if response.status == 404:
        fail(f"{what}: not found", ExitCode.NOT_FOUND)
    fail(f"{what}: {detail}", ExitCode.BAD_INPUT if response.status < 500 else ExitCode.UNREACHABLE)


@contextmanager
def _get(service: str, path: str, api_key: str, params: dict[str, Any] | None, what: str) -> Iterator[HTTPResponse]:
    """The answer to a GET, open to read; a failed one said and exited (the standard library's
    client: the CLI needs no HTTP library of its own, and starts faster without one)."""
    if not api_key:
        fail("no API key: pass --api-key or set INVOICING_API_KEY (see `invoicing keys create`)", ExitCode.KEY_REFUSED)
    query = urlencode(_present(params), doseq=True)
    request = Request(f"{base_url(service)}{path}{'?' + query if query else ''}",
                      headers={"Authorization": f"Bearer {api_key}"})
    try:
        response = urlopen(request, timeout=30)
    except HTTPError as failed:
        with failed:
            _check(failed, what)
    except (URLError, OSError) as error:
        fail(f"{service} at {base_url(service)} did not answer: {getattr(error, 'reason', error)}",
             ExitCode.UNREACHABLE)
    with response:
        yield response


def get(service: str, path: str, api_key: str, params: dict[str, Any] | None = None, *, what: str) -> Any:
    with _get(service, path, api_key, params, what) as response:
        return json.load(response)


def stream_to(out, service: str, path: str, api_key: str, params: dict[str, Any], *, what: str) -> None:
    with _get(service, path, api_key, params, what) as response:
        shutil.copyfileobj(io.TextIOWrapper(response, encoding="utf-8", newline=""), out)


def download(service: str, path: str, api_key: str, *, what: str) -> bytes:
    """The body of a GET (a document), or the failure said as `get` says it."""
    with _get(service, path, api_key, None, what) as response:
        return response.read()


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2))


def _present(params: dict[str, Any] | None) -> dict[str, Any]:
    return {name: value for name, value in (params or {}).items() if value not in (None, [], "")}
