"""The ledger's continuity, read from the store: the report per series, and the gauge of breaks."""

import asyncio
import logging

from contracts.messages.numbering import series_key
from services.numbering.adapters.ledger import Ledger
from services.numbering.domain.continuity import ContinuityReport, continuity_report, sequence_continuity
from services.numbering.metrics import NumberingMetrics

logger = logging.getLogger("numbering.continuity")


async def series_continuity(ledger: Ledger, account_id: str, number_format: str) -> ContinuityReport:
    """The report of one of the account's series: the series key is built from the account, so
    an account can only ever read its own."""
    key = series_key(account_id, number_format)
    return continuity_report(key, await ledger.series_entries(key))


async def count_breaks(ledger: Ledger) -> dict[str, int]:
    """Numbers that break continuity, per series. A continuous sequence costs three indexed
    queries; only a sequence whose counts do not add up is read and reported on in full."""
    breaks: dict[str, int] = {}
    async for last in ledger.last_entries():
        found = 0
        if await ledger.may_have_breaks(last):
            found = sequence_continuity(last.sequence_key, await ledger.sequence_entries(last.sequence_key)).breaks
        breaks[last.series_key] = breaks.get(last.series_key, 0) + found
    return breaks


async def watch_continuity(ledger: Ledger, metrics: NumberingMetrics, interval_seconds: float) -> None:
    """The gauge counts the breaks of all series; the log names each broken series, for operators."""
    while True:
        breaks = await count_breaks(ledger)
        metrics.continuity_breaks.set(sum(breaks.values()))
        if broken := {series: count for series, count in breaks.items() if count}:
            logger.warning("numbering series not continuous", extra={"breaks_per_series": broken})
        await asyncio.sleep(interval_seconds)
