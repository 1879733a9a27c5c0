"""payments' read model of the payee IBANs each account asks to be paid to, in its settings or on
its invoices: one document per account, so matching a transaction reads one document.

An account that changes its IBAN keeps the old one here: invoices issued before the change still
ask to be paid there, and a credit to it is still the account's money.
"""

from chassis.storage import CollectionSpec, Store


class PayeeIbans:
    def __init__(self, store: Store) -> None:
        self.documents = store.collection(CollectionSpec("accounts"))
        # An account's IBANs are only ever added, so one seen stored stays stored: every invoice
        # snapshot names its IBAN, and only a new one needs a read.
        self._stored: set[tuple[str, str]] = set()

    async def remember(self, account_id: str, iban: str) -> None:
        if (account_id, iban) in self._stored:
            return
        stored = await self.documents.get(account_id)
        if stored is None:
            await self.documents.insert({"id": account_id, "version": 1, "payee_ibans": [iban]})
        elif iban not in stored["payee_ibans"]:
            await self.documents.update({**stored, "version": stored["version"] + 1,
                                         "payee_ibans": [*stored["payee_ibans"], iban]}, stored["version"])
        self._stored.add((account_id, iban))

    async def of(self, account_id: str) -> set[str]:
        stored = await self.documents.get(account_id)
        return set(stored["payee_ibans"]) if stored else set()
