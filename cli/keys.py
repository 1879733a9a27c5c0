"""`invoicing keys`: create and revoke an account's API keys.

A new key is printed once and never stored: services learn only its digest, from the
`api_key.created` event this command publishes on api_keys.events.
"""

import os
from datetime import UTC, datetime
from typing import Annotated

import typer

from chassis.http.keys import created, new_api_key
from cli.http import AsJson, print_json
from cli.kafka import broker as kafka_broker
from cli.kafka import run
from contracts.envelope import Envelope
from contracts.messages import MessageData
from contracts.messages.access import ApiKeyRevoked

app = typer.Typer(help="Create and revoke API keys (per account).", no_args_is_help=True)

Account = Annotated[str, typer.Option("--account", "-a", help="The account the key reads for")]
Bootstrap = Annotated[str, typer.Option(envvar="KAFKA_BOOTSTRAP_SERVERS", help="Kafka bootstrap servers")]
ACTOR = f"user:{os.environ.get('USER', 'cli')}"


def _announce(bootstrap: str, account: str, data: MessageData) -> None:
    async def send() -> None:
        envelope = Envelope.originate(source="cli", type=data.type_name, subject=data.aggregate_id(),
                                      accountid=account, actor=ACTOR)
        async with kafka_broker(bootstrap) as broker:
            await broker.publish(data.model_dump_json().encode(), topic=data.topic, key=envelope.subject.encode(),
                                 headers=envelope.to_headers())

    run(send(), bootstrap)


@app.command("create")
def create(account: Account, label: Annotated[str, typer.Option(help="What the key is for")] = "",
           as_json: AsJson = False, bootstrap: Bootstrap = "127.0.0.1:9092") -> None:
    """Create a key for ACCOUNT and print it: it is shown this once."""
    key_id, key = new_api_key()
    _announce(bootstrap, account, created(key, account, label))
    if as_json:
        print_json({"key_id": key_id, "account_id": account, "key": key})
        return
    typer.echo(key)
    typer.secho(f"key {key_id} for {account}: store it now, it is not shown again; services accept it within "
                "seconds", fg="green", err=True)


@app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key id (the part before the dot)")], account: Account,
           bootstrap: Bootstrap = "127.0.0.1:9092") -> None:
    """Revoke a key of ACCOUNT: services refuse it from then on."""
    if not key_id.startswith("key_") or "." in key_id:
        raise typer.BadParameter("a key id looks like key_0123456789abcdef (never the whole key)",
                                 param_hint="KEY_ID")
    _announce(bootstrap, account, ApiKeyRevoked(key_id=key_id, account_id=account, revoked_at=datetime.now(UTC)))
    typer.secho(f"key {key_id} of {account} revoked", fg="green", err=True)
