"""payments' read model of invoices, fed by the snapshots on invoices.events.

One small document per invoice, holding only what matching and payment rules need; drafts too,
so a payment naming one is refused for being a draft, not for an unknown invoice. Snapshots can
arrive late or twice, so a write only lands when it carries a newer version than the one stored:
the document's version is the invoice's.

Invoice ids are per account: a document is keyed by (account, invoice id), and every lookup names
the account, so a snapshot or a deletion of one account never reaches another's invoice of the
same id, whatever version it carries.
"""

from dataclasses import dataclass

from chassis.repository import account_key, id_of_key
from chassis.storage import CollectionSpec, Condition, Index, Key, Store
from services.payments.domain.matching import RemittanceReferences, number_token
from services.payments.domain.model import InvoiceView

SPEC = CollectionSpec(
    "invoices",
    keys=(Key("account_id", "text"), Key("payment_reference", "text"), Key("number_token", "text")),
    indexes=(Index(("account_id", "payment_reference")), Index(("account_id", "number_token"))),
)


@dataclass(frozen=True)
class Remembered:
    """What storing a snapshot found: whether it was newer than the stored one (False: a snapshot
    as new came before, from this very message or from another event of the same change), and
    the snapshot stored before."""

    stored: bool
    earlier: InvoiceView | None


class InvoiceReadModel:
    def __init__(self, store: Store) -> None:
        self.documents = store.collection(SPEC)

    key = staticmethod(account_key)

    @staticmethod
    def _view(document: dict) -> InvoiceView:
        return InvoiceView.model_validate({**document, "id": id_of_key(document["id"])})

    async def remember(self, invoice: InvoiceView) -> "Remembered":
        """Store the snapshot unless one as new is stored already (under its own account)."""
        token = number_token(invoice.number) if invoice.number is not None else None
        key = self.key(invoice.account_id, invoice.id)
        document = {**invoice.model_dump(mode="json"), "id": key, "number_token": token}
        stored = await self.documents.get(key)
        if stored is None:
            await self.documents.insert(document)
        elif stored["version"] < invoice.version:
            await self.documents.update(document, stored["version"])
        else:
            return Remembered(stored=False, earlier=self._view(stored))
        return Remembered(stored=True, earlier=self._view(stored) if stored else None)

    async def forget(self, account_id: str, invoice_id: str) -> None:
        await self.documents.delete(self.key(account_id, invoice_id))

    async def get(self, account_id: str, invoice_id: str) -> InvoiceView | None:
        """The account's invoice; another account's of the same id is not looked at."""
        document = await self.documents.get(self.key(account_id, invoice_id))
        return self._view(document) if document else None

    async def named_in(self, account_id: str, references: RemittanceReferences) -> list[InvoiceView]:
        """The account's invoices whose RF reference or number the remittance text carries."""
        found: dict[str, dict] = {}
        for key, values in (("payment_reference", references.creditor_references), ("number_token", references.words)):
            if values:
                where = [Condition("account_id", "eq", account_id), Condition(key, "in", sorted(values))]
                found |= {document["id"]: document for document in await self.documents.find(where)}
        return [self._view(document) for document in found.values()]
