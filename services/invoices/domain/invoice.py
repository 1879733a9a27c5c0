"""The invoice aggregate and its lifecycle (docs/design.md, "Invoice lifecycle"). Pure: no I/O, no clock.

Every method checks the rule for the invoice's current status, changes the invoice, and appends
a history entry saying who did what and what changed. The caller passes `now` and `actor`, so
the rules can be tested without a server and replayed deterministically.
"""

from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.messages.common import Customer, InvoiceSnapshot, Issuer, LineItem, PricedLine
from contracts.messages.invoices import CreateInvoice, InvoiceChanges
from services.invoices.domain.account import AccountSettings
from services.invoices.domain.errors import RuleViolation
from services.invoices.domain.payment_reference import payment_reference_for
from services.invoices.domain.totals import price_line, totals

Status = Literal["draft", "open", "paid", "void", "uncollectible"]
PaymentMatch = Literal["automatic", "applied", "manual"]


class Payment(BaseModel):
    payment_id: str
    amount: int
    method: str
    match: PaymentMatch
    online: bool = False
    paid_on: date
    transaction_id: str | None = None


class HistoryEntry(BaseModel):
    at: datetime
    actor: str
    action: str
    message_id: str
    status_from: Status | None = None
    status_to: Status | None = None
    changes: list[dict[str, Any]] = []
    detail: dict[str, Any] = {}


class PendingFinalization(BaseModel):
    command_id: str
    requested_at: datetime
    issued_on: date
    series_key: str
    number_format: str


class Invoice(BaseModel):
    model_config = ConfigDict(validate_assignment=False)

    id: str
    account_id: str
    status: Status = "draft"
    number: str | None = None
    series_key: str | None = None
    currency: str
    customer: Customer
    issuer: Issuer | None = None
    lines: list[PricedLine] = []
    due_date: date | None = None
    days_until_due: int | None = None
    memo: str = ""
    metadata: dict[str, str] = {}
    quote_id: str | None = None
    subscription_id: str | None = None
    payee_iban: str | None = None
    payment_reference: str | None = None
    payments: list[Payment] = []
    paid_out_of_band: bool = False
    created_at: datetime
    finalized_at: datetime | None = None
    paid_at: datetime | None = None
    voided_at: datetime | None = None
    last_sent_at: datetime | None = None
    last_sent_to: list[str] = []
    pending_finalization: PendingFinalization | None = None
    pending_sends: dict[str, str] = Field(default_factory=dict, description="mail id -> invoice.send command id")
    deleted: bool = False
    version: int = 0
    history: list[HistoryEntry] = []

    # --- derived figures ------------------------------------------------------------------------

    @property
    def total(self) -> int:
        return totals(self.lines).total

    @property
    def amount_paid(self) -> int:
        return sum(payment.amount for payment in self.payments)

    @property
    def amount_due(self) -> int:
        return self.total

    @property
    def amount_remaining(self) -> int:
        if self.paid_out_of_band or self.status == "void":
            return 0
        return max(self.total - self.amount_paid, 0)

    @property
    def overpaid_amount(self) -> int:
        return max(self.amount_paid - self.total, 0)

    def snapshot(self) -> InvoiceSnapshot:
        figures = totals(self.lines)
        return InvoiceSnapshot(
            **self.model_dump(
                include={
                    "id", "account_id", "status", "number", "currency", "customer", "issuer", "lines",
                    "due_date", "days_until_due", "payee_iban", "payment_reference", "quote_id", "memo",
                    "metadata", "created_at", "finalized_at", "paid_at", "voided_at", "last_sent_at", "version",
                }
            ),
            subtotal=figures.subtotal,
            tax=figures.tax,
            total=figures.total,
            amount_paid=self.amount_paid,
            amount_due=self.amount_due,
            amount_remaining=self.amount_remaining,
        )

    # --- lifecycle ------------------------------------------------------------------------------

    @classmethod
    def create(cls, command: CreateInvoice, account_id: str, *, now: datetime, actor: str, message_id: str,
               cloned_from: str | None = None) -> "Invoice":
        invoice = cls(
            id=command.invoice_id,
            account_id=account_id,
            currency=command.currency,
            customer=command.customer,
            lines=[price_line(line) for line in command.lines],
            due_date=command.due_date,
            days_until_due=command.days_until_due,
            memo=command.memo,
            metadata=command.metadata,
            quote_id=command.quote_id,
            subscription_id=command.subscription_id,
            created_at=now,
        )
        detail = {"cloned_from": cloned_from} if cloned_from else {}
        invoice._record("created", now, actor, message_id, status_to="draft", detail=detail)
        return invoice

    def clone_command(self, new_invoice_id: str) -> CreateInvoice:
        """The create command for a new draft with this invoice's content (any status)."""
        return CreateInvoice(
            invoice_id=new_invoice_id,
            currency=self.currency,
            customer=self.customer,
            lines=[LineItem(**line.model_dump(include=set(LineItem.model_fields))) for line in self.lines],
            days_until_due=self.days_until_due,
            due_date=None if self.days_until_due is not None else self.due_date,
            memo=self.memo,
            metadata=self.metadata,
        )

    def update(self, changes: InvoiceChanges, account: AccountSettings, *, now: datetime, actor: str,
               message_id: str) -> list[dict[str, Any]]:
        requested = changes.model_dump(exclude_none=True)
        if not requested:
            raise RuleViolation("no_changes", "The update names no field to change.")
        if self.status in ("paid", "void", "uncollectible"):
            raise RuleViolation("invoice_not_editable", f"A {self.status} invoice cannot be edited.")
        if self.status == "open" and set(requested) - {"memo", "metadata"}:
            if not account.edit_finalized_invoices:
                raise RuleViolation(
                    "invoice_not_editable",
                    "Only memo and metadata of a finalized invoice can change; the account does not allow editing finalized invoices.",
                )
            if self.payments:
                raise RuleViolation("invoice_not_editable", "An invoice with a recorded payment cannot be edited.")
            if self.subscription_id:
                raise RuleViolation("invoice_not_editable", "A subscription invoice cannot be edited once finalized.")
        if self.pending_finalization is not None:
            raise RuleViolation("finalization_pending", "The invoice is being finalized.")

        applied = []
        for field in requested:
            before = getattr(self, field)
            after = getattr(changes, field)
            if field == "lines":
                after = [price_line(line) for line in after]
            if field == "due_date" and after is not None:
                self.days_until_due = None
            if field == "days_until_due" and after is not None:
                self.due_date = self._due_date_from(after) if self.finalized_at else None
            setattr(self, field, after)
            applied.append({"field": field, "before": _plain(before), "after": _plain(after)})
        self._record("updated", now, actor, message_id, changes=applied)
        return applied

    def request_finalization(self, account: AccountSettings, series_key: str, *, now: datetime, actor: str,
                             message_id: str) -> None:
        if self.status != "draft":
            raise RuleViolation("invalid_status", f"Only a draft can be finalized; this invoice is {self.status}.")
        if self.pending_finalization is not None:
            # Another command asked first and its answer is on its way; this one is answered now.
            raise RuleViolation("finalization_pending", "The invoice is being finalized by an earlier command.")
        self.issuer = account.issuer()
        self.payee_iban = account.payee_iban
        if self.due_date is None and self.days_until_due is None:
            self.days_until_due = account.default_days_until_due
        self.pending_finalization = PendingFinalization(
            command_id=message_id,
            requested_at=now,
            issued_on=now.date(),
            series_key=series_key,
            number_format=account.number_format,
        )
        self._record("finalization_requested", now, actor, message_id)

    def finalize(self, number: str, *, now: datetime, actor: str, message_id: str) -> None:
        """The number arrived: the invoice is issued. A zero amount due is paid at once."""
        if self.status != "draft" or self.pending_finalization is None:
            raise RuleViolation("invalid_status", "No finalization is pending for this invoice.")
        self.number = number
        self.series_key = self.pending_finalization.series_key
        self.pending_finalization = None
        self.status = "open"
        self.finalized_at = now
        if self.due_date is None:
            self.due_date = self._due_date_from(self.days_until_due or 0)
        self.payment_reference = payment_reference_for(number)
        self._record("finalized", now, actor, message_id, status_from="draft", status_to="open",
                     detail={"number": number})
        if self.amount_due == 0:
            self._set_paid(now, actor, message_id, detail={"reason": "nothing due"})

    def finalization_refused(self, *, now: datetime, actor: str, message_id: str, reason: str,
                             number: str | None = None) -> str | None:
        """The finalization cannot complete: back to a plain draft. Returns the finalize command's id.

        A number that was allocated but could not be applied stays reserved for this invoice in
        the ledger: finalizing again gets the same number, deleting the draft records it as a gap.
        """
        if self.pending_finalization is None:
            return None
        command_id = self.pending_finalization.command_id
        self.pending_finalization = None
        detail = {"reason": reason} | ({"number": number} if number else {})
        self._record("finalization_refused", now, actor, message_id, detail=detail)
        return command_id

    def apply_payment(self, payment: Payment, *, now: datetime, actor: str, message_id: str) -> bool:
        """Count a payment. False when it is already counted (same payment id)."""
        if any(existing.payment_id == payment.payment_id for existing in self.payments):
            return False
        if self.status not in ("open", "uncollectible"):
            raise RuleViolation("invalid_status", f"A payment cannot be applied to a {self.status} invoice.")
        self.payments.append(payment)
        self._record("payment_applied", now, actor, message_id, detail=payment.model_dump(mode="json"))
        if self.amount_paid >= self.total:
            self._set_paid(now, actor, message_id, detail={"payment_id": payment.payment_id})
        return True

    def remove_payment(self, payment_id: str, *, now: datetime, actor: str, message_id: str) -> bool:
        """Forget a payment; a paid invoice no longer covered reopens. False if unknown."""
        remaining = [payment for payment in self.payments if payment.payment_id != payment_id]
        if len(remaining) == len(self.payments):
            return False
        self.payments = remaining
        self._record("payment_removed", now, actor, message_id, detail={"payment_id": payment_id})
        if self.status == "paid" and not self.paid_out_of_band and self.amount_paid < self.total:
            self._transition("open", now, actor, message_id, "reopened")
            self.paid_at = None
        return True

    def mark_paid(self, *, now: datetime, actor: str, message_id: str) -> None:
        if self.status not in ("open", "uncollectible"):
            raise RuleViolation("invalid_status", f"A {self.status} invoice cannot be marked paid.")
        self.paid_out_of_band = True
        self._set_paid(now, actor, message_id, detail={"paid_out_of_band": True})

    def mark_unpaid(self, *, now: datetime, actor: str, message_id: str) -> list[str]:
        """Back to open, removing every manual payment. Returns the removed payment ids."""
        if self.status != "paid":
            raise RuleViolation("invalid_status", f"Only a paid invoice can be marked unpaid; this one is {self.status}.")
        if any(payment.online for payment in self.payments):
            raise RuleViolation("online_payment_exists", "An online payment was collected; refund it instead.")
        removed = [payment.payment_id for payment in self.payments if payment.match == "manual"]
        self.payments = [payment for payment in self.payments if payment.match != "manual"]
        self.paid_out_of_band = False
        self.paid_at = None
        self._transition("open", now, actor, message_id, "marked_unpaid", detail={"removed_payment_ids": removed})
        return removed

    def void(self, *, now: datetime, actor: str, message_id: str, reason: str) -> None:
        if self.status == "draft":
            raise RuleViolation("invalid_status", "A draft cannot be voided; delete it instead.")
        if self.status not in ("open", "uncollectible"):
            raise RuleViolation("invalid_status", f"A {self.status} invoice cannot be voided.")
        if any(payment.online for payment in self.payments):
            raise RuleViolation("online_payment_exists", "An online payment was collected; refund it instead.")
        if self.payments:
            raise RuleViolation("payments_recorded", "Remove the recorded payments before voiding.")
        self.voided_at = now
        self._transition("void", now, actor, message_id, "voided", detail={"reason": reason})

    def mark_uncollectible(self, *, now: datetime, actor: str, message_id: str, reason: str) -> None:
        if self.status != "open":
            raise RuleViolation("invalid_status", f"Only an open invoice can be marked uncollectible; this one is {self.status}.")
        self._transition("uncollectible", now, actor, message_id, "marked_uncollectible", detail={"reason": reason})

    def check_deletable(self, account: AccountSettings) -> None:
        if self.pending_finalization is not None:
            raise RuleViolation("finalization_pending", "The invoice is being finalized.")
        if self.status == "draft":
            return
        if self.status != "open":
            raise RuleViolation("invalid_status", f"A {self.status} invoice cannot be deleted.")
        if not account.delete_finalized_invoices:
            raise RuleViolation("invoice_not_deletable", "The account does not allow deleting finalized invoices.")
        if self.payments:
            raise RuleViolation("payments_recorded", "An invoice with payments cannot be deleted.")

    def delete(self, account: AccountSettings, *, now: datetime, actor: str, message_id: str, reason: str) -> None:
        self.check_deletable(account)
        self.deleted = True
        self._record("deleted", now, actor, message_id, status_from=self.status, detail={"reason": reason})

    def mail_kind(self) -> str:
        kinds = {"open": "invoice", "uncollectible": "invoice", "paid": "receipt", "void": "void_notice"}
        if self.status not in kinds:
            raise RuleViolation("invoice_not_finalized", "Finalize the invoice before sending it.")
        return kinds[self.status]

    def request_send(self, mail_id: str, to: list[str], *, now: datetime, actor: str, message_id: str) -> None:
        self.mail_kind()
        if not to:
            raise RuleViolation("no_recipient", "The customer has no email address and the command names none.")
        self.pending_sends[mail_id] = message_id
        self._record("send_requested", now, actor, message_id, detail={"mail_id": mail_id, "to": to})

    def mail_progress(self, outcome: str, mail_id: str, detail: dict[str, Any], *, now: datetime, actor: str,
                      message_id: str) -> None:
        """A step of a delivery (queued, deferred for a retry...): the history shows every attempt."""
        self._record(f"email_{outcome}", now, actor, message_id, detail={"mail_id": mail_id, **detail})

    def mail_delivered(self, mail_id: str, to: list[str], sent_at: datetime, *, actor: str, message_id: str) -> str | None:
        """Returns the invoice.send command id this delivery answers, if it was pending."""
        command_id = self.pending_sends.pop(mail_id, None)
        self.last_sent_at = sent_at
        self.last_sent_to = to
        self._record("email_sent", sent_at, actor, message_id, detail={"mail_id": mail_id, "to": to})
        return command_id

    def mail_failed(self, mail_id: str, outcome: str, detail: dict[str, Any], *, now: datetime, actor: str,
                    message_id: str) -> str | None:
        command_id = self.pending_sends.pop(mail_id, None)
        self.mail_progress(outcome, mail_id, detail, now=now, actor=actor, message_id=message_id)
        return command_id

    def handled(self, message_id: str) -> bool:
        """Whether this message already changed the invoice (history names every cause)."""
        return any(entry.message_id == message_id for entry in self.history)

    # --- helpers --------------------------------------------------------------------------------

    def _due_date_from(self, days: int) -> date:
        return (self.finalized_at or self.created_at).date() + timedelta(days=days)

    def _set_paid(self, now: datetime, actor: str, message_id: str, detail: dict[str, Any]) -> None:
        self.paid_at = now
        self._transition("paid", now, actor, message_id, "paid", detail=detail)

    def _transition(self, status: Status, now: datetime, actor: str, message_id: str, action: str,
                    detail: dict[str, Any] | None = None) -> None:
        previous, self.status = self.status, status
        self._record(action, now, actor, message_id, status_from=previous, status_to=status, detail=detail or {})

    def _record(self, action: str, now: datetime, actor: str, message_id: str, **entry: Any) -> None:
        self.history.append(HistoryEntry(at=now, actor=actor, action=action, message_id=message_id, **entry))


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value
