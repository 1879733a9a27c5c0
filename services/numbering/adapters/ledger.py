"""The allocation ledger in the service's store: one document per number, looked up by index."""

from collections.abc import AsyncIterator

from chassis.repository import Repository
from chassis.storage import Condition, Index, Key, Order
from services.numbering.domain.ledger import LedgerEntry, document_of


class Ledger(Repository[LedgerEntry]):
    model = LedgerEntry
    collection_name = "allocations"
    # Ids are per account: an entry is held by (account, document), one number each. The key keeps
    # its name, column and unique index from before credit notes: it held the invoice id, which is
    # the document of an invoice's own number, so entries stored before keep their meaning as they are.
    keys = (Key("account_id", "text"), Key("invoice_id", "text", path="document"), Key("series_key", "text"),
            Key("sequence_key", "text"), Key("sequence", "integer"), Key("status", "text"), Key("reason", "text"))
    indexes = (Index(("account_id", "invoice_id"), unique=True), Index(("sequence_key", "sequence")),
               Index(("series_key", "sequence_key", "sequence")), Index(("sequence_key", "status")))

    async def held_by(self, account_id: str, invoice_id: str, credit_note_id: str | None = None) -> LedgerEntry | None:
        """The number the account's invoice (or its credit note) holds, or held: a gap; if any."""
        found = await self.find([Condition("account_id", "eq", account_id),
                                 Condition("invoice_id", "eq", document_of(invoice_id, credit_note_id))], limit=1)
        return found[0] if found else None

    async def last_sequence(self, sequence_key: str) -> int:
        latest = await self.find([Condition("sequence_key", "eq", sequence_key)],
                                 order_by=[Order("sequence", descending=True)], limit=1)
        return latest[0].sequence if latest else 0

    async def series_entries(self, series_key: str) -> list[LedgerEntry]:
        return await self.find([Condition("series_key", "eq", series_key)],
                               order_by=[Order("sequence_key"), Order("sequence")])

    async def sequence_entries(self, sequence_key: str) -> list[LedgerEntry]:
        return await self.find([Condition("sequence_key", "eq", sequence_key)], order_by=[Order("sequence")])

    async def last_entries(self) -> AsyncIterator[LedgerEntry]:
        """The last entry of every sequence, one backward index lookup each (no scan of entries)."""
        before: list[Condition] = []
        newest_first = [Order("sequence_key", descending=True), Order("sequence", descending=True)]
        while found := await self.find(before, order_by=newest_first, limit=1):
            yield found[0]
            before = [Condition("sequence_key", "lt", found[0].sequence_key)]

    async def may_have_breaks(self, last: LedgerEntry) -> bool:
        """Whether some number up to `last` of its sequence may lack an entry or a gap's reason: two
        counts on indexes, so a continuous sequence (the normal case) is never read entry by entry.
        Only entries up to `last` count, so numbers allocated meanwhile change nothing."""
        entries = await self.documents.count([Condition("sequence_key", "eq", last.sequence_key),
                                              Condition("sequence", "lte", last.sequence)])
        unexplained = await self.documents.count([Condition("sequence_key", "eq", last.sequence_key),
                                                  Condition("status", "eq", "gap"), Condition("reason", "eq", None)])
        return entries < last.sequence or unexplained > 0
