"""Account settings in the service's store: one document per account."""

from chassis.repository import Repository
from services.invoices.domain.account import AccountSettings


class Accounts(Repository[AccountSettings]):
    model = AccountSettings
    collection_name = "accounts"

    async def settings_of(self, account_id: str) -> AccountSettings:
        """An account that never configured anything bills with the defaults (or not at all)."""
        return await self.get(account_id) or AccountSettings(id=account_id)
