"""`invoicing`: publish commands and watch what the platform answers, from a terminal.

    invoicing types                           every message type, its topic and kind
    invoicing example invoice.create          a valid data document to start from
    invoicing publish invoice.create FILE --account acct_1 --wait
    invoicing watch --correlation-id ID       follow one flow as JSON lines
    invoicing statements import FILE... --account acct_1   bank statements (camt.053, MT940)
    invoicing keys create --account acct_1    an API key for the read commands below
    invoicing integrators grant crm --account acct_1   let integrator crm act for the account
    invoicing invoices list --status open     the account's invoices (also show, history, export)
    invoicing credit-note create INV CN --amount 5000 --account acct_1   credit an invoice (also send, list, show)
    invoicing payments unmatched              the unmatched queue
    invoicing balance show cus_1              a customer's balances and their movements (also refund)
    invoicing numbering continuity            every number held or a gap with its reason
    invoicing audit --account acct_1          invoices, payments and numbering agree (exit 1: they differ)

Read commands print tables, or JSON with --json; they exit with 1 when something is not found,
2 for refused input, 3 when the API key is refused, 4 when the service does not answer (and
`numbering continuity` with 5 when the report flags numbers).

Settings come from the environment like the services' (KAFKA_BOOTSTRAP_SERVERS, KAFKA_SECURITY_PROTOCOL,
KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE, KAFKA_SSL_CAFILE);
Kafka refusing the login or an ACL exits with 6.
"""

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from cli import audit, balance, bulk_send, credit_notes, integrators, invoices, keys, numbering, payments
from cli.kafka import broker as kafka_broker
from cli.kafka import run, until_assigned
from cli.statements import command as statements
from contracts import topics
from contracts.envelope import Envelope, describe_validation_error
from contracts.example_data import examples
from contracts.messages import REGISTRY

app = typer.Typer(
    help="Publish commands to the invoicing platform and watch what it answers.",
    epilog="Example: invoicing example invoice.create > inv.json && invoicing publish invoice.create inv.json --account acct_1",
    no_args_is_help=True,
    add_completion=False,
)

app.add_typer(keys.app, name="keys")
app.add_typer(integrators.app, name="integrators")
app.add_typer(invoices.app, name="invoices")
invoices.app.command("send")(bulk_send.send)
app.add_typer(credit_notes.app, name="credit-note")
app.add_typer(payments.app, name="payments")
app.add_typer(balance.app, name="balance")
app.add_typer(numbering.app, name="numbering")
app.add_typer(statements.app, name="statements")
app.command("audit")(audit.audit)

Bootstrap = Annotated[str, typer.Option(envvar="KAFKA_BOOTSTRAP_SERVERS", help="Kafka bootstrap servers")]


@app.command("types")
def list_types() -> None:
    """List every message type with its topic, kind and Kafka key field."""
    for type_name, model in sorted(REGISTRY.items(), key=lambda item: (item[1].topic, item[0])):
        typer.echo(f"{model.topic:24} {model.message_kind:8} {type_name:28} key={model.key_field}")


@app.command()
def example(type_name: Annotated[str, typer.Argument(help="A message type, e.g. invoice.create")]) -> None:
    """Print a valid example data document for TYPE_NAME."""
    try:
        typer.echo(json.dumps(examples()[type_name].model_dump(mode="json"), indent=2))
    except KeyError:
        raise typer.BadParameter("unknown type; see `invoicing types`", param_hint="TYPE_NAME") from None


@app.command()
def publish(
    type_name: Annotated[str, typer.Argument(help="The message type, e.g. invoice.create")],
    data_file: Annotated[str, typer.Argument(help="JSON data document, or - for standard input")] = "-",
    account: Annotated[str, typer.Option("--account", "-a", help="The account (tenant) sending it")] = "acct_demo",
    actor: Annotated[str, typer.Option(help="Who is asking")] = f"user:{os.environ.get('USER', 'cli')}",
    wait: Annotated[float, typer.Option(help="Seconds to watch for the answers at most (0: do not wait)")] = 10.0,
    settle: Annotated[float, typer.Option(help="Stop once the flow has been quiet this long after an answer")] = 2.0,
    bootstrap: Bootstrap = "127.0.0.1:9092",
) -> None:
    """Validate a data document as TYPE_NAME, publish it as a CloudEvent and show the answers."""
    model = REGISTRY.get(type_name)
    if model is None:
        raise typer.BadParameter("unknown type; see `invoicing types`", param_hint="TYPE_NAME")
    raw = sys.stdin.read() if data_file == "-" else Path(data_file).read_text()
    try:
        data = model.model_validate_json(raw)
    except ValidationError as error:
        typer.secho(f"invalid {type_name}: {describe_validation_error(error)}", fg="red", err=True)
        raise typer.Exit(2) from None
    publish_and_watch(bootstrap, data, account=account, actor=actor, wait=wait, settle=settle)


def publish_and_watch(bootstrap: str, data, *, account: str, actor: str, wait: float, settle: float = 2.0) -> None:
    """Publish one message as a command of `account` that starts a flow (its own cause), to its
    topic, keyed by its subject, and show what its flow answers."""
    envelope = Envelope.originate(source="cli", type=data.type_name, subject=data.aggregate_id(), accountid=account,
                                  actor=actor)
    run(_publish_and_watch(bootstrap, envelope, data.topic, data.model_dump_json().encode(), wait, settle), bootstrap)


async def _publish_and_watch(
    bootstrap: str, envelope: Envelope, topic: str, body: bytes, wait: float, settle: float
) -> None:
    async with kafka_broker(bootstrap) as broker:
        watcher = broker.subscriber(*topics.ALL, auto_offset_reset="latest", persistent=False)
        if wait:
            await watcher.start()
            await until_assigned(watcher)
        await broker.publish(
            body, topic=topic, key=envelope.subject.encode(), headers=envelope.to_headers(),
            correlation_id=envelope.correlationid,
        )
        typer.secho(f"published {envelope.type} id={envelope.id} to {topic} (key {envelope.subject})", fg="green", err=True)
        if wait:
            await _follow(watcher, str(envelope.correlationid), deadline=time.monotonic() + wait, settle=settle)
            await watcher.stop()


@app.command()
def watch(
    correlation_id: Annotated[str | None, typer.Option(help="Only messages of this flow")] = None,
    topic: Annotated[list[str] | None, typer.Option(help="Topics to follow (repeatable); default all")] = None,
    seconds: Annotated[float, typer.Option(help="Stop after this many seconds (0: run until Ctrl-C)")] = 0,
    bootstrap: Bootstrap = "127.0.0.1:9092",
) -> None:
    """Print messages as they arrive, one JSON line each: headers, key and data."""

    async def follow() -> None:
        async with kafka_broker(bootstrap) as broker:
            watcher = broker.subscriber(*(topic or topics.all_with_dead_letters()), auto_offset_reset="latest", persistent=False)
            await watcher.start()
            await _follow(watcher, correlation_id, deadline=time.monotonic() + seconds if seconds else None)

    try:
        run(follow(), bootstrap)
    except KeyboardInterrupt:
        pass


async def _follow(watcher, correlation_id: str | None, deadline: float | None, settle: float | None = None) -> None:
    """Print the matching messages until the deadline, or until `settle` quiet seconds follow an
    answer (anything but a command: a flow goes quiet once its last event is out)."""
    answered_at = None
    while deadline is None or time.monotonic() < deadline:
        if settle and answered_at and time.monotonic() - answered_at > settle:
            return
        message = await watcher.get_one(timeout=0.2)
        if message is None:
            continue
        headers = dict(message.headers)
        if correlation_id and headers.get("ce_correlationid") != correlation_id:
            continue
        if not message.raw_message.topic.endswith(".commands"):
            answered_at = time.monotonic()
        try:
            data = json.loads(message.body)
        except ValueError:
            data = message.body.decode(errors="replace")
        line = {"topic": message.raw_message.topic, "type": headers.get("ce_type"), "subject": headers.get("ce_subject"),
                "headers": headers, "data": data}
        typer.echo(json.dumps(line))
