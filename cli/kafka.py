"""The CLI's Kafka clients: the usual settings from the environment, and refusals said plainly.

KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD (or
KAFKA_SASL_PASSWORD_FILE) and KAFKA_SSL_CAFILE, as the services read them (chassis/settings.py);
`source deploy/env/dev.env` sets them to the operators' principal of the local stack.
"""

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import typer
from aiokafka.errors import KafkaConnectionError
from faststream.kafka import KafkaBroker

from chassis.kafka_errors import explain
from chassis.settings import KafkaSettings

T = TypeVar("T")
# Exit codes: Kafka did not answer (as cli.http's UNREACHABLE), Kafka refused the login or an ACL.
UNREACHABLE, REFUSED = 4, 6


def broker(bootstrap: str) -> KafkaBroker:
    return KafkaBroker(bootstrap, security=KafkaSettings().faststream_security(), logger=None,
                       allow_auto_create_topics=False)


def run(coroutine: Coroutine[Any, Any, T], bootstrap: str) -> T:
    """asyncio.run, with a refused login or a missing ACL reported as such (exit code 6)."""

    async def explained() -> T:
        try:
            return await coroutine
        except Exception as error:
            reason = await explain(error, KafkaSettings(), bootstrap)
            if reason is None and isinstance(error, (KafkaConnectionError, OSError, TimeoutError)):
                typer.secho(f"Kafka at {bootstrap} did not answer: {error}", fg="red", err=True)
                raise typer.Exit(UNREACHABLE) from None
            if reason is None:
                raise
            typer.secho(reason, fg="red", err=True)
            raise typer.Exit(REFUSED) from None

    return asyncio.run(explained())


async def until_assigned(watcher) -> None:
    """Wait until the subscriber reads from the end of its partitions: what is published after
    this returns, it sees."""
    while not watcher.consumer.assignment():
        await asyncio.sleep(0.05)
    for partition in watcher.consumer.assignment():
        await watcher.consumer.position(partition)
