"""`invoicing numbering`: the continuity report of the account's series."""

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.exit_codes import ExitCode
from cli.http import ApiKey, AsJson, get, print_json

app = typer.Typer(help="Check the account's invoice numbers (needs an API key).", no_args_is_help=True)
console = Console()


@app.command("continuity")
def continuity(api_key: ApiKey = "",
               number_format: Annotated[str | None, typer.Option("--format", help="Only this series' format")] = None,
               as_json: AsJson = False) -> None:
    """Every number of every series of the account (invoices' and credit notes') from the first to
    the last: held by its document or a gap with its reason. Exits with 5 when some number is neither."""
    reports = get("numbering", "/v1/numbering/continuity", api_key, {"number_format": number_format},
                  what="continuity report")
    if as_json:
        print_json(reports)
    else:
        table = Table("sequence", "numbers", "held", "gaps (reason)", "flagged")
        for report in reports:
            for sequence in report["sequences"]:
                gaps = [f"{gap['number']}: {gap['reason'] or '(no reason)'}" for gap in sequence["gaps"]]
                flagged = [f"{flag['first']}-{flag['last']} {flag['problem']}: {flag['detail']}"
                           for flag in sequence["flagged"]]
                table.add_row(sequence["sequence_key"], f"{sequence['first']}-{sequence['last']}",
                              str(sequence["held"]), "\n".join(gaps), "[red]" + "\n".join(flagged) if flagged else "")
        console.print(table if reports else "no numbers allocated yet")
    if any(report["breaks"] for report in reports):
        typer.secho("continuity is broken: see the flagged numbers", fg="red", err=True)
        raise typer.Exit(ExitCode.CONTINUITY_BROKEN)
