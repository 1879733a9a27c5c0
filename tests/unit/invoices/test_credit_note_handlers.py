"""invoices' credit-note handlers on the chassis' unit of work and the in-memory store: a number
for a credit note issues it, a refused or unappliable one answers credit_note.create, and the
account's credit-note series and ids are checked before the invoice is."""

from datetime import UTC, datetime

import pytest

from contracts.messages.credit_notes import CreateCreditNote
from contracts.messages.numbering import NumberAllocated, NumberRejected
from services.invoices.adapters.accounts import Accounts
from services.invoices.adapters.invoices import Invoices
from services.invoices.domain.account import AccountSettings
from tests.unit.harness import ACCOUNT, Platform
from tests.unit.invoices.test_credit_notes import issued_invoice

SERIES = f"{ACCOUNT}/CN-{{yyyy}}-{{seq:05}}"


class Harness:
    """The invoices service alone: what it answers to each message, without what follows."""

    def __init__(self) -> None:
        self.platform = Platform("invoices")
        store = self.platform.invoices.store
        self.invoices, self.accounts = Invoices(store), Accounts(store)

    async def handle(self, data, *, dead_lettered: bool = False) -> list:
        if dead_lettered:  # its handler fails on every try: the record is dead-lettered
            for _ in range(self.platform.invoices.service.settings.handler_attempts):
                self.platform.invoices.fail_once("invoices", "update", error=lambda: RuntimeError("cannot apply"))
        return [message.data for message in await self.platform.send(data, follow=False)]


@pytest.fixture
async def harness() -> Harness:
    harness = Harness()
    invoice = issued_invoice()
    invoice.id = "inv_1"
    await harness.invoices.insert(invoice)
    return harness


def allocated(number: str = "CN-2026-00001") -> NumberAllocated:
    return NumberAllocated(invoice_id="inv_1", credit_note_id="cn_1", series_key=SERIES, sequence_key=f"{SERIES}@2026",
                           sequence=1, number=number, allocated_at=datetime(2026, 11, 2, tzinfo=UTC))


async def test_a_credit_note_is_issued_when_its_number_arrives_and_only_once(harness):
    [allocate] = await harness.handle(CreateCreditNote(invoice_id="inv_1", credit_note_id="cn_1", amount=969))
    assert (allocate.type_name, allocate.series_key, allocate.credit_note_id) == ("number.allocate", SERIES, "cn_1")
    issued, updated = await harness.handle(allocated())
    assert (issued.type_name, issued.credit_note.number, updated.invoice.amount_remaining) == (
        "credit_note.issued", "CN-2026-00001", 12000)
    assert await harness.handle(allocated()) == []  # the same number announced again
    assert (await harness.invoices.get(ACCOUNT, "inv_1")).status == "open"


async def test_a_number_refused_or_not_applied_answers_the_create_and_drops_the_credit_note(harness):
    await harness.handle(CreateCreditNote(invoice_id="inv_1", credit_note_id="cn_1", amount=969))
    [answer] = await harness.handle(NumberRejected(command_id="x", command_type="number.allocate",
                                                   reason="account_not_allowed", message="no", invoice_id="inv_1",
                                                   credit_note_id="cn_1"))
    assert (answer.command_type, answer.reason) == ("credit_note.create", "account_not_allowed")
    await harness.handle(CreateCreditNote(invoice_id="inv_1", credit_note_id="cn_1", amount=969))
    [answer] = await harness.handle(allocated(), dead_lettered=True)
    assert (answer.command_type, answer.reason) == ("credit_note.create", "finalization_failed")
    invoice = await harness.invoices.get(ACCOUNT, "inv_1")
    assert (invoice.credit_notes, invoice.status, invoice.number) == ([], "open", "INV-2026-00001")


async def test_an_id_another_invoice_holds_and_a_shared_series_are_refused(harness):
    other = issued_invoice()
    other.id = "inv_2"
    await harness.invoices.insert(other)
    await harness.handle(CreateCreditNote(invoice_id="inv_1", credit_note_id="cn_1", amount=969))
    [refused] = await harness.handle(CreateCreditNote(invoice_id="inv_2", credit_note_id="cn_1", amount=969))
    assert refused.reason == "credit_note_exists"
    await harness.accounts.insert(AccountSettings(id=ACCOUNT, number_format="CN-{yyyy}-{seq:05}"))
    [refused] = await harness.handle(CreateCreditNote(invoice_id="inv_2", credit_note_id="cn_2", amount=969))
    assert refused.reason == "same_number_format"
