"""invoices' read API: the account's invoices listed, filtered, sorted, exported as CSV, one by
one with their flags, payments and hosted page address, their history, and their Factur-X PDF.
Served from the invoices' own documents."""

import csv
import io
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import HTTPException, Path, Query
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from chassis.http.api import ReadApi, refuses
from chassis.http.pagination import Page
from contracts.messages.common import InvoiceSnapshot
from contracts.money import format_amount
from documents.rendering import DocumentRenderer, RenderFailed
from services.invoices.adapters.invoices import Invoices
from services.invoices.adapters.listing import SORT_FIELDS, InvoiceFilter, position
from services.invoices.domain.figures import counted_total, is_partially_paid
from services.invoices.domain.hosted_link import HostedLinks
from services.invoices.domain.invoice import HistoryEntry, Invoice, Payment, Status
from services.invoices.invoice_pdf import RETRY_AFTER_SECONDS, content_disposition, pdf_of

Sort = Literal[tuple(f"{sign}{field}" for field in SORT_FIELDS for sign in ("", "-"))]
EXPORT_BATCH = 1000  # rows written to the response at once


class InvoiceQuery(InvoiceFilter):
    sort: Sort = Field("-issued_on", description="A field, with `-` for descending; drafts (no date, no number) "
                                                 "sort last ascending, first descending")

    @property
    def sorted_by(self) -> tuple[str, bool]:
        return self.sort.lstrip("-"), self.sort.startswith("-")


class ListQuery(InvoiceQuery):
    limit: int = Field(25, ge=1, le=100)
    cursor: str | None = Field(None, description="`next_cursor` of the previous page")

    @property
    def scope(self) -> str:
        """What a cursor of this list is signed for: its filters and its sort, not its page size."""
        return "invoices " + self.model_dump_json(exclude={"limit", "cursor"})


_HOSTED_URL = ("The invoice's hosted page, for its customer: <INVOICES_PUBLIC_URL>/i/<id>/<token>. Null for a "
               "draft, or where the deployment has no public URL")


class CreditNoteListed(BaseModel):
    id: str
    number: str


class InvoiceSummary(BaseModel):
    id: str
    number: str | None
    status: Status
    customer: str
    currency: str
    total: int
    amount_paid: int
    amount_remaining: int
    applied_balance: int = Field(default=0, description="What the customer's balance paid of it")
    credit_notes: list[CreditNoteListed] = Field(default=[], description="Its issued credit notes")
    issued_on: date | None
    due_date: date | None
    past_due: bool
    payment_pending: bool = Field(default=False, description="A transfer for it is on its way (payment.pending)")
    last_sent_at: datetime | None
    hosted_url: str | None = Field(default=None, description=_HOSTED_URL)


class Flags(BaseModel):
    past_due: bool
    partially_paid: bool
    last_sent_at: datetime | None
    last_sent_to: list[str]


class InvoiceDetail(BaseModel):
    invoice: InvoiceSnapshot
    flags: Flags
    payments: list[Payment]
    hosted_url: str | None = Field(default=None, description=_HOSTED_URL)


class History(BaseModel):
    invoice_id: str
    data: list[HistoryEntry]


class CurrencyTotals(BaseModel):
    currency: str
    count: int
    total: int = Field(description="Void invoices count as zero")
    amount_paid: int
    amount_remaining: int


_PDF = {"content": {"application/pdf": {}},
        "description": "The Factur-X PDF, as an attachment named <number>.pdf"}

# An invoice's issued credit notes follow its row, one row each: `document_type` says which a row is
# and `corrects` names a credit note's invoice. Their amounts are as the credit note prints them
# (positive: what it takes back), so the CSV says what the documents say.
CSV_COLUMNS = ["id", "number", "status", "customer", "customer_email", "currency", "total", "amount_paid",
               "amount_remaining", "issued_on", "due_date", "past_due", "last_sent_at", "document_type", "corrects",
               "payment_pending"]
# A spreadsheet reads a cell that starts with one of these as a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def summary(document: dict, links: HostedLinks) -> InvoiceSummary:
    """A list row, from the stored document (its listing, and the nonce its page address is made from)."""
    listing = document["listing"]
    hosted_url = links.url(document["account_id"], listing["id"], document.get("hosted_link_nonce"))
    return InvoiceSummary.model_validate({**listing, "hosted_url": hosted_url})


def text_cell(value: str | None) -> str | None:
    """A text cell no spreadsheet runs: one that starts like a formula gets a leading `'`, which
    spreadsheets take as "this is text" (OWASP's rule). Amounts are not text cells: they are
    numbers we write, and a negative one stays a number."""
    return f"'{value}" if value and value.startswith(FORMULA_STARTS) else value


def csv_row(listing: dict) -> list:
    """One row, in CSV_COLUMNS' order (None is written as an empty field)."""
    currency = listing["currency"]
    return [
        *map(text_cell, (listing["id"], listing["number"], listing["status"], listing["customer"],
                         listing["customer_email"], currency)),
        format_amount(listing["total"], currency), format_amount(listing["amount_paid"], currency),
        format_amount(listing["amount_remaining"], currency), listing["issued_on"], listing["due_date"],
        "true" if listing["past_due"] else "false", listing["last_sent_at"], "invoice", None,
        "true" if listing.get("payment_pending") else "false",
    ]


def csv_rows(listing: dict) -> list[list]:
    """The invoice's row, then one per credit note it issued, in CSV_COLUMNS' order."""
    currency = listing["currency"]
    return [csv_row(listing), *(
        [*map(text_cell, (note["id"], note["number"], "issued", listing["customer"], listing["customer_email"],
                          currency)),
         format_amount(note["total"], currency), None, None, note["issued_on"], None, "false", None, "credit_note",
         text_cell(listing["number"]), None]
        for note in listing.get("credit_notes", []))]


async def csv_lines(first: dict | None, documents: AsyncIterator[dict]) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    if first is None:
        yield buffer.getvalue()
        return
    writer.writerows(csv_rows(first["listing"]))
    rows = 1
    async for document in documents:
        writer.writerows(csv_rows(document["listing"]))
        rows += 1
        if rows % EXPORT_BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def detail(invoice: Invoice, links: HostedLinks) -> InvoiceDetail:
    snapshot = invoice.snapshot()
    return InvoiceDetail(
        invoice=snapshot.model_copy(update={"version": invoice.version}),
        flags=Flags(
            past_due=invoice.past_due,
            partially_paid=is_partially_paid(invoice.status, invoice.amount_paid, invoice.amount_remaining),
            last_sent_at=invoice.last_sent_at, last_sent_to=invoice.last_sent_to,
        ),
        payments=invoice.payments,
        hosted_url=invoice.hosted_url(links),
    )


def routes(api: ReadApi, invoices: Invoices, links: HostedLinks, renderer: DocumentRenderer) -> None:
    app, Account = api.app, api.Account
    InvoiceId = Annotated[str, Path(description="The invoice id")]

    async def invoice_of(account: str, invoice_id: str) -> Invoice:
        # Looked up among the account's own: another account's id is not found, like a missing one.
        invoice = await invoices.get(account, invoice_id)
        if invoice is None or invoice.deleted or invoice.account_id != account:
            raise HTTPException(404, "No such invoice.")
        return invoice

    @app.get("/v1/invoices", response_model=Page[InvoiceSummary], tags=["invoices"], responses=refuses(400))
    async def list_invoices(account: Account, query: Annotated[ListQuery, Query()]) -> Page[InvoiceSummary]:
        """The account's invoices, filtered and sorted, a page at a time."""
        sort, descending = query.sorted_by
        after = api.cursors.position(query.cursor, account, query.scope) if query.cursor else None
        documents = await invoices.page(account, query, sort, descending, query.limit + 1, after)
        page = api.cursors.page_of(documents, query.limit, lambda document: position(document, sort), account,
                                   query.scope)
        return Page[InvoiceSummary](data=[summary(document, links) for document in page.data],
                                    has_more=page.has_more,
                                    next_cursor=page.next_cursor)

    @app.get("/v1/invoices/export.csv", tags=["invoices"], response_class=StreamingResponse,
             responses={200: {"content": {"text/csv": {}}, "description": "A header row, then one row per "
                                                                         "invoice; amounts in major units"}})
    async def export_invoices(account: Account, query: Annotated[InvoiceQuery, Query()]) -> StreamingResponse:
        """Every invoice the filters select, as CSV, streamed as it is read."""
        sort, descending = query.sorted_by
        documents = invoices.export(account, query, sort, descending)
        # The first invoice is read before the answer starts: a query the store refuses, or a store
        # that is away, is answered with its status, not with a 200 that breaks off.
        first = await anext(documents, None)
        return StreamingResponse(csv_lines(first, documents), media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": 'attachment; filename="invoices.csv"'})

    @app.get("/v1/invoices/totals", response_model=list[CurrencyTotals], tags=["invoices"])
    async def invoice_totals(account: Account, query: Annotated[InvoiceQuery, Query()]) -> list[CurrencyTotals]:
        """Sums per currency of the invoices the filters select; void invoices count as zero."""
        sums: dict[str, CurrencyTotals] = {}
        async for document in invoices.export(account, query, "due_date", False):
            listing = document["listing"]
            currency = listing["currency"]
            sums.setdefault(currency, CurrencyTotals(currency=currency, count=0, total=0, amount_paid=0,
                                                     amount_remaining=0))
            entry = sums[currency]
            entry.count += 1
            entry.total += counted_total(listing["status"], listing["total"])
            entry.amount_paid += listing["amount_paid"]
            entry.amount_remaining += listing["amount_remaining"]
        return [sums[currency] for currency in sorted(sums)]

    @app.get("/v1/invoices/by-number/{number:path}", response_model=InvoiceDetail, tags=["invoices"],
             responses=refuses(404))
    async def invoice_by_number(account: Account, number: str) -> InvoiceDetail:
        """The invoice with this number (void ones too)."""
        invoice = await invoices.by_number(account, number)
        if invoice is None:
            raise HTTPException(404, "No such invoice.")
        return detail(invoice, links)

    @app.get("/v1/invoices/{invoice_id}", response_model=InvoiceDetail, tags=["invoices"], responses=refuses(404))
    async def show_invoice(account: Account, invoice_id: InvoiceId) -> InvoiceDetail:
        """One invoice with its flags, payments and hosted page address (void ones too)."""
        return detail(await invoice_of(account, invoice_id), links)

    @app.get("/v1/invoices/{invoice_id}/pdf", tags=["invoices"], response_class=Response,
             responses={**refuses(404, 409), 200: _PDF})
    async def invoice_pdf(account: Account, invoice_id: InvoiceId) -> Response:
        """The invoice's Factur-X PDF (PDF/A-3 with its CII XML): the document its mails attach and
        its hosted page serves. While it renders too long or fails: 503 with Retry-After."""
        invoice = await invoice_of(account, invoice_id)
        if invoice.status == "draft":
            raise HTTPException(409, "The invoice is a draft and has no document yet; finalize it first.")
        snapshot = invoice.snapshot()
        try:
            pdf = await pdf_of(renderer, snapshot, snapshot)
        except RenderFailed:
            raise HTTPException(503, "The invoice document could not be prepared just now; try again in a minute.",
                                headers={"Retry-After": str(RETRY_AFTER_SECONDS)}) from None
        return Response(pdf, media_type="application/pdf",
                        headers={"Content-Disposition": content_disposition(snapshot)})

    @app.get("/v1/invoices/{invoice_id}/history", response_model=History, tags=["invoices"], responses=refuses(404))
    async def invoice_history(account: Account, invoice_id: InvoiceId) -> History:
        """Every change, oldest first: who, when, what changed from what to what, status changes,
        sends and every delivery attempt, payments."""
        invoice = await invoice_of(account, invoice_id)
        return History(invoice_id=invoice.id, data=invoice.history)
