"""`invoicing integrators`: which accounts each integrator may act for.

An integrator is a system outside the platform (a CRM, a shop, a bank feed) with a Kafka
principal of its own, which may write only its own topics: `invoices.commands.from.<name>`,
`payments.commands.from.<name>` and `payments.transactions.from.<name>`. The services act on what
it writes only for the accounts an operator granted it, and answer everything else with
`account_not_allowed`. `grant` and `revoke` publish `access.granted` / `access.revoked` on the
compacted access.events (which only the operators' principal may write); `list` reads that topic
from its beginning.

Exit codes (cli/exit_codes.py): 2 refused input, 4 Kafka did not answer, 6 Kafka refused.
"""

import json
from typing import Annotated

import typer

from cli.account import Account as AccountOption
from cli.exit_codes import ExitCode
from cli.kafka import run
from cli.options import ACTOR, Bootstrap

app = typer.Typer(help="Grant integrators the accounts they may act for; revoke and list grants.",
                  no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="The integrator's name: lower-case letters, digits and dashes, as in "
                                          "its topics (invoices.commands.from.NAME)", show_default=False)]


def _fail(message: str, code: int):
    typer.secho(message, fg="red", err=True)
    raise typer.Exit(code)


def _checked(name: str, account: str) -> None:
    from contracts.topics import INTEGRATOR_NAME, is_integrator_name

    if not is_integrator_name(name):
        _fail(f"{name!r} is no integrator name: {INTEGRATOR_NAME} (lower-case letters, digits and dashes, "
              "at most 40)", ExitCode.BAD_INPUT)
    from pydantic import TypeAdapter, ValidationError

    from contracts.messages.base import Identifier

    try:
        TypeAdapter(Identifier).validate_python(account)
    except ValidationError:
        _fail(f"{account!r} is no account id (letters, digits and _.:-, at most 100)", ExitCode.BAD_INPUT)


async def _announce(bootstrap: str, data) -> None:
    """Publish a grant's event as the operators (the CLI's principal), and wait for the broker."""
    from cli.kafka import broker
    from contracts.envelope import Envelope

    envelope = Envelope.originate(source="cli", type=data.type_name, subject=data.aggregate_id(),
                                  accountid=data.account_id, actor=ACTOR)
    async with broker(bootstrap) as connected:
        await connected.publish(data.model_dump_json().encode(), topic=data.topic, key=envelope.subject.encode(),
                             headers=envelope.to_headers())


@app.command("grant")
def grant(name: Name, account: AccountOption = "", bootstrap: Bootstrap = "127.0.0.1:9092") -> None:
    """Let integrator NAME act for ACCOUNT: its commands for the account take effect from now on."""
    _checked(name, account)
    from datetime import UTC, datetime

    from contracts.messages.access import AccessGranted, grant_key
    from contracts.topics import integrator_topics

    run(_announce(bootstrap, AccessGranted(grant_key=grant_key(name, account), integrator=name, account_id=account,
                                            granted_at=datetime.now(UTC), granted_by=ACTOR)), bootstrap)
    typer.secho(f"{name} may act for {account}: the services take its records for the account from "
                f"{', '.join(integrator_topics(name))} within seconds", fg="green", err=True)


@app.command("revoke")
def revoke(name: Name, account: AccountOption = "", bootstrap: Bootstrap = "127.0.0.1:9092") -> None:
    """Stop integrator NAME acting for ACCOUNT: its commands for the account are refused from now on."""
    _checked(name, account)
    from datetime import UTC, datetime

    from contracts.messages.access import AccessRevoked, grant_key

    run(_announce(bootstrap, AccessRevoked(grant_key=grant_key(name, account), integrator=name, account_id=account,
                                            revoked_at=datetime.now(UTC), revoked_by=ACTOR)), bootstrap)
    typer.secho(f"{name} may no longer act for {account}: its records for the account are answered "
                "account_not_allowed within seconds", fg="green", err=True)


async def read_grants(bootstrap: str) -> tuple[dict[str, dict], int]:
    """The latest word on each grant, read from access.events to its end: {grant key: grant},
    and how many records were no valid grant event."""
    from cli.compacted import read_events
    from contracts.messages.access import AccessGranted, AccessRevoked
    from contracts.topics import ACCESS_EVENTS

    events, invalid = await read_events(bootstrap, ACCESS_EVENTS, AccessGranted, AccessRevoked)
    grants = {}
    for event in events:
        granted = isinstance(event, AccessGranted)
        grants[event.grant_key] = {
            "integrator": event.integrator, "account_id": event.account_id, "granted": granted,
            "since": (event.granted_at if granted else event.revoked_at).isoformat(),
            "by": event.granted_by if granted else event.revoked_by,
        }
    return grants, invalid


@app.command("list")
def list_grants(
    name: Annotated[str | None, typer.Option("--integrator", "-i", help="Only this integrator's grants")] = None,
    account: Annotated[str | None, typer.Option("--account", "-a", help="Only grants of this account")] = None,
    revoked: Annotated[bool, typer.Option("--revoked", help="Also the grants that were revoked")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table")] = False,
    bootstrap: Bootstrap = "127.0.0.1:9092",
) -> None:
    """Which accounts each integrator may act for, as access.events says now."""
    grants, invalid = run(read_grants(bootstrap), bootstrap)
    shown = sorted(
        (g for g in grants.values() if (revoked or g["granted"]) and name in (None, g["integrator"])
         and account in (None, g["account_id"])),
        key=lambda g: (g["integrator"], g["account_id"]),
    )
    if invalid:
        typer.secho(f"{invalid} records of access.events are no valid grant and were passed over", fg="yellow",
                    err=True)
    if as_json:
        typer.echo(json.dumps(shown, indent=2))
        return
    if not shown:
        typer.secho("no grants" + (" (--revoked shows the revoked ones too)" if not revoked else ""), err=True)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("integrator", "account", "status", "since", "by")
    for g in shown:
        table.add_row(g["integrator"], g["account_id"], "granted" if g["granted"] else "revoked", g["since"], g["by"])
    Console().print(table)
