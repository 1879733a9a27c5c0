"""The suppression list: per account, the addresses that bounced permanently.

Addresses are compared case-insensitively: relays treat local parts that way in practice, and
a customer retyping an address in capitals must not get past a known-dead mailbox.
"""

from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.mailer.domain.delivery import SmtpReply


def _key(account_id: str, address: str) -> str:
    return f"{account_id}/{address.lower()}"


class SuppressionList:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db["suppressions"]

    async def suppressed_among(self, account_id: str, addresses: list[str]) -> set[str]:
        keys = {_key(account_id, address): address for address in addresses}
        found = self.collection.find({"_id": {"$in": list(keys)}}, projection={"_id": 1})
        return {keys[entry["_id"]] async for entry in found}

    async def suppress(self, account_id: str, mail_id: str, refusals: dict[str, SmtpReply]) -> None:
        for address, reply in refusals.items():
            try:
                await self.collection.insert_one(
                    {
                        "_id": _key(account_id, address),
                        "account_id": account_id,
                        "address": address,
                        "mail_id": mail_id,
                        "smtp_code": reply.code,
                        "diagnostic": reply.text,
                        "suppressed_at": datetime.now(UTC),
                    }
                )
            except DuplicateKeyError:
                pass  # suppressed already: the first bounce is the one worth keeping
