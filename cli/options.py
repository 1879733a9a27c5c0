"""The options several commands share: where Kafka is, who is asking, how long to wait for answers.
The account option is cli/account.py's."""

import os
from typing import Annotated

import typer

Bootstrap = Annotated[str, typer.Option(envvar="KAFKA_BOOTSTRAP_SERVERS", help="Kafka bootstrap servers")]
Actor = Annotated[str, typer.Option(help="Who is asking")]
ACTOR = f"user:{os.environ.get('USER', 'cli')}"
Wait = Annotated[float, typer.Option(help="Seconds to watch for the answers at most (0: do not wait)")]
