"""The invoices list's filters as command-line options, declared once for every command that
selects invoices the way `GET /v1/invoices` does (list, export, send)."""

import functools
import inspect
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import typer

Day = Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], metavar="YYYY-MM-DD")]
Amount = Annotated[int | None, typer.Option(help="In minor units (cents)")]

# Each option's name is the list's query parameter of the same name.
OPTIONS: dict[str, tuple[Any, Any]] = {
    "status": (Annotated[list[str] | None, typer.Option("--status", help="draft, open, paid, void, uncollectible "
                                                                         "(repeatable)")], None),
    "customer": (Annotated[str | None, typer.Option(help="The customer's name, exactly")], None),
    "currency": (Annotated[str | None, typer.Option(help="ISO 4217 code")], None),
    "number": (Annotated[str | None, typer.Option(help="The invoice number")], None),
    "issued_from": (Day, None),
    "issued_to": (Day, None),
    "due_from": (Day, None),
    "due_to": (Day, None),
    "amount_min": (Amount, None),
    "amount_max": (Amount, None),
    "past_due": (Annotated[bool, typer.Option("--past-due", help="Only invoices past due today")], False),
    "payment_pending": (Annotated[bool, typer.Option("--payment-pending", help="Only invoices with a payment the bank "
                                                                               "announced but has not booked")], False),
    "sort": (Annotated[str, typer.Option(help="due_date, issued_on, amount or number; prefix - for descending")],
             "-issued_on"),
}


def query(values: dict[str, Any]) -> dict[str, Any]:
    """The options' values as the list's query parameters."""
    params = dict(values)
    for name, value in values.items():
        if isinstance(value, datetime):
            params[name] = value.date().isoformat()
    for flag in ("past_due", "payment_pending"):
        params[flag] = "true" if values[flag] else None
    return params


def filtered(command: Callable[..., Any]) -> Callable[..., Any]:
    """Gives `command` the filter options; it receives them as `filters`, the list's query
    parameters (None where not given)."""
    own = [p for p in inspect.signature(command).parameters.values() if p.name != "filters"]
    added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)
             for name, (annotation, default) in OPTIONS.items()]

    @functools.wraps(command)
    def with_filters(**values: Any) -> Any:
        filters = query({name: values.pop(name) for name in OPTIONS})
        return command(filters=filters, **values)

    with_filters.__signature__ = inspect.Signature(
        [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + added)
    with_filters.__annotations__ = {p.name: p.annotation for p in own + added}
    return with_filters
