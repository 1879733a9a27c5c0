"""The account's credit notes in invoices' read API: listed (by invoice, customer id, issue date),
a page at a time with signed cursors, and one by one. Credit notes are kept in the invoice they
correct; a list reads the account's credited invoices by index and orders their credit notes by
issue, so a page costs what the account's credited invoices cost to read."""

from datetime import date
from typing import Annotated

from fastapi import HTTPException, Path, Query
from pydantic import BaseModel, Field, create_model

from chassis.http.api import ReadApi, refuses
from chassis.http.pagination import Page
from contracts.messages.credit_notes import CreditNoteSnapshot
from services.invoices.adapters.invoices import Invoices

# As its snapshot says it, without the version of the invoice that stores it.
CreditNoteShown = create_model(
    "CreditNote", __doc__=CreditNoteSnapshot.__doc__,
    **{name: (info.annotation, info) for name, info in CreditNoteSnapshot.model_fields.items() if name != "version"})


def shown(note: CreditNoteSnapshot) -> BaseModel:
    return CreditNoteShown.model_validate(note.model_dump(exclude={"version"}))


class CreditNoteFilter(BaseModel):
    """Every field given narrows the list. The date range includes both ends."""

    invoice_id: str | None = Field(None, description="The invoice they correct")
    customer_id: str | None = Field(None, description="The customer's id (`customer.id`)")
    issued_from: date | None = None
    issued_to: date | None = None
    limit: int = Field(25, ge=1, le=100)
    cursor: str | None = Field(None, description="`next_cursor` of the previous page")

    @property
    def scope(self) -> str:
        """What a cursor of this list is signed for: its filters, not its page size."""
        return "credit_notes " + self.model_dump_json(exclude={"limit", "cursor"})

    def selects(self, note: CreditNoteSnapshot) -> bool:
        issued_on = note.issued_at.date()
        return ((self.customer_id is None or note.customer.id == self.customer_id)
                and (self.issued_from is None or issued_on >= self.issued_from)
                and (self.issued_to is None or issued_on <= self.issued_to))


def position(note: CreditNoteSnapshot) -> str:
    """Issue order, oldest first; the ids make it unique."""
    return f"{note.issued_at.isoformat()} {note.invoice_id} {note.id}"


def routes(api: ReadApi, invoices: Invoices) -> None:
    app, Account = api.app, api.Account

    @app.get("/v1/credit-notes", response_model=Page[CreditNoteShown], tags=["credit notes"], responses=refuses(400))
    async def list_credit_notes(account: Account, query: Annotated[CreditNoteFilter, Query()]) -> Page[CreditNoteShown]:
        """The account's issued credit notes, oldest first, a page at a time."""
        after = api.cursors.position(query.cursor, account, query.scope) if query.cursor else ""
        notes = sorted((note for invoice in await invoices.credited(account, query.invoice_id)
                        for note in invoice.credit_note_snapshots() if query.selects(note)), key=position)
        following = [note for note in notes if position(note) > after][:query.limit + 1]
        page = api.cursors.page_of(following, query.limit, position, account, query.scope)
        return Page[CreditNoteShown](data=[shown(note) for note in page.data], has_more=page.has_more,
                                     next_cursor=page.next_cursor)

    @app.get("/v1/credit-notes/{credit_note_id}", response_model=CreditNoteShown, tags=["credit notes"],
             responses=refuses(404))
    async def show_credit_note(account: Account, credit_note_id: Annotated[str, Path(
            description="The credit note id")]) -> CreditNoteShown:
        """One credit note, issued or waiting for its number."""
        invoice = await invoices.with_credit_note(account, credit_note_id)
        note = next((note for note in invoice.credit_notes if note.id == credit_note_id), None) if invoice else None
        if note is None:
            raise HTTPException(404, "No such credit note.")
        return shown(note.snapshot())
