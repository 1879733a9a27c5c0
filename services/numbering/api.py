"""numbering's read API: the continuity report of each of the account's series, from the
allocation ledger in numbering's own store."""

from itertools import groupby
from typing import Annotated, Literal

from fastapi import Query
from pydantic import BaseModel, Field

from chassis.http.api import ReadApi
from chassis.storage import Condition, Order
from services.numbering.adapters.ledger import Ledger
from services.numbering.continuity import series_continuity
from services.numbering.domain.continuity import ContinuityReport, continuity_report
from services.numbering.domain.ledger import LedgerEntry


async def account_entries(ledger: Ledger, account_id: str) -> list[LedgerEntry]:
    """The ledger entries of every series of the account. Its series keys are `<account>/<format>`,
    and account ids hold no `/`, so they are exactly the keys from `<account>/` up to `<account>0`
    (`0` follows `/`)."""
    return await ledger.find([Condition("series_key", "gte", f"{account_id}/"),
                              Condition("series_key", "lt", f"{account_id}0")],
                             order_by=[Order("series_key"), Order("sequence_key"), Order("sequence")])


async def account_continuity(ledger: Ledger, account_id: str) -> list[ContinuityReport]:
    """Every series of the account."""
    entries = await account_entries(ledger, account_id)
    return [continuity_report(key, series) for key, series in groupby(entries, key=lambda entry: entry.series_key)]


class LedgerNumber(BaseModel):
    number: str
    invoice_id: str
    credit_note_id: str | None = Field(default=None, description="Set for a credit note's number")
    status: Literal["held", "gap"] = Field(description="held by the invoice, or a gap (the invoice was deleted)")
    series_key: str


def routes(api: ReadApi, ledger: Ledger) -> None:
    app, Account = api.app, api.Account

    @app.get("/v1/numbering/continuity", response_model=list[ContinuityReport], tags=["numbering"])
    async def continuity(account: Account, number_format: Annotated[
            str | None, Query(description="Only the series of this format, e.g. INV-{yyyy}-{seq:05}")] = None,
    ) -> list[ContinuityReport]:
        """Per series (invoices' and credit notes') and sequence: every number from the first to the
        last is held by its document or a gap with its reason; anything else is flagged (`flagged`,
        counted in `breaks`)."""
        if number_format is not None:
            report = await series_continuity(ledger, account, number_format)
            return [report] if report.sequences else []
        return await account_continuity(ledger, account)

    @app.get("/v1/numbering/numbers", response_model=list[LedgerNumber], tags=["numbering"])
    async def ledger_numbers(account: Account) -> list[LedgerNumber]:
        """Every number the ledger handed out to the account's invoices, in series order, with the
        invoice it went to and whether it is still held: for `invoicing audit` to compare with the
        invoices' numbers."""
        return [LedgerNumber.model_validate(entry, from_attributes=True)
                for entry in await account_entries(ledger, account)]
