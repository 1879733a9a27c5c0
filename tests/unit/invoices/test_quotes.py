"""A quote becomes at most one invoice; the quote system hears when a quote is invoiced and when
it is free again; a creation stopped between the quote's claim and the invoice's write leaves the
quote neither lost nor doubled. On the in-memory harness, through the invoices service's handlers."""

from datetime import UTC, datetime

import pytest

from contracts.messages.common import LineItem
from contracts.messages.invoices import DeleteInvoice, FinalizeInvoice, VoidInvoice
from services.invoices.adapters.invoices import Invoices
from services.invoices.domain.quotes import CLAIM_LEASE
from tests.integration.factories import configure_account, create_invoice
from tests.unit.harness import ACCOUNT, Platform, of_type, only

QUOTE = "quote_42"


def from_quote(invoice_id: str, **fields):
    return create_invoice(invoice_id, quote_id=QUOTE, **fields)


@pytest.fixture
async def platform() -> Platform:
    platform = Platform("invoices", "numbering")
    await platform.send(configure_account(ACCOUNT))
    return platform


def refusal(caused) -> str:
    return only(caused, "invoice.command_rejected").reason


async def test_an_invoice_made_from_a_quote_says_so_and_invoices_the_quote_once(platform):
    caused = await platform.send(from_quote("inv_1"))
    assert only(caused, "invoice.created").invoice.quote_id == QUOTE
    [invoiced] = [m for m in caused if m.data.type_name == "quote.invoiced"]
    assert (invoiced.envelope.subject, invoiced.data.invoice_id) == (QUOTE, "inv_1")  # keyed by the quote
    assert refusal(await platform.send(from_quote("inv_2"))) == "quote_already_invoiced"


async def test_deleting_the_draft_made_from_a_quote_releases_it_for_a_new_invoice(platform):
    await platform.send(from_quote("inv_1"))
    caused = await platform.send(DeleteInvoice(invoice_id="inv_1", reason="wrong customer"))
    released = only(caused, "quote.released")
    assert (released.quote_id, released.invoice_id, released.reason) == (QUOTE, "inv_1", "wrong customer")
    again = await platform.send(from_quote("inv_2"))
    assert only(again, "quote.invoiced").invoice_id == "inv_2"
    assert refusal(await platform.send(from_quote("inv_3"))) == "quote_already_invoiced"


async def test_deleting_a_finalized_invoice_where_the_account_allows_it_releases_its_quote(platform):
    await platform.send(configure_account(ACCOUNT, delete_finalized_invoices=True))
    await platform.send(from_quote("inv_1"))
    await platform.send(FinalizeInvoice(invoice_id="inv_1"))
    caused = await platform.send(DeleteInvoice(invoice_id="inv_1", reason="duplicate"))
    assert only(caused, "invoice.deleted").number is not None  # its number becomes a gap
    assert only(caused, "quote.released").invoice_id == "inv_1"
    assert only(await platform.send(from_quote("inv_2")), "quote.invoiced").invoice_id == "inv_2"


async def test_a_voided_invoice_keeps_its_quote_invoiced(platform):
    await platform.send(from_quote("inv_1"))
    await platform.send(FinalizeInvoice(invoice_id="inv_1"))
    caused = await platform.send(VoidInvoice(invoice_id="inv_1", reason="issued by mistake"))
    assert only(caused, "invoice.voided").invoice.status == "void"
    assert of_type(caused, "quote.released") == []
    assert refusal(await platform.send(from_quote("inv_2"))) == "quote_already_invoiced"


async def test_a_creation_its_own_rules_refuse_claims_no_quote(platform):
    negative = [LineItem(description="Refund", quantity="1", unit_amount=-100, tax_rate="0")]
    assert refusal(await platform.send(from_quote("inv_1", lines=negative))) == "negative_total"
    assert only(await platform.send(from_quote("inv_2")), "quote.invoiced").invoice_id == "inv_2"


async def test_an_invoice_write_failing_once_still_makes_one_invoice_for_the_quote(platform):
    platform.invoices.fail_once("invoices", "insert")
    caused = await platform.send(from_quote("inv_1"))
    assert [m.data.type_name for m in caused] == ["invoice.created", "quote.invoiced"]
    assert (await Invoices(platform.invoices.store).get(ACCOUNT, "inv_1")).quote_id == QUOTE
    assert refusal(await platform.send(from_quote("inv_2"))) == "quote_already_invoiced"


async def test_a_creation_stopped_between_the_claim_and_the_invoice_completes_when_delivered_again(platform):
    platform.invoices.crash_at("invoices", "insert")
    assert await platform.send(from_quote("inv_1")) == []
    assert await Invoices(platform.invoices.store).get(ACCOUNT, "inv_1") is None
    # Meanwhile the creation is under way: another invoice for the quote is refused.
    assert refusal(await platform.send(from_quote("inv_2"))) == "quote_already_invoiced"
    recovered = await platform.recover()
    assert [m.data.type_name for m in recovered] == ["invoice.created", "quote.invoiced"]
    assert len(of_type(platform.published, "quote.invoiced")) == 1


async def test_a_claim_whose_invoice_never_appeared_is_released_after_its_lease(platform):
    platform.invoices.crash_at("invoices", "insert")
    await platform.send(from_quote("inv_1"))
    [stopped] = platform.undelivered
    platform.undelivered.clear()  # never delivered again (refused, or dead-lettered when it came back)
    link = platform.invoices.store.collections["quote_links"].rows[f"{ACCOUNT}/{QUOTE}"]
    link["claimed_at"] = (datetime.now(UTC) - CLAIM_LEASE).isoformat()

    assert only(await platform.send(from_quote("inv_2")), "quote.invoiced").invoice_id == "inv_2"
    # Should the stopped creation come back after all, the quote is inv_2's.
    assert refusal(await platform.redeliver(stopped.record.message(), to="invoices")) == "quote_already_invoiced"
    assert await Invoices(platform.invoices.store).get(ACCOUNT, "inv_1") is None


@pytest.mark.parametrize("crash", [False, True], ids=["failed once", "killed"])
async def test_every_write_of_a_creation_from_a_quote_may_fail_and_the_outcome_is_one_invoice_one_claim(crash):
    once = Platform("invoices")
    await once.send(from_quote("inv_1"))
    writes = once.invoices.store.fault_points()
    assert [(c, o) for c, o, _ in writes] == [("quote_links", "insert"), ("invoices", "insert"),
                                              ("invoices", "set_fields"), ("inbox", "insert_new")]
    for collection, operation, skip in writes:
        platform = Platform("invoices")
        fault = platform.invoices.crash_at if crash else platform.invoices.fail_once
        fault(collection, operation, skip=skip)
        await platform.send(from_quote("inv_1"))
        await platform.recover()
        # Published at least once (a retry may publish again what it could not mark published), each
        # under its one id, which the readers' inboxes take once.
        announced = {m.envelope.id: m.data.type_name for m in platform.published if m.envelope.source == "invoices"}
        assert sorted(announced.values()) == ["invoice.created", "quote.invoiced"], (collection, operation)
        assert (await Invoices(platform.invoices.store).get(ACCOUNT, "inv_1")).quote_id == QUOTE
        assert refusal(await platform.send(from_quote("inv_2"))) == "quote_already_invoiced"
