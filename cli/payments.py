"""`invoicing payments`: the unmatched queue."""

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.http import ApiKey, AsJson, get, print_json
from contracts.money import format_amount

app = typer.Typer(help="Read the account's payments (needs an API key).", no_args_is_help=True)
console = Console()


@app.command("unmatched")
def unmatched(api_key: ApiKey = "", limit: Annotated[int, typer.Option(min=1, max=100)] = 25,
              cursor: Annotated[str | None, typer.Option(help="Continue after a page (its next cursor)")] = None,
              as_json: AsJson = False) -> None:
    """Bank transactions no invoice takes, with the reason; apply one with `payment.apply`."""
    page = get("payments", "/v1/payments/unmatched", api_key, {"limit": limit, "cursor": cursor},
               what="unmatched transactions")
    if as_json:
        print_json(page)
        return
    table = Table("transaction", "booked", "amount", "from", "remittance", "reason")
    for transaction in page["data"]:
        table.add_row(transaction["transaction_id"], transaction["booked_on"],
                      f"{format_amount(transaction['amount'], transaction['currency'])} {transaction['currency']}",
                      transaction["debtor_name"], transaction["remittance_information"],
                      f"{transaction['reason']}: {transaction['reason_text']}")
    console.print(table)
    if page["has_more"]:
        console.print(f"more: --cursor {page['next_cursor']}", style="dim")
