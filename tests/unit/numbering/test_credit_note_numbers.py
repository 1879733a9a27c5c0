"""Credit notes are numbered by the same handlers as invoices, from their own series, one number
per document: an invoice and each of its credit notes."""

from datetime import UTC, date, datetime

from chassis.storage import Condition
from contracts.messages.numbering import AllocateNumber
from services.numbering.api import account_continuity
from services.numbering.domain.ledger import LedgerEntry
from tests.unit.harness import ACCOUNT, only
from tests.unit.numbering.test_allocation_handlers import SERIES, allocate, ledger, platform  # noqa: F401

CREDIT_NOTES = f"{ACCOUNT}/CN-{{yyyy}}-{{seq:05}}"


def allocate_for_credit_note(invoice_id: str, credit_note_id: str) -> AllocateNumber:
    return AllocateNumber(series_key=CREDIT_NOTES, number_format="CN-{yyyy}-{seq:05}", invoice_id=invoice_id,
                          credit_note_id=credit_note_id, issued_on=date(2026, 11, 30))


async def test_an_invoice_and_its_credit_notes_each_hold_a_number_of_their_own_series(platform, ledger):  # noqa: F811
    invoice = only(await platform.send(allocate("inv_a")), "number.allocated")
    first = only(await platform.send(allocate_for_credit_note("inv_a", "cn_1")), "number.allocated")
    second = only(await platform.send(allocate_for_credit_note("inv_a", "cn_2")), "number.allocated")
    assert (invoice.number, invoice.credit_note_id) == ("INV-2026-00001", None)
    assert (first.number, first.credit_note_id, first.invoice_id) == ("CN-2026-00001", "cn_1", "inv_a")
    assert (second.number, second.series_key) == ("CN-2026-00002", CREDIT_NOTES)
    # The answer goes back to the invoice's partition.
    assert first.aggregate_id() == "inv_a"


async def test_a_credit_note_asked_again_gets_its_number_again_and_the_series_has_no_gap(platform, ledger):  # noqa: F811
    first = only(await platform.send(allocate_for_credit_note("inv_a", "cn_1")), "number.allocated")
    again = only(await platform.send(allocate_for_credit_note("inv_a", "cn_1")), "number.allocated")
    assert again.number == first.number == "CN-2026-00001"
    assert (await ledger.held_by(ACCOUNT, "inv_a", "cn_1")).version == 1
    assert await ledger.held_by(ACCOUNT, "inv_a") is None  # the invoice's own number is not the credit note's


async def test_the_continuity_report_covers_the_credit_note_series_beside_the_invoice_series(platform, ledger):  # noqa: F811
    await platform.send(allocate("inv_a"))
    await platform.send(allocate_for_credit_note("inv_a", "cn_1"))
    await platform.send(allocate_for_credit_note("inv_b", "cn_2"))
    reports = await account_continuity(ledger, ACCOUNT)
    assert [(report.series_key, report.sequences[0].held, report.breaks) for report in reports] == [
        (CREDIT_NOTES, 2, 0), (SERIES, 1, 0)]


async def test_an_entry_stored_before_credit_notes_stays_its_invoices_number(platform, ledger):  # noqa: F811
    before = LedgerEntry.allocate(invoice_id="inv_old", account_id=ACCOUNT, series_key=SERIES,
                                  number_format="INV-{yyyy}-{seq:05}", issued_on=date(2026, 1, 5), last_sequence=0,
                                  now=datetime(2026, 1, 5, tzinfo=UTC))
    document = before.model_dump(mode="json")
    del document["document"], document["credit_note_id"]  # as an entry was written before credit notes
    assert LedgerEntry.model_validate(document).document == "inv_old"
    # PostgreSQL and MongoDB kept the key the invoice id was written under; the memory store reads
    # it from the document, so it is written again as the ledger writes entries now.
    await ledger.documents.insert(document)
    assert await ledger.store_again([Condition("invoice_id", "eq", None)]) == 1
    assert (await ledger.held_by(ACCOUNT, "inv_old")).number == "INV-2026-00001"
    again = only(await platform.send(allocate("inv_old")), "number.allocated")
    assert again.number == "INV-2026-00001"
    credit_note = only(await platform.send(allocate_for_credit_note("inv_old", "cn_1")), "number.allocated")
    assert credit_note.number == "CN-2026-00001"


async def test_a_refused_allocation_names_the_credit_note_so_the_invoice_can_drop_it(platform, ledger):  # noqa: F811
    command = AllocateNumber(series_key="other_acct/CN-{seq}", number_format="CN-{seq}", invoice_id="inv_a",
                             credit_note_id="cn_1", issued_on=date(2026, 11, 30))
    [rejected] = await platform.send(command)
    assert (rejected.data.type_name, rejected.data.invoice_id, rejected.data.credit_note_id) == (
        "number.rejected", "inv_a", "cn_1")
    assert rejected.envelope.subject == "inv_a"  # keyed by the invoice, back to its partition
