"""The allocation ledger in the service's store: one document per number, looked up by index."""

from chassis.repository import Repository
from chassis.storage import Condition, Index, Key, Order
from services.numbering.domain.ledger import LedgerEntry


class Ledger(Repository[LedgerEntry]):
    model = LedgerEntry
    collection_name = "allocations"
    keys = (Key("invoice_id", "text"), Key("sequence_key", "text"), Key("sequence", "integer"))
    indexes = (Index(("invoice_id",), unique=True), Index(("sequence_key", "sequence")))

    async def held_by(self, invoice_id: str) -> LedgerEntry | None:
        found = await self.find([Condition("invoice_id", "eq", invoice_id)], limit=1)
        return found[0] if found else None

    async def last_sequence(self, sequence_key: str) -> int:
        latest = await self.find([Condition("sequence_key", "eq", sequence_key)],
                                 order_by=[Order("sequence", descending=True)], limit=1)
        return latest[0].sequence if latest else 0
