"""`invoicing keys`: create and revoke an account's API keys.

A new key is printed once and never stored: services learn only its digest, from the
`api_key.created` event this command publishes on api_keys.events. `revoke` reads that compacted
topic first: a key the account does not have (never created, or revoked already) exits with 1
(not found) and publishes nothing.
"""

from datetime import UTC, datetime
from typing import Annotated

import typer

from chassis.http.key_format import created, new_api_key
from cli.account import Account
from cli.compacted import read_events
from cli.exit_codes import ExitCode
from cli.http import AsJson, fail, print_json
from cli.kafka import broker as kafka_broker
from cli.kafka import run
from cli.options import ACTOR, Bootstrap
from contracts.envelope import Envelope
from contracts.messages import MessageData
from contracts.messages.access import ApiKeyCreated, ApiKeyRevoked
from contracts.topics import API_KEYS_EVENTS

app = typer.Typer(help="Create and revoke API keys (per account).", no_args_is_help=True)



async def _announce(bootstrap: str, account: str, data: MessageData) -> None:
    envelope = Envelope.originate(source="cli", type=data.type_name, subject=data.aggregate_id(),
                                  accountid=account, actor=ACTOR)
    async with kafka_broker(bootstrap) as kafka:
        await kafka.publish(data.model_dump_json().encode(), topic=data.topic, key=envelope.subject.encode(),
                            headers=envelope.to_headers())


@app.command("create")
def create(account: Account = "", label: Annotated[str, typer.Option(help="What the key is for")] = "",
           as_json: AsJson = False, bootstrap: Bootstrap = "127.0.0.1:9092") -> None:
    """Create a key for ACCOUNT and print it: it is shown this once."""
    key_id, key = new_api_key()
    run(_announce(bootstrap, account, created(key, account, label)), bootstrap)
    if as_json:
        print_json({"key_id": key_id, "account_id": account, "key": key})
        return
    typer.echo(key)
    typer.secho(f"key {key_id} for {account}: store it now, it is not shown again; services accept it within "
                "seconds", fg="green", err=True)


async def _latest(bootstrap: str, key_id: str) -> MessageData | None:
    """The last word api_keys.events has on the key: its creation, its revocation, or None."""
    events, _ = await read_events(bootstrap, API_KEYS_EVENTS, ApiKeyCreated, ApiKeyRevoked)
    return next((event for event in reversed(events) if event.key_id == key_id), None)


@app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key id (the part before the dot)")], account: Account = "",
           bootstrap: Bootstrap = "127.0.0.1:9092") -> None:
    """Revoke a key of ACCOUNT: services refuse it from then on. Exits with 1 when the account
    has no such key (or revoked it already)."""
    if not key_id.startswith("key_") or "." in key_id:
        raise typer.BadParameter("a key id looks like key_0123456789abcdef (never the whole key)",
                                 param_hint="KEY_ID")

    async def revoke_if_known() -> MessageData | None:
        latest = await _latest(bootstrap, key_id)
        if isinstance(latest, ApiKeyCreated) and latest.account_id == account:
            await _announce(bootstrap, account, ApiKeyRevoked(key_id=key_id, account_id=account,
                                                              revoked_at=datetime.now(UTC)))
        return latest

    latest = run(revoke_if_known(), bootstrap)
    if latest is None or latest.account_id != account:
        fail(f"account {account} has no key {key_id}: nothing revoked", ExitCode.NOT_FOUND)
    if isinstance(latest, ApiKeyRevoked):
        fail(f"key {key_id} of {account} was revoked already, at {latest.revoked_at:%Y-%m-%d %H:%M} UTC",
             ExitCode.NOT_FOUND)
    typer.secho(f"key {key_id} of {account} revoked", fg="green", err=True)
