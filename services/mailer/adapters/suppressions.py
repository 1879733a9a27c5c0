"""The suppression list in the service's store: one document per account and address."""

from datetime import datetime

from chassis.repository import Repository
from chassis.storage import DuplicateDocument
from services.mailer.domain.delivery import SmtpReply
from services.mailer.domain.suppression import Suppression


class SuppressionList(Repository[Suppression]):
    model = Suppression
    collection_name = "suppressions"

    async def suppressed_among(self, account_id: str, addresses: list[str]) -> set[str]:
        """The addresses, as given, whose entry exists; looked up by id."""
        ids = {Suppression.entry_id(account_id, address): address for address in addresses}
        return {ids[entry_id] for entry_id in await self.documents.get_many(ids)}

    async def suppress(self, account_id: str, mail_id: str, refusals: dict[str, SmtpReply], now: datetime) -> None:
        for address, reply in refusals.items():
            try:
                await self.insert(Suppression.of(account_id, address, mail_id, reply, now))
            except DuplicateDocument:
                pass  # suppressed already: the first bounce is the one worth keeping
