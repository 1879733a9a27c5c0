"""The suppression list in the service's store: one document per account and address."""

from datetime import datetime

from chassis.repository import Repository
from chassis.storage import DuplicateDocument, StaleDocument
from services.mailer.domain.delivery import SmtpReply
from services.mailer.domain.suppression import Suppression


class SuppressionList(Repository[Suppression]):
    model = Suppression
    collection_name = "suppressions"

    async def suppressed_among(self, account_id: str, addresses: list[str]) -> set[str]:
        """The addresses, as given, that the account suppresses now (a lifted entry does not count;
        one stored before suppressions could be lifted has no flag, and is suppressed); looked up by id."""
        ids = {Suppression.entry_id(account_id, address): address for address in addresses}
        found = await self.documents.get_many(ids)
        return {ids[entry_id] for entry_id, document in found.items() if document.get("suppressed", True)}

    async def suppress(self, account_id: str, mail_id: str, refusals: dict[str, SmtpReply], now: datetime) -> None:
        for address, reply in refusals.items():
            while not await self._suppress(account_id, address, mail_id, reply, now):
                pass  # written meanwhile (lifted, or suppressed by another instance): read again

    async def _suppress(self, account_id: str, address: str, mail_id: str, reply: SmtpReply, now: datetime) -> bool:
        entry = await self.get(Suppression.entry_id(account_id, address))
        try:
            if entry is None:
                await self.insert(Suppression.of(account_id, address, mail_id, reply, now))
            elif entry.suppress(mail_id, reply, now):
                loaded = entry.version
                entry.version += 1
                await self.update(entry, loaded)
        except (DuplicateDocument, StaleDocument):
            return False
        return True
