"""Ids per account, and every handler checking the tenant, without a server: the four services
on the in-memory harness (tests/unit/harness.py), every message a service publishes delivered to
every service that reads its topic (as the Kafka topics would).

Two accounts use the same ids through whole lifecycles; another account's messages naming an
account's ids change nothing of it; another account's id answers exactly as an unknown one.
"""

from datetime import date

import pytest

from chassis.context import HandlerContext
from chassis.messaging import Outgoing
from chassis.metrics import MessagingMetrics
from chassis.repository import AccountRepository
from chassis.storage.memory import MemoryStore
from chassis.tenancy import TenantGuard
from contracts.envelope import Envelope
from contracts.messages.invoices import (
    AccountConfigured,
    DeleteInvoice,
    FinalizeInvoice,
    InvoiceChanges,
    InvoiceDeleted,
    InvoiceFinalized,
    SendInvoice,
    UpdateInvoice,
)
from contracts.messages.mail import MailQueued, SendInvoiceMail
from contracts.messages.numbering import NumberAllocated, NumberRejected
from contracts.messages.payments import (
    BankTransactionReceived,
    PaymentMatched,
    RecordPayment,
    RemovePayment,
)
from contracts.references import format_in_groups
from contracts.refusals import Refusal
from services.invoices.adapters.accounts import Accounts
from services.invoices.adapters.invoices import Invoices
from services.invoices.domain.hosted_link import HostedLinks
from services.invoices.hosted_page import HostedInvoicePages
from services.mailer.adapters.mail_jobs import MailJobs
from services.numbering.adapters.ledger import Ledger
from services.payments.adapters.accounts import PayeeIbans
from services.payments.adapters.invoices import InvoiceReadModel
from services.payments.adapters.payments import PaymentBook
from services.payments.adapters.transactions import TransactionBook
from services.payments.domain.transactions import BankTransaction
from tests.integration.factories import PAYEE_IBAN, configure_account, create_invoice
from tests.unit.harness import HOSTED_LINKS, only
from tests.unit.harness import Platform as Harness

A, B = "acct_a", "acct_b"
ID = "inv_2026_0001"


class Platform(Harness):
    """The four services, with the repositories the tests read."""

    def __init__(self) -> None:
        super().__init__()
        self.invoice_store = Invoices(self.invoices.store)
        self.ledger = Ledger(self.numbering.store)
        self.read_model = InvoiceReadModel(self.payments.store)
        self.payment_book = PaymentBook(self.payments.store)
        self.jobs = MailJobs(self.mailer.store)

    async def lifecycle(self, account: str, invoice_id: str = ID) -> dict[str, Outgoing]:
        """Configure, create, finalize, send, and pay by a matched bank transfer."""
        await self.send(configure_account(account), account)
        await self.send(create_invoice(invoice_id), account)
        by_type = {m.data.type_name: m for m in await self.send(FinalizeInvoice(invoice_id=invoice_id), account)}
        finalized = by_type["invoice.finalized"].data.invoice
        by_type |= {m.data.type_name: m for m in await self.send(SendInvoice(invoice_id=invoice_id), account)}
        transfer = BankTransactionReceived(
            transaction_id="tx-1", iban=PAYEE_IBAN, amount=finalized.total, currency="EUR", booked_on=date.today(),
            remittance_information=f"Invoice {format_in_groups(finalized.payment_reference)}", debtor_name="Globex",
        )
        by_type |= {m.data.type_name: m for m in await self.send(transfer, account)}
        return by_type


@pytest.fixture
def platform() -> Platform:
    return Platform()


# --- the key ------------------------------------------------------------------------------------


async def test_an_account_repository_keys_by_account_and_id_and_gives_back_the_aggregates_own_id(platform):
    assert isinstance(platform.jobs, AccountRepository)
    await platform.send(configure_account(A), A)
    await platform.send(create_invoice(ID), A)
    invoices = platform.invoice_store
    stored = await invoices.get(A, ID)
    assert stored.id == ID and invoices.store_id(stored) == f"{A}/{ID}"
    assert await invoices.get(B, ID) is None
    assert set(platform.invoices.store.collections["invoices"].rows) == {f"{A}/{ID}"}
    assert [found.id for found in await invoices.with_id(ID)] == [ID]


async def test_a_document_stored_under_a_bare_id_before_is_not_found_and_not_written_again(platform):
    await platform.send(configure_account(A), A)
    await platform.send(create_invoice(ID), A)
    documents = platform.invoice_store.documents
    old = {**await documents.get(f"{A}/{ID}"), "id": "inv_old"}
    await documents.insert(old)
    assert await platform.invoice_store.get(A, "inv_old") is None
    assert await platform.invoice_store.store_again([]) == 2  # read both, rewrote only the keyed one
    assert (await documents.get("inv_old"))["version"] == old["version"]


# --- two accounts, one id -----------------------------------------------------------------------


async def test_two_accounts_each_take_the_same_invoice_id_through_a_whole_lifecycle(platform):
    for account in (A, B):
        caused = await platform.lifecycle(account)
        assert {"invoice.finalized", "mail.queued", "payment.matched", "invoice.paid"} <= set(caused), caused.keys()
        assert caused["invoice.paid"].envelope.accountid == account
    for account in (A, B):
        invoice = await platform.invoice_store.get(account, ID)
        assert (invoice.account_id, invoice.status, invoice.number) == (account, "paid", f"INV-{date.today().year}-00001")
        assert "email_queued" in [entry.action for entry in invoice.history]  # the delivery loop sends it
        assert (await platform.ledger.held_by(account, ID)).number == invoice.number  # each account's own series
        assert (await platform.read_model.get(account, ID)).status == "paid"
        [payment] = await platform.payment_book.of_invoice(account, ID)
        assert payment.transaction_id == "tx-1"
    assert sorted(job.account_id for job in await platform.jobs.find([])) == [A, B]
    assert [m.data.reason for m in platform.published if m.data.type_name.endswith("rejected")] == []


async def test_the_hosted_page_finds_the_invoice_by_its_token_among_the_accounts_with_that_id(platform):
    tokens = {}
    for account in (A, B):
        await platform.send(configure_account(account, company_name=f"Company {account}"), account)
        await platform.send(create_invoice(ID), account)
        caused = await platform.send(FinalizeInvoice(invoice_id=ID), account)
        tokens[account] = only(caused, "invoice.finalized").hosted_token
    pages = HostedInvoicePages(platform.invoice_store, HostedLinks(HOSTED_LINKS["hosted_link_secret"]))
    for account in (A, B):
        assert (await pages._invoice(f"/i/{ID}/{tokens[account]}"))[0].account_id == account
    assert await pages._invoice(f"/i/{ID}/{'x' * 43}") is None


# --- another account's id is an unknown one -----------------------------------------------------


async def test_another_accounts_invoice_answers_exactly_as_an_invoice_nobody_has(platform):
    await platform.send(configure_account(A), A)
    await platform.send(create_invoice(ID), A)
    await platform.send(configure_account(B), B)
    for command in (UpdateInvoice(invoice_id=ID, changes=InvoiceChanges(memo="mine")), FinalizeInvoice(invoice_id=ID),
                    DeleteInvoice(invoice_id=ID), SendInvoice(invoice_id=ID)):
        [foreign] = await platform.send(command, B)
        [nobodys] = await platform.send(command.model_copy(update={"invoice_id": "inv_nobody"}), B)
        assert foreign.data.reason == nobodys.data.reason == "unknown_invoice"
        assert foreign.data.message == nobodys.data.message.replace("inv_nobody", ID)
    invoice = await platform.invoice_store.get(A, ID)
    assert (invoice.version, invoice.memo, invoice.status) == (1, "Thank you for your business.", "draft")


async def test_an_account_creating_an_id_another_account_holds_gets_its_own_invoice(platform):
    await platform.send(create_invoice(ID), A)
    [created] = await platform.send(create_invoice(ID, memo="B's"), B)
    assert created.data.type_name == "invoice.created" and created.data.invoice.account_id == B
    [taken] = await platform.send(create_invoice(ID), B)
    assert (taken.data.reason, taken.data.message) == ("invoice_exists", f"The invoice id {ID!r} is taken.")
    assert (await platform.invoice_store.get(A, ID)).memo == "Thank you for your business."


async def test_payments_answers_another_accounts_invoice_payment_and_transaction_as_unknown(platform):
    await platform.lifecycle(A)
    [payment] = await platform.payment_book.of_invoice(A, ID)
    for command in (
        RecordPayment(invoice_id=ID, payment_id="p-1", amount=100, currency="EUR", paid_on=date.today()),
        RemovePayment(invoice_id=ID, payment_id=payment.payment_id),
    ):
        [foreign] = await platform.send(command, B)
        [nobodys] = await platform.send(command, "acct_nobody")
        assert foreign.data.type_name == "payment.rejected"
        assert (foreign.data.reason, foreign.data.message) == (nobodys.data.reason, nobodys.data.message)
        assert foreign.data.reason in ("unknown_invoice", "unknown_payment")
    assert [p.counts for p in await platform.payment_book.of_invoice(A, ID)] == [True]


# --- another account's events change nothing ----------------------------------------------------


async def test_another_accounts_deletion_of_the_same_id_leaves_the_number_held_and_payments_knowing_it(platform):
    await platform.lifecycle(A)
    await platform.send(create_invoice(ID), B)
    caused = await platform.send(DeleteInvoice(invoice_id=ID), B)  # B's own draft, honestly deleted
    assert only(caused, "invoice.deleted").invoice_id == ID
    entry = await platform.ledger.held_by(A, ID)
    assert (entry.status, entry.reason) == ("held", None)
    assert (await platform.read_model.get(A, ID)).status == "paid"
    assert await platform.read_model.get(B, ID) is None


async def test_a_forged_deletion_naming_an_id_of_another_account_changes_nothing(platform):
    await platform.lifecycle(A)
    forged = InvoiceDeleted(invoice_id=ID, status="open", number="INV-X", series_key=f"{B}/INV-{{yyyy}}-{{seq:05}}",
                            reason="gone", deleted_at=date.today().isoformat() + "T00:00:00Z")
    assert await platform.send(forged, B) == []
    assert (await platform.ledger.held_by(A, ID)).status == "held"
    assert (await platform.read_model.get(A, ID)).status == "paid"


async def test_a_snapshot_of_another_account_is_dropped_and_counted_whatever_its_version(platform):
    await platform.lifecycle(A)
    before = await platform.read_model.get(A, ID)
    snapshot = (await platform.invoice_store.get(A, ID)).snapshot().model_copy(update={"version": 10**9, "status": "void"})
    assert await platform.send(InvoiceFinalized(invoice_id=ID, invoice=snapshot, hosted_token="t" * 43), B) == []
    assert platform.payments.dropped("invoice.finalized", "account_mismatch") == 1
    assert await platform.read_model.get(A, ID) == before
    assert await platform.read_model.get(B, ID) is None
    # B's own invoice of that id, with any version, lands beside A's, not over it.
    own = snapshot.model_copy(update={"account_id": B})
    await platform.send(InvoiceFinalized(invoice_id=ID, invoice=own, hosted_token="t" * 43), B)
    assert (await platform.read_model.get(B, ID)).version == 10**9
    assert await platform.read_model.get(A, ID) == before


async def test_an_account_configured_event_for_another_account_is_dropped(platform):
    configured = AccountConfigured(account_id=A, settings={"account_id": A, "payee_iban": "DE02120300000000202051"})
    await platform.send(configured, B)
    assert platform.payments.dropped("account.configured", "account_mismatch") == 1
    ibans = PayeeIbans(platform.payments.store)
    assert await ibans.of(A) == set() and await ibans.of(B) == set()


async def test_events_of_another_account_naming_an_invoice_are_not_applied_and_counted(platform):
    await platform.send(configure_account(A), A)
    await platform.send(create_invoice(ID), A)
    caused = await platform.send(FinalizeInvoice(invoice_id=ID), A)
    number = only(caused, "invoice.finalized").invoice.number
    paid = PaymentMatched(invoice_id=ID, payment_id="p-forged", amount=1, currency="EUR", method="bank_transfer",
                          match="manual", online=True, paid_on=date.today())
    queued = MailQueued(invoice_id=ID, mail_id="mail-forged", kind="invoice", to=["x@example.com"],
                        queued_at=date.today().isoformat() + "T00:00:00Z")
    for event in (paid, queued):
        assert await platform.send(event, B) == []
        assert platform.invoices.dropped(event.type_name, "unknown_invoice") == 1
    allocated = NumberAllocated(invoice_id=ID, series_key=f"{A}/INV-{{yyyy}}-{{seq:05}}", sequence_key="k",
                                sequence=2, number="INV-2", allocated_at=date.today().isoformat() + "T00:00:00Z")
    assert await platform.send(allocated, B) == []
    assert platform.invoices.dropped("number.allocated", "account_mismatch") == 1
    invoice = await platform.invoice_store.get(A, ID)
    assert (invoice.status, invoice.number, invoice.payments, invoice.history[-1].action) == (
        "open", number, [], "finalized")


async def test_an_account_configure_for_another_account_is_refused(platform):
    [refused] = await platform.send(configure_account(A), B)
    assert refused.data.reason == "account_mismatch"
    assert await Accounts(platform.invoices.store).get(A) is None


async def test_mail_ids_are_per_account_and_another_accounts_snapshot_is_refused(platform):
    for account in (A, B):
        await platform.send(configure_account(account), account)
        await platform.send(create_invoice(ID), account)
        await platform.send(FinalizeInvoice(invoice_id=ID), account)
    snapshots = {account: (await platform.invoice_store.get(account, ID)).snapshot() for account in (A, B)}
    for account in (A, B):
        command = SendInvoiceMail(mail_id="mail-1", invoice_id=ID, invoice=snapshots[account], to=["ap@x.example"])
        [queued] = await platform.send(command, account)
        assert queued.data.type_name == "mail.queued"
    assert {(job.account_id, job.id) for job in await platform.jobs.find([])} == {(A, "mail-1"), (B, "mail-1")}
    # A snapshot of another account is refused, whatever the mail id.
    stolen = SendInvoiceMail(mail_id="mail-2", invoice_id=ID, invoice=snapshots[A], to=["ap@x.example"])
    [refused] = await platform.send(stolen, B)
    assert refused.data.reason == "account_mismatch"
    assert await platform.jobs.get(B, "mail-2") is None


def test_a_dropped_event_is_counted_by_type_and_reason():
    metrics = MessagingMetrics()
    envelope = Envelope.originate(source="tests", type="invoice.deleted", subject=ID, accountid=A, actor="t")
    event = InvoiceDeleted(invoice_id=ID, status="draft", deleted_at="2026-01-01T00:00:00Z")
    context = HandlerContext(envelope, event, "numbering", NumberRejected)
    with pytest.raises(Refusal):
        TenantGuard(metrics).check(context, B, "invoice")
    TenantGuard(metrics).check(context, A, "invoice")
    TenantGuard(metrics).check(context, None, "invoice")
    assert metrics.dropped.labels("invoice.deleted", "account_mismatch")._value.get() == 1


async def test_a_redelivery_finds_only_its_own_accounts_transactions_by_message_id():
    transactions = TransactionBook(MemoryStore())
    for account in (A, B):
        transaction = BankTransaction.received(account, BankTransactionReceived(
            transaction_id="tx-1", iban=PAYEE_IBAN, amount=100, currency="EUR", booked_on=date.today()))
        transaction.remember("message-1")  # message ids come from producers: two may coincide
        await transactions.insert(transaction)
    assert [(t.account_id, t.transaction_id) for t in await transactions.naming(B, frozenset(), "message-1")] == [
        (B, "tx-1")]
