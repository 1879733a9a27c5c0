"""Reading the services' HTTP APIs from the CLI: where they are, the key to send, and what a
failed request tells the person at the terminal (with an exit code scripts can test).

Exit codes (cli/exit_codes.py): 1 not found, 2 refused input, 3 the API key was refused, 4 the
service did not answer.
"""

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import httpx
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


def _check(response: httpx.Response, what: str) -> None:
    if response.status_code < 400:
        return
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = response.text
    if isinstance(detail, list):  # a validation error: name each refused parameter
        detail = "; ".join(f"{'.'.join(str(p) for p in item['loc'][1:])}: {item['msg']}" for item in detail)
    if response.status_code == 401:
        fail(f"the API key was refused: {detail}", ExitCode.KEY_REFUSED)
    if response.status_code == 404:
        fail(f"{what}: not found", ExitCode.NOT_FOUND)
    fail(f"{what}: {detail}", ExitCode.BAD_INPUT if response.status_code < 500 else ExitCode.UNREACHABLE)


@contextmanager
def _client(service: str, api_key: str) -> Iterator[httpx.Client]:
    if not api_key:
        fail("no API key: pass --api-key or set INVOICING_API_KEY (see `invoicing keys create`)", ExitCode.KEY_REFUSED)
    try:
        with httpx.Client(base_url=base_url(service), headers={"Authorization": f"Bearer {api_key}"},
                          timeout=30) as client:
            yield client
    except httpx.TransportError as error:
        fail(f"{service} at {base_url(service)} did not answer: {error}", ExitCode.UNREACHABLE)


def get(service: str, path: str, api_key: str, params: dict[str, Any] | None = None, *, what: str) -> Any:
    with _client(service, api_key) as client:
        response = client.get(path, params=_present(params))
        _check(response, what)
        return response.json()


def stream_to(out, service: str, path: str, api_key: str, params: dict[str, Any], *, what: str) -> None:
    with _client(service, api_key) as client, client.stream("GET", path, params=_present(params)) as response:
        if response.status_code >= 400:
            response.read()
            _check(response, what)
        for chunk in response.iter_text():
            out.write(chunk)


def download(service: str, path: str, api_key: str, *, what: str) -> bytes:
    """The body of a GET (a document), or the failure said as `get` says it."""
    with _client(service, api_key) as client:
        response = client.get(path)
        _check(response, what)
        return response.content


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2))


def _present(params: dict[str, Any] | None) -> dict[str, Any]:
    return {name: value for name, value in (params or {}).items() if value not in (None, [], "")}
