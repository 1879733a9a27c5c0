"""Reading a compacted topic whole (access.events, api_keys.events): the platform's latest word
on each key, as the CLI's admin commands need it before they act or list."""

from cli.kafka import read_to_end
from contracts.envelope import Envelope, InvalidEnvelope
from contracts.messages import MessageData


async def read_events(bootstrap: str, topic: str, *models: type[MessageData]) -> tuple[list[MessageData], int]:
    """The events of `models` on `topic` from its beginning to its end now, oldest first, and how
    many records were no valid event of them (passed over)."""
    by_type = {model.type_name: model for model in models}
    events, invalid = [], 0
    for record in await read_to_end(bootstrap, topic):
        try:
            envelope = Envelope.from_headers({name: (value or b"").decode() for name, value in record.headers})
            events.append(by_type[envelope.type].model_validate_json(record.value))
        except (InvalidEnvelope, KeyError, ValueError):
            invalid += 1
    return events, invalid
