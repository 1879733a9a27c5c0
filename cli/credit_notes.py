"""`invoicing credit-note`: credit a finalized invoice and mail the credit note (published as
commands, answers shown as `invoicing publish` shows them), and read the account's credit notes
(needs an API key). Exit codes as the other commands': 2 for refused input, 1 not found, 3 a
refused API key, 4 a service that does not answer, 6 Kafka refusing the login or an ACL."""

from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from cli.account import Account
from cli.amounts import money
from cli.exit_codes import ExitCode
from cli.http import ApiKey, AsJson, get, print_json
from contracts.envelope import describe_validation_error
from contracts.messages.base import Command
from contracts.messages.credit_notes import CreateCreditNote, CreditedLine, SendCreditNote

app = typer.Typer(help="Credit finalized invoices, mail credit notes, read them.", no_args_is_help=True)
console = Console()

from cli.options import ACTOR as _ACTOR
from cli.options import Actor, Bootstrap, Wait
from cli.publish import publish_and_watch


def credited_line(text: str) -> CreditedLine:
    """`POSITION` or `POSITION:QUANTITY`, e.g. `0` or `1:2.5`."""
    position, _, quantity = text.partition(":")
    try:
        return CreditedLine(line=int(position), quantity=Decimal(quantity) if quantity else None)
    except (ValueError, InvalidOperation, ValidationError):
        raise typer.BadParameter(f"{text!r} is no POSITION or POSITION:QUANTITY", param_hint="--line") from None


def publish(build, account: str, actor: str, wait: float, bootstrap: str) -> None:
    """Build the command (refused input exits 2), publish it and follow its answers."""
    try:
        command: Command = build()
    except ValidationError as error:
        typer.secho(f"invalid command: {describe_validation_error(error)}", fg="red", err=True)
        raise typer.Exit(ExitCode.BAD_INPUT) from None
    publish_and_watch(bootstrap, command, account=account, actor=actor, wait=wait)


@app.command("create")
def create(
    invoice_id: Annotated[str, typer.Argument(help="The invoice corrected")],
    credit_note_id: Annotated[str, typer.Argument(help="Your id for the credit note, unique in the account")],
    line: Annotated[list[str] | None, typer.Option(help="POSITION[:QUANTITY] of a line to credit (repeatable)")] = None,
    amount: Annotated[int | None, typer.Option(help="An amount in minor units, tax included, instead of lines")] = None,
    reason: Annotated[str, typer.Option(help="duplicate, fraudulent, order_change, product_unsatisfactory, other")] = "other",
    memo: str = "",
    credit_to: Annotated[str, typer.Option(help="refund or customer_balance: where what exceeds the amount owed goes")] = "refund",
    account: Account = "", actor: Actor = _ACTOR, wait: Wait = 10.0, bootstrap: Bootstrap = "127.0.0.1:9092",
) -> None:
    """Credit an invoice: all of it (no --line, no --amount), chosen lines, or an amount."""
    lines = [credited_line(text) for text in line or []]
    publish(lambda: CreateCreditNote(invoice_id=invoice_id, credit_note_id=credit_note_id, lines=lines, amount=amount,
                                     reason=reason, memo=memo, credit_to=credit_to), account, actor, wait, bootstrap)


@app.command("send")
def send(
    invoice_id: str, credit_note_id: str,
    to: Annotated[list[str] | None, typer.Option(help="Instead of the customer's addresses (repeatable)")] = None,
    language: Annotated[str | None, typer.Option(help="en, de, fr, it or es")] = None,
    account: Account = "", actor: Actor = _ACTOR, wait: Wait = 10.0, bootstrap: Bootstrap = "127.0.0.1:9092",
) -> None:
    """Mail an issued credit note to the customer (or to --to)."""
    publish(lambda: SendCreditNote(invoice_id=invoice_id, credit_note_id=credit_note_id, to=to, language=language),
            account, actor, wait, bootstrap)


@app.command("list")
def list_credit_notes(
    api_key: ApiKey = "", invoice: Annotated[str | None, typer.Option(help="Of this invoice")] = None,
    customer_id: Annotated[str | None, typer.Option(help="Of this customer id")] = None,
    issued_from: Annotated[str | None, typer.Option(help="Issued on or after (YYYY-MM-DD)")] = None,
    issued_to: Annotated[str | None, typer.Option(help="Issued on or before (YYYY-MM-DD)")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 25,
    cursor: Annotated[str | None, typer.Option(help="Continue after a page (its next cursor)")] = None,
    as_json: AsJson = False,
) -> None:
    """A page of the account's issued credit notes, oldest first."""
    params = {"invoice_id": invoice, "customer_id": customer_id, "issued_from": issued_from, "issued_to": issued_to,
              "limit": limit, "cursor": cursor}
    page = get("invoices", "/v1/credit-notes", api_key, params, what="credit notes")
    if as_json:
        print_json(page)
        return
    table = Table("id", "number", "invoice", "customer", "total", "owed less", "refund", "balance", "issued")
    for note in page["data"]:
        currency = note["currency"]
        table.add_row(note["id"], note["number"], note["invoice_number"], note["customer"]["name"],
                      *(money(note[field], currency) for field in ("total", "pre_payment_amount", "refund_amount",
                                                                   "customer_balance_amount")),
                      note["issued_at"][:10])
    console.print(table)
    if page["has_more"]:
        console.print(f"more: --cursor {page['next_cursor']}", style="dim")


@app.command("show")
def show(credit_note_id: str, api_key: ApiKey = "", as_json: AsJson = False) -> None:
    """One credit note with its lines and where its amount went."""
    note = get("invoices", f"/v1/credit-notes/{credit_note_id}", api_key, what=f"credit note {credit_note_id}")
    if as_json:
        print_json(note)
        return
    currency = note["currency"]
    table = Table(show_header=False, title=f"credit note {note['id']}")
    rows = [("number", note["number"] or "(being issued)"), ("status", note["status"]),
            ("corrects", f"{note['invoice_number']} ({note['invoice_id']}) of {note['invoice_issued_on']}"),
            ("customer", note["customer"]["name"]), ("reason", note["reason"]), ("total", money(note["total"], currency)),
            ("owed less", money(note["pre_payment_amount"], currency)),
            ("refund", money(note["refund_amount"], currency)),
            ("customer balance", money(note["customer_balance_amount"], currency))]
    rows += [(f"line {position}", f"{line['quantity']} x {line['description']}: "
                                  f"{money(line['amount'] + line['tax_amount'], currency)}")
             for position, line in enumerate(note["lines"])]
    for name, value in rows:
        table.add_row(name, str(value))
    console.print(table)
