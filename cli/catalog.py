"""`invoicing types` and `invoicing example`: the message types, and a valid document of each
(the contracts alone: no Kafka client to load)."""

import json
from typing import Annotated

import typer

from contracts.example_data import examples
from contracts.messages import REGISTRY


def list_types() -> None:
    """List every message type with its topic, kind and Kafka key field."""
    for type_name, model in sorted(REGISTRY.items(), key=lambda item: (item[1].topic, item[0])):
        typer.echo(f"{model.topic:24} {model.message_kind:8} {type_name:28} key={model.key_field}")


def example(type_name: Annotated[str, typer.Argument(help="A message type, e.g. invoice.create")]) -> None:
    """Print a valid example data document for TYPE_NAME."""
    try:
        typer.echo(json.dumps(examples()[type_name].model_dump(mode="json"), indent=2))
    except KeyError:
        raise typer.BadParameter("unknown type; see `invoicing types`", param_hint="TYPE_NAME") from None
