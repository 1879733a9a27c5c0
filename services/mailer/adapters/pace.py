"""The relay's pace in the service's store: one document, written by every delivery loop."""

from datetime import datetime

from chassis.repository import Repository
from chassis.storage import DuplicateDocument, StaleDocument
from services.mailer.domain.pace import RELAY, Pace


class Paces(Repository[Pace]):
    model = Pace
    collection_name = "delivery_pace"

    async def reserve(self, count: int, rate_per_second: float, now: datetime) -> datetime:
        """The first of `count` start slots (see Pace.reserve), against the other instances' writes:
        a reservation another loop wrote since this one read is read again."""
        while True:
            pace = await self.get(RELAY)
            loaded = pace.version if pace is not None else None
            pace = pace or Pace(id=RELAY, next_start=now)
            first = pace.reserve(count, rate_per_second, now)
            pace.version += 1
            try:
                if loaded is None:
                    await self.insert(pace)
                else:
                    await self.update(pace, loaded)
            except (DuplicateDocument, StaleDocument):
                continue
            return first
