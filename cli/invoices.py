"""`invoicing invoices`: the account's invoices as tables, one invoice, its history, its PDF, a
CSV export; `send` (cli/bulk_send.py) mails a selection of them."""

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.amounts import money
from cli.exit_codes import ExitCode
from cli.filters import filtered
from cli.http import ApiKey, AsJson, download, fail, get, print_json, stream_to
from cli.lazy import Lazy, lazy_group

SEND = Lazy("send", "cli.bulk_send:send", "Send every invoice the filters select (as `invoices list` selects them), "
                                          "then summarise: how many mails were queued, sent, bounced and dropped, "
                                          "and which commands were rejected why.")
app = typer.Typer(cls=lazy_group(SEND), no_args_is_help=True,
                  help="Read the account's invoices (needs an API key), download their PDFs, send them in bulk.")
console = Console()


@app.command("list")
@filtered
def list_invoices(
    filters: dict, api_key: ApiKey = "", limit: Annotated[int, typer.Option(min=1, max=100)] = 25,
    cursor: Annotated[str | None, typer.Option(help="Continue after a page (its next cursor)")] = None,
    as_json: AsJson = False,
) -> None:
    """A page of invoices, filtered and sorted."""
    page = get("invoices", "/v1/invoices", api_key, filters | {"limit": limit, "cursor": cursor}, what="invoices")
    if as_json:
        print_json(page)
        return
    table = Table("id", "number", "status", "customer", "total", "remaining", "issued", "due", "flags")
    for invoice in page["data"]:
        flags = ", ".join(name for name, on in (("past due", invoice["past_due"]),
                                                ("payment pending", invoice.get("payment_pending"))) if on)
        table.add_row(invoice["id"], invoice["number"] or "", invoice["status"], invoice["customer"],
                      money(invoice["total"], invoice["currency"]),
                      money(invoice["amount_remaining"], invoice["currency"]), invoice["issued_on"] or "",
                      invoice["due_date"] or "", flags)
    console.print(table)
    if page["has_more"]:
        console.print(f"more: --cursor {page['next_cursor']}", style="dim")


@app.command("show")
def show(reference: Annotated[str, typer.Argument(help="The invoice id (or its number with --number)")],
         api_key: ApiKey = "", by_number: Annotated[bool, typer.Option("--number", help="REFERENCE is a number")] = False,
         as_json: AsJson = False) -> None:
    """One invoice: its hosted page's address, lines, memo, flags and payments."""
    path = f"/v1/invoices/by-number/{reference}" if by_number else f"/v1/invoices/{reference}"
    found = get("invoices", path, api_key, what=f"invoice {reference}")
    if as_json:
        print_json(found)
        return
    invoice, flags, currency = found["invoice"], found["flags"], found["invoice"]["currency"]
    # The read API names the page on the invoice's JSON: beside the snapshot or in it.
    hosted_url = found.get("hosted_url", invoice.get("hosted_url"))
    table = Table(show_header=False, title=f"invoice {invoice['id']}")
    rows = [
        ("number", invoice["number"] or "(draft)"), ("status", invoice["status"]),
        ("customer", invoice["customer"]["name"]),
    ]
    rows += [(f"line {position}", f"{line['quantity']} x {line['description']}: "
                                  f"{money(line['amount'] + line['tax_amount'], currency)}")
             for position, line in enumerate(invoice["lines"])]
    rows += [
        ("total", money(invoice["total"], currency)),
        ("paid", money(invoice["amount_paid"], currency)), ("remaining", money(invoice["amount_remaining"], currency)),
        ("due", invoice["due_date"] or ""), ("past due", "yes" if flags["past_due"] else "no"),
        ("partially paid", "yes" if flags["partially_paid"] else "no"),
        ("payment pending", "yes" if invoice.get("payment_pending") else "no"),
        ("last sent", f"{flags['last_sent_at']} to {', '.join(flags['last_sent_to'])}" if flags["last_sent_at"] else "never"),
        ("payment reference", invoice["payment_reference"] or ""), ("memo", invoice.get("memo") or ""),
    ]
    rows += [(f"payment {p['payment_id']}", f"{money(p['amount'], currency)} on {p['paid_on']} ({p['match']})")
             for p in found["payments"]]
    for name, value in rows:
        table.add_row(name, str(value))
    console.print(table)
    # On a line of its own, never wrapped: to copy or click.
    console.print(f"hosted page: {hosted_url or '(none: a draft, or no public address)'}", soft_wrap=True)


@app.command("pdf")
def pdf(invoice_id: str, api_key: ApiKey = "",
        output: Annotated[str, typer.Option("--output", "-o", help="The file to write, or - for standard output",
                                            show_default=False)] = "",
        force: Annotated[bool, typer.Option("--force", help="Overwrite the file if it exists")] = False) -> None:
    """Download the invoice's Factur-X PDF (a draft has none yet)."""
    target = Path(output or f"{invoice_id}.pdf")
    if output != "-" and target.exists() and not force:
        fail(f"{target} exists: pass --force to overwrite it", ExitCode.BAD_INPUT)
    document = download("invoices", f"/v1/invoices/{invoice_id}/pdf", api_key, what=f"invoice {invoice_id}")
    if output == "-":
        sys.stdout.buffer.write(document)
        return
    target.write_bytes(document)
    typer.secho(f"{target}: {len(document):,} bytes", fg="green", err=True)


@app.command("history")
def history(invoice_id: str, api_key: ApiKey = "", as_json: AsJson = False) -> None:
    """Every change of an invoice: who, when, what changed."""
    found = get("invoices", f"/v1/invoices/{invoice_id}/history", api_key, what=f"invoice {invoice_id}")
    if as_json:
        print_json(found)
        return
    table = Table("at", "actor", "action", "status", "changes")
    for entry in found["data"]:
        status = f"{entry['status_from'] or ''} -> {entry['status_to']}" if entry["status_to"] else ""
        changes = [f"{c['field']}: {c['before']!r} -> {c['after']!r}" for c in entry["changes"]]
        changes += [f"{name}: {value}" for name, value in entry["detail"].items()]
        table.add_row(entry["at"], entry["actor"], entry["action"], status, "\n".join(changes))
    console.print(table)


@app.command("export")
@filtered
def export(
    filters: dict, api_key: ApiKey = "",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file (default: stdout)")] = None,
) -> None:
    """Every invoice the filters select, as CSV with a header row (amounts in major units)."""
    params = filters
    if output is None:
        stream_to(sys.stdout, "invoices", "/v1/invoices/export.csv", api_key, params, what="export")
        return
    with output.open("w", newline="") as out:
        stream_to(out, "invoices", "/v1/invoices/export.csv", api_key, params, what="export")
