"""`invoicing balance`: a customer's balances and their movements (read API, needs an API key),
and refunds paid out to a customer, recorded with `customer_balance.record_refund` (Kafka, as the
operators)."""

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.account import Account
from cli.amounts import money
from cli.exit_codes import ExitCode
from cli.http import ApiKey, AsJson, get, print_json
from cli.options import ACTOR, Bootstrap, Wait
from contracts.money import to_minor_units

app = typer.Typer(help="A customer's balances, and refunds paid out of them.", no_args_is_help=True)
console = Console()
Customer = Annotated[str, typer.Argument(help="The customer's id (the invoice's customer.id)", show_default=False)]


@app.command("show")
def show(customer: Customer, api_key: ApiKey = "",
         currency: Annotated[str | None, typer.Option(help="Only this currency's balance")] = None,
         as_json: AsJson = False) -> None:
    """The customer's balance in each currency, what its credit notes still owe as refunds, and
    every movement."""
    balances = get("invoices", "/v1/customer_balances", api_key, {"customer": customer, "currency": currency},
                   what=f"balances of {customer}")
    if as_json:
        print_json(balances)
        return
    if not balances:
        console.print(f"customer {customer} has no balance")
    for balance in balances:
        currency_code = balance["currency"]
        table = Table("at", "kind", "amount", "refund owed", "source", "reference",
                      title=f"{customer}: {money(balance['balance'], currency_code)} to spend, "
                            f"{money(balance['refunds_owed'], currency_code)} of refunds owed")
        for movement in balance["movements"]:
            table.add_row(movement["at"], movement["kind"], money(movement["amount"], currency_code),
                          money(movement["refund_owed"], currency_code) if movement["refund_owed"] else "",
                          movement["source_id"], movement["reference"])
        console.print(table)


@app.command("refund")
def refund(
    customer: Customer,
    amount: Annotated[str, typer.Option(help="In major units, e.g. 26.50", show_default=False)],
    reference: Annotated[str, typer.Option(help="The payout's own reference (the bank transfer's)",
                                           show_default=False)],
    currency: Annotated[str, typer.Option()] = "EUR",
    paid_on: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default: today)")] = None,
    credit_note: Annotated[str | None, typer.Option(help="Pays the refund this credit note owes instead of "
                                                         "taking it from the balance")] = None,
    note: str = "",
    account: Account = "",
    wait: Wait = 10.0,
    bootstrap: Bootstrap = "127.0.0.1:9092",
) -> None:
    """Record a refund paid out to the customer: it lowers the balance (or what the credit note
    owes), never below zero."""
    from pydantic import ValidationError

    from cli.publish import publish_and_watch
    from contracts.envelope import describe_validation_error
    from contracts.messages.balances import RecordCustomerRefund, balance_key

    try:
        command = RecordCustomerRefund(
            balance_key=balance_key(account, customer, currency), amount=to_minor_units(Decimal(amount), currency),
            paid_on=date.fromisoformat(paid_on) if paid_on else date.today(), reference=reference,
            credit_note_id=credit_note, note=note)
    except ValidationError as error:
        typer.secho(f"invalid refund: {describe_validation_error(error)}", fg="red", err=True)
        raise typer.Exit(ExitCode.BAD_INPUT) from None
    except KeyError:
        typer.secho(f"invalid refund: {currency!r} is no currency (ISO 4217)", fg="red", err=True)
        raise typer.Exit(ExitCode.BAD_INPUT) from None
    except (ValueError, InvalidOperation) as error:
        typer.secho(f"invalid refund: {error}", fg="red", err=True)
        raise typer.Exit(ExitCode.BAD_INPUT) from None
    publish_and_watch(bootstrap, command, account=account, actor=ACTOR, wait=wait)
