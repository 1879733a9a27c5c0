"""The relay's pace: when the next mail may start, shared by every delivery loop on one store.

MAILER_RATE_PER_SECOND bounds how fast mails start across batches and across mailer instances,
not only within one batch: each batch reserves as many start slots as it has due jobs, from the
first free one on. Pure.
"""

from datetime import datetime, timedelta

from chassis.aggregate import Aggregate

RELAY = "relay"


class Pace(Aggregate):
    """The aggregate's id is RELAY: one pace for the one relay every instance sends through."""

    next_start: datetime

    def reserve(self, count: int, rate_per_second: float, now: datetime) -> datetime:
        """The first of `count` start slots, 1 / rate apart, from now or the first free one on."""
        first = max(now, self.next_start)
        self.next_start = first + timedelta(seconds=count / rate_per_second)
        return first
