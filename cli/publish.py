"""Publish a command and show what its flow answers; watch the topics.

The published message starts a flow (its correlation id); `publish` prints every message of the
flow until it has been quiet for `--settle` seconds after an answer, or `--wait` ends the wait:
one line each (cli/answers.py), or the messages whole with `--json`. It exits with 7 when the
platform rejected the command (or a step of its flow), 8 when nothing answered within --wait.
"""

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from cli.account import Account, with_account
from cli.answers import is_rejection, line
from cli.exit_codes import ExitCode
from cli.kafka import Record, Watcher, run
from cli.kafka import broker as kafka_broker
from cli.options import ACTOR, Actor, Bootstrap, Wait
from contracts import topics
from contracts.envelope import Envelope, describe_validation_error
from contracts.messages import REGISTRY, MessageData

AsJson = Annotated[bool, typer.Option("--json", help="Print each message whole, as a JSON line")]


def publish(
    type_name: Annotated[str, typer.Argument(help="The message type, e.g. invoice.create")],
    data_file: Annotated[str, typer.Argument(help="JSON data document, or - for standard input")] = "-",
    account: Account = "",
    actor: Actor = ACTOR,
    wait: Wait = 10.0,
    settle: Annotated[float, typer.Option(help="Stop once the flow has been quiet this long after an answer")] = 1.0,
    as_json: AsJson = False,
    bootstrap: Bootstrap = "127.0.0.1:9092",
) -> None:
    """Validate a data document as TYPE_NAME, publish it as a CloudEvent of ACCOUNT and show the
    answers, a line each. Exits with 7 when the platform rejects it, 8 when nothing answers."""
    model = REGISTRY.get(type_name)
    if model is None:
        raise typer.BadParameter("unknown type; see `invoicing types`", param_hint="TYPE_NAME")
    source = "standard input" if data_file == "-" else data_file
    raw = sys.stdin.read() if data_file == "-" else Path(data_file).read_text()
    try:
        document = json.loads(raw)
    except ValueError as error:
        _refuse(f"{source} is no JSON document: {error}")
    document = with_account(document, account, "account_id" in model.model_fields)
    try:
        data = model.model_validate_json(json.dumps(document))
    except ValidationError as error:
        _refuse(f"invalid {type_name}: {describe_validation_error(error)}")
    publish_and_watch(bootstrap, data, account=account, actor=actor, wait=wait, settle=settle, as_json=as_json)


def _refuse(sentence: str):
    typer.secho(sentence, fg="red", err=True)
    raise typer.Exit(ExitCode.BAD_INPUT)


@dataclass
class Flow:
    """What a flow answered so far."""

    correlation_id: str | None
    as_json: bool
    published_id: str | None = None
    answered_at: float | None = None
    rejected: bool = False

    def show(self, record: Record) -> None:
        headers = record.headers
        if self.correlation_id and headers.get("ce_correlationid") != self.correlation_id:
            return
        type_name, subject = headers.get("ce_type", ""), headers.get("ce_subject", "")
        published = headers.get("ce_id") == self.published_id
        if not (published or record.topic.endswith(".commands")):  # an answer: anything else but a command
            self.answered_at = time.monotonic()
        self.rejected = self.rejected or is_rejection(type_name)
        try:
            data = json.loads(record.body)
        except ValueError:
            data = record.body.decode(errors="replace")
        if self.as_json:
            typer.echo(json.dumps({"topic": record.topic, "type": type_name, "subject": subject, "headers": headers,
                                   "data": data}))
        elif not published:  # the published message is said on stderr
            typer.echo(line(type_name, subject, data))

    async def follow(self, watcher: Watcher, deadline: float | None, settle: float | None = None) -> None:
        """Shows the flow's messages until the deadline, or until `settle` quiet seconds follow an
        answer (a flow goes quiet once its last event is out)."""
        while deadline is None or time.monotonic() < deadline:
            if settle and self.answered_at and time.monotonic() - self.answered_at > settle:
                return
            if (record := await watcher.get_one(timeout=0.1)) is not None:
                self.show(record)


def publish_and_watch(bootstrap: str, data: MessageData, *, account: str, actor: str, wait: float,
                      settle: float = 1.0, as_json: bool = False) -> None:
    """Publish one message as a command of `account` that starts a flow (its own cause), to its
    topic, keyed by its subject, and show what its flow answers; exits with 7 (rejected) or 8
    (no answer within `wait`)."""
    envelope = Envelope.originate(source="cli", type=data.type_name, subject=data.aggregate_id(), accountid=account,
                                  actor=actor)
    flow = Flow(str(envelope.correlationid), as_json, published_id=str(envelope.id))

    async def publish_and_follow() -> None:
        async with kafka_broker(bootstrap) as kafka:
            watcher = kafka.subscriber(*topics.ALL)
            if wait:
                await watcher.start()
            await kafka.publish(data.model_dump_json().encode(), topic=data.topic, key=envelope.subject.encode(),
                                headers=envelope.to_headers())
            typer.secho(f"published {envelope.type} {envelope.subject} to {data.topic} (id {envelope.id})",
                        fg="green", err=True)
            if wait:
                await flow.follow(watcher, deadline=time.monotonic() + wait, settle=settle)
                await watcher.stop()

    run(publish_and_follow(), bootstrap)
    if flow.rejected:
        raise typer.Exit(ExitCode.REJECTED)
    if wait and flow.answered_at is None:
        typer.secho(f"no answer within {wait:g} s (--wait)", fg="yellow", err=True)
        raise typer.Exit(ExitCode.NO_ANSWER)


def watch(
    correlation_id: Annotated[str | None, typer.Option(help="Only messages of this flow")] = None,
    topic: Annotated[list[str] | None, typer.Option(help="Topics to follow (repeatable); default all")] = None,
    seconds: Annotated[float, typer.Option(help="Stop after this many seconds (0: run until Ctrl-C)")] = 0,
    as_json: AsJson = False,
    bootstrap: Bootstrap = "127.0.0.1:9092",
) -> None:
    """Print messages as they arrive, a line each (--json: headers, key and data)."""

    async def follow() -> None:
        async with kafka_broker(bootstrap) as kafka:
            watcher = kafka.subscriber(*(topic or topics.all_with_dead_letters()))
            await watcher.start()
            await Flow(correlation_id, as_json).follow(watcher, deadline=time.monotonic() + seconds if seconds else None)
            await watcher.stop()

    try:
        run(follow(), bootstrap)
    except KeyboardInterrupt:
        pass  # how a watch without --seconds ends
