"""When an open invoice becomes past due and when it reminds its customer. Pure: no I/O, no clock.

Every moment is the start of a day in UTC: an invoice due on the 16th is past due from the 17th
at 00:00, and a reminder "3 days before" is due on the 13th at 00:00. Whoever runs the invoice's
clock passes the time it runs at; the clock remembers when it last ran, so each moment is dealt
with once:
- past due: announced once per due date (a due date moved later makes it pending again);
- reminders: of the schedule's days whose moment came since the last run, only the latest is
  requested, and only on its own day. Reminders missed while nobody ran the clock (the service
  was down for days), or made stale by a later one, are skipped: a customer never gets a "3 days
  before" reminder after the due date, nor two reminders at once.
"""

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

ONE_DAY = timedelta(days=1)


def moment(due_date: date, days_relative_to_due: int) -> datetime:
    """The start (UTC) of the day `days_relative_to_due` days from the due date."""
    return datetime.combine(due_date + timedelta(days=days_relative_to_due), time(), tzinfo=UTC)


def past_due_from(due_date: date) -> datetime:
    return moment(due_date, 1)


def reminders_between(due_date: date, schedule: Iterable[int], after: datetime, until: datetime) -> list[int]:
    """The schedule's days whose moment lies in (after, until], earliest first."""
    return sorted(day for day in schedule if after < moment(due_date, day) <= until)


def reminder_due(due_date: date, schedule: Iterable[int], after: datetime, until: datetime) -> int | None:
    """The one reminder to request now: the latest that came since `after`, if it is still its day."""
    came = reminders_between(due_date, schedule, after, until)
    if came and until < moment(due_date, came[-1]) + ONE_DAY:
        return came[-1]
    return None


def next_moment(due_date: date, schedule: Iterable[int], after: datetime, past_due_announced: bool) -> datetime | None:
    """The first moment after `after` the clock must run at (or a past-due moment not yet announced)."""
    moments = [moment(due_date, day) for day in schedule if moment(due_date, day) > after]
    if not past_due_announced:
        moments.append(past_due_from(due_date))
    return min(moments, default=None)
