"""What every aggregate carries besides its business state: version, the ids of the messages that
changed it, and the events it caused that are not known to be published yet (its outbox)."""

from typing import Any

from pydantic import BaseModel, PrivateAttr

from contracts.messages import MessageData

# Redeliveries come only for records whose offsets were not committed, so a short memory of the
# messages that changed an aggregate is enough to recognise one.
HANDLED_MEMORY = 50


class Aggregate(BaseModel):
    id: str
    version: int = 0
    handled: list[str] = []
    outbox: list[dict[str, Any]] = []
    _recorded: list[MessageData] = PrivateAttr(default_factory=list)

    def record(self, event: MessageData) -> None:
        """An event this change causes; the unit of work stores and publishes it."""
        self._recorded.append(event)

    def take_recorded(self) -> list[MessageData]:
        recorded, self._recorded = self._recorded, []
        return recorded

    def remember(self, message_id: str) -> None:
        self.handled = [*self.handled, message_id][-HANDLED_MEMORY:]

    def changed_by(self, message_id: str) -> bool:
        return message_id in self.handled
