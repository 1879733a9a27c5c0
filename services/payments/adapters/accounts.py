"""payments' read model of account settings: the payee IBANs each account configured.

An account that changes its IBAN keeps the old one here: invoices issued before the change still
ask to be paid there, and a credit to it is still the account's money.
"""

from pymongo.asynchronous.database import AsyncDatabase


class PayeeIbans:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db["accounts"]

    async def remember(self, account_id: str, iban: str) -> None:
        await self.collection.update_one({"_id": account_id}, {"$addToSet": {"payee_ibans": iban}}, upsert=True)

    async def of(self, account_id: str) -> set[str]:
        document = await self.collection.find_one({"_id": account_id})
        return set(document["payee_ibans"]) if document else set()
