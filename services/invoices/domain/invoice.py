"""The invoice aggregate and its lifecycle (docs/design.md, "Invoice lifecycle"). Pure: no I/O, no clock.

Every method checks the rule for the invoice's current status, changes the invoice, appends a
history entry saying who did what and what changed, and records the events the change causes.
The caller passes `now` and `actor`, so the rules can be tested without a server and replayed
deterministically.
"""

import uuid
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from chassis.aggregate import Aggregate
from contracts.messages.common import Customer, InvoiceSnapshot, Issuer, LineItem, OutOfBandPayment, PricedLine
from contracts.messages.invoices import (
    CreateInvoice,
    FinalizeInvoice,
    HostedLinkRotated,
    InvoiceChanges,
    InvoiceCommandRejected,
    InvoiceCreated,
    InvoiceDeleted,
    InvoiceFinalized,
    InvoiceMarkedUncollectible,
    InvoiceMarkedUnpaid,
    InvoicePaid,
    InvoicePastDue,
    InvoicePaymentApplied,
    InvoiceSent,
    InvoiceUpdated,
    InvoiceVoided,
    RunInvoiceClock,
    SendInvoice,
)
from contracts.messages.mail import SendInvoiceMail, SendReminderMail
from contracts.messages.numbering import AllocateNumber
from services.invoices.domain import dunning
from services.invoices.domain.account import AccountSettings
from services.invoices.domain.errors import RuleViolation
from services.invoices.domain.hosted_link import new_hosted_token, token_digest
from services.invoices.domain.payment_reference import payment_reference_for
from services.invoices.domain.totals import price_line, totals

Status = Literal["draft", "open", "paid", "void", "uncollectible"]
PaymentMatch = Literal["automatic", "applied", "manual"]

_MAIL_ID_NAMESPACE = uuid.UUID("0b7f4a39-58f5-4a8f-9a7e-1c51d6c3a0e2")


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


class Invoice(Aggregate):
    model_config = ConfigDict(validate_assignment=False)

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
    out_of_band_payment: OutOfBandPayment | None = None
    created_at: datetime
    finalized_at: datetime | None = None
    paid_at: datetime | None = None
    voided_at: datetime | None = None
    last_sent_at: datetime | None = None
    last_sent_to: list[str] = []
    hosted_token_digest: str | None = Field(
        default=None, description="SHA-256 of the hosted page's token; the token itself is never stored")
    pending_finalization: PendingFinalization | None = None
    pending_sends: dict[str, str] = Field(default_factory=dict, description="mail id -> invoice.send command id")
    reminder_schedule: list[int] = Field(default=[], description="The account's, as the clock last saw it")
    clock_ran_at: datetime | None = Field(default=None, description="Moments up to this one are dealt with")
    past_due_on: date | None = Field(default=None, description="The due date announced past due")
    deleted: bool = False
    history: list[HistoryEntry] = []

    @model_validator(mode="before")
    @classmethod
    def _digest_of_a_stored_token(cls, data: Any) -> Any:
        """An invoice stored while tokens were kept in clear keeps its page: the token becomes its
        digest (and leaves the store at the invoice's next write)."""
        if isinstance(data, dict) and data.get("hosted_token"):
            data = {**data, "hosted_token_digest": data.get("hosted_token_digest") or token_digest(data["hosted_token"])}
            del data["hosted_token"]
        return data

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

    @computed_field
    @property
    def next_clock_at(self) -> datetime | None:
        """When the clock must next run for this invoice: stored with it, as the index the clock scans.
        Derived from the state, so every change of status, due date or schedule moves it."""
        if self.status != "open" or self.deleted or self.due_date is None:
            return None
        return dunning.next_moment(self.due_date, self.reminder_schedule, self._clock_ran_at,
                                   past_due_announced=self.past_due)

    @property
    def past_due(self) -> bool:
        """Open and announced past its due date (a due date moved later is current again)."""
        return self.status == "open" and self.past_due_on == self.due_date

    @property
    def _clock_ran_at(self) -> datetime:
        """Invoices finalized before the clock existed have it start at their finalization."""
        return self.clock_ran_at or self.finalized_at

    def snapshot(self) -> InvoiceSnapshot:
        """The invoice as the change being made leaves it. The unit of work stores that change as
        the next version, and readers keep the newest version they saw, so the snapshot says so."""
        figures = totals(self.lines)
        return InvoiceSnapshot(
            **self.model_dump(
                include={
                    "id", "account_id", "status", "number", "currency", "customer", "issuer", "lines",
                    "due_date", "days_until_due", "payee_iban", "payment_reference", "quote_id", "memo",
                    "metadata", "created_at", "finalized_at", "paid_at", "voided_at", "last_sent_at",
                    "paid_out_of_band", "out_of_band_payment",
                }
            ),
            version=self.version + 1,
            past_due=self.past_due,
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
        invoice._check_terms(invoice.lines, invoice.due_date, now)
        detail = {"cloned_from": cloned_from} if cloned_from else {}
        invoice._add_history("created", now, actor, message_id, status_to="draft", detail=detail)
        invoice.record(InvoiceCreated(invoice_id=invoice.id, invoice=invoice.snapshot(), cloned_from=cloned_from))
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
               message_id: str) -> None:
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

        lines = [price_line(line) for line in changes.lines] if changes.lines is not None else self.lines
        # Days until due replace the due date by one counted from the issue date, never before it.
        due_date = changes.due_date if changes.due_date is not None else (
            None if changes.days_until_due is not None else self.due_date)
        self._check_terms(lines, due_date, now)
        applied = []
        for field in requested:
            before = getattr(self, field)
            after = getattr(changes, field)
            if field == "lines":
                after = lines
            if field == "due_date" and after is not None:
                self.days_until_due = None
            if field == "days_until_due" and after is not None:
                self.due_date = self._due_date_from(after) if self.finalized_at else None
            setattr(self, field, after)
            applied.append({"field": field, "before": _plain(before), "after": _plain(after)})
        self._add_history("updated", now, actor, message_id, changes=applied)
        self.record(InvoiceUpdated(invoice_id=self.id, invoice=self.snapshot(), changes=applied))

    def request_finalization(self, account: AccountSettings, series_key: str, *, now: datetime, actor: str,
                             message_id: str) -> None:
        if self.status != "draft":
            raise RuleViolation("invalid_status", f"Only a draft can be finalized; this invoice is {self.status}.")
        if self.pending_finalization is not None:
            # Another command asked first and its answer is on its way; this one is answered now.
            raise RuleViolation("finalization_pending", "The invoice is being finalized by an earlier command.")
        self._check_terms(self.lines, self.due_date, now)
        self.issuer = account.issuer()
        self.payee_iban = account.payee_iban
        self.reminder_schedule = list(account.reminder_schedule)
        if self.due_date is None and self.days_until_due is None:
            self.days_until_due = account.default_days_until_due
        pending = self.pending_finalization = PendingFinalization(
            command_id=message_id,
            requested_at=now,
            issued_on=now.date(),
            series_key=series_key,
            number_format=account.number_format,
        )
        self._add_history("finalization_requested", now, actor, message_id)
        self.record(AllocateNumber(series_key=pending.series_key, number_format=pending.number_format,
                                   invoice_id=self.id, issued_on=pending.issued_on))

    def finalize(self, number: str, *, now: datetime, actor: str, message_id: str) -> bool:
        """The number arrived: the invoice is issued. A zero amount due is paid at once.
        False when it carries this number already (the same allocation announced again)."""
        if self.number == number:
            return False
        if self.status != "draft" or self.pending_finalization is None:
            raise RuleViolation("invalid_status", "No finalization is pending for this invoice.")
        self.number = number
        self.series_key = self.pending_finalization.series_key
        self.pending_finalization = None
        self.status = "open"
        self.finalized_at = now
        self.clock_ran_at = now
        if self.due_date is None:
            self.due_date = self._due_date_from(self.days_until_due or 0)
        self.payment_reference = payment_reference_for(number)
        hosted_token = self._new_hosted_token()
        self._add_history("finalized", now, actor, message_id, status_from="draft", status_to="open",
                          detail={"number": number})
        if self.amount_due == 0:
            self._set_paid(now, actor, message_id, detail={"reason": "nothing due"})
        snapshot = self.snapshot()
        self.record(InvoiceFinalized(invoice_id=self.id, invoice=snapshot, hosted_token=hosted_token))
        if self.status == "paid":
            self.record(InvoicePaid(invoice_id=self.id, invoice=snapshot))
        return True

    def finalization_refused(self, *, now: datetime, actor: str, message_id: str, reason: str, message: str,
                             number: str | None = None) -> bool:
        """The finalization cannot complete: back to a plain draft, and the finalize command is
        answered. False when no finalization is pending.

        A number that was allocated but could not be applied stays reserved for this invoice in
        the ledger: finalizing again gets the same number, deleting the draft records it as a gap.
        """
        if self.pending_finalization is None:
            return False
        command_id = self.pending_finalization.command_id
        self.pending_finalization = None
        detail = {"reason": reason} | ({"number": number} if number else {})
        self._add_history("finalization_refused", now, actor, message_id, detail=detail)
        self._answer(command_id, FinalizeInvoice.type_name, reason, message)
        return True

    def apply_payment(self, payment: Payment, currency: str, *, now: datetime, actor: str, message_id: str) -> bool:
        """Count a payment. False when it is already counted (same payment id)."""
        if currency != self.currency:
            raise RuleViolation("currency_mismatch", f"Payment in {currency} for a {self.currency} invoice.")
        if any(existing.payment_id == payment.payment_id for existing in self.payments):
            return False
        if self.status not in ("open", "uncollectible"):
            raise RuleViolation("invalid_status", f"A payment cannot be applied to a {self.status} invoice.")
        was = self.status
        self.payments.append(payment)
        self._add_history("payment_applied", now, actor, message_id, detail=payment.model_dump(mode="json"))
        if self.amount_paid >= self.total:
            self._set_paid(now, actor, message_id, detail={"payment_id": payment.payment_id})
        snapshot = self.snapshot()
        self.record(InvoicePaymentApplied(invoice_id=self.id, invoice=snapshot, payment_id=payment.payment_id,
                                          amount=payment.amount, overpaid_amount=self.overpaid_amount))
        if self.status == "paid" and was != "paid":
            self.record(InvoicePaid(invoice_id=self.id, invoice=snapshot))
        return True

    def remove_payment(self, payment_id: str, *, now: datetime, actor: str, message_id: str) -> bool:
        """Forget a payment; a paid invoice no longer covered reopens. False if unknown."""
        remaining = [payment for payment in self.payments if payment.payment_id != payment_id]
        if len(remaining) == len(self.payments):
            return False
        self.payments = remaining
        self._add_history("payment_removed", now, actor, message_id, detail={"payment_id": payment_id})
        if self.status == "paid" and not self.paid_out_of_band and self.amount_paid < self.total:
            self._transition("open", now, actor, message_id, "reopened")
            self.paid_at = None
            self.record(InvoiceMarkedUnpaid(invoice_id=self.id, invoice=self.snapshot(),
                                            removed_payment_ids=[payment_id]))
        else:
            change = {"field": "payments", "before": None, "after": None}
            self.record(InvoiceUpdated(invoice_id=self.id, invoice=self.snapshot(), changes=[change]))
        return True

    def mark_paid(self, *, now: datetime, actor: str, message_id: str, paid_on: date | None = None,
                  note: str = "") -> None:
        """Paid outside the platform: the day it was paid (today unless told) and the note are kept
        on the invoice, in its history and its snapshot."""
        if self.status not in ("open", "uncollectible"):
            raise RuleViolation("invalid_status", f"A {self.status} invoice cannot be marked paid.")
        self.paid_out_of_band = True
        self.out_of_band_payment = OutOfBandPayment(paid_on=paid_on or now.date(), note=note)
        self._set_paid(now, actor, message_id,
                       detail={"paid_out_of_band": True, **self.out_of_band_payment.model_dump(mode="json")})
        self.record(InvoicePaid(invoice_id=self.id, invoice=self.snapshot(), paid_out_of_band=True))

    def mark_unpaid(self, *, now: datetime, actor: str, message_id: str, reason: str = "") -> None:
        """Back to open, for an invoice marked paid out of band only. A recorded payment is payments'
        to remove (`payment.remove`, which reopens the invoice once it no longer covers it): were it
        dropped here, payments would still count it and the invoice could be voided while paid."""
        if self.status != "paid":
            raise RuleViolation("invalid_status", f"Only a paid invoice can be marked unpaid; this one is {self.status}.")
        if any(payment.online for payment in self.payments):
            raise RuleViolation("online_payment_exists", "An online payment was collected; refund it instead.")
        if self.payments:
            ids = ", ".join(payment.payment_id for payment in self.payments)
            raise RuleViolation("payments_recorded",
                                f"Payments are recorded ({ids}); remove each with payment.remove instead.")
        self.paid_out_of_band = False
        self.out_of_band_payment = None
        self.paid_at = None
        self._transition("open", now, actor, message_id, "marked_unpaid", detail={"reason": reason})
        self.record(InvoiceMarkedUnpaid(invoice_id=self.id, invoice=self.snapshot()))

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
        self.record(InvoiceVoided(invoice_id=self.id, invoice=self.snapshot(), reason=reason))

    def rotate_hosted_link(self, *, now: datetime, actor: str, message_id: str, reason: str) -> None:
        """The hosted page's old address stops working and a new one is issued. A draft has no page."""
        if self.status == "draft":
            raise RuleViolation("invalid_status", "A draft has no hosted page; finalize it first.")
        hosted_token = self._new_hosted_token()
        self._add_history("hosted_link_rotated", now, actor, message_id, detail={"reason": reason})
        self.record(HostedLinkRotated(invoice_id=self.id, invoice=self.snapshot(), hosted_token=hosted_token,
                                      reason=reason))

    def mark_uncollectible(self, *, now: datetime, actor: str, message_id: str, reason: str) -> None:
        if self.status != "open":
            raise RuleViolation("invalid_status", f"Only an open invoice can be marked uncollectible; this one is {self.status}.")
        self._transition("uncollectible", now, actor, message_id, "marked_uncollectible", detail={"reason": reason})
        self.record(InvoiceMarkedUncollectible(invoice_id=self.id, invoice=self.snapshot(), reason=reason))

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
        self._add_history("deleted", now, actor, message_id, status_from=self.status, detail={"reason": reason})
        self.record(InvoiceDeleted(invoice_id=self.id, status=self.status, number=self.number,
                                   series_key=self.series_key, reason=reason, deleted_at=now))

    def mail_kind(self) -> str:
        kinds = {"open": "invoice", "uncollectible": "invoice", "paid": "receipt", "void": "void_notice"}
        if self.status not in kinds:
            raise RuleViolation("invoice_not_finalized", "Finalize the invoice before sending it.")
        return kinds[self.status]

    def request_send(self, command: SendInvoice, *, now: datetime, actor: str, message_id: str) -> None:
        """Ask the mailer for the email; the command's recipients and language override the customer's."""
        kind = self.mail_kind()
        to = command.to if command.to is not None else self.customer.email
        cc = command.cc if command.cc is not None else self.customer.cc
        if not to:
            raise RuleViolation("no_recipient", "The customer has no email address and the command names none.")
        # Derived from the command, so a handler run again asks for the same email.
        mail_id = f"mail-{uuid.uuid5(_MAIL_ID_NAMESPACE, message_id).hex}"
        self.pending_sends[mail_id] = message_id
        self._add_history("send_requested", now, actor, message_id, detail={"mail_id": mail_id, "to": to})
        self.record(SendInvoiceMail(mail_id=mail_id, invoice_id=self.id, invoice=self.snapshot(), to=to, cc=cc,
                                    language=command.language or self.customer.language, kind=kind))

    def mail_progress(self, outcome: str, mail_id: str, detail: dict[str, Any], *, now: datetime, actor: str,
                      message_id: str) -> None:
        """A step of a delivery (queued, deferred for a retry...): the history shows every attempt."""
        self._add_history(f"email_{outcome}", now, actor, message_id, detail={"mail_id": mail_id, **detail})

    def mail_delivered(self, mail_id: str, to: list[str], cc: list[str], sent_at: datetime, *, actor: str,
                       message_id: str) -> None:
        self.pending_sends.pop(mail_id, None)
        self.last_sent_at = sent_at
        self.last_sent_to = to
        self._add_history("email_sent", sent_at, actor, message_id, detail={"mail_id": mail_id, "to": to})
        self.record(InvoiceSent(invoice_id=self.id, number=self.number, mail_id=mail_id, to=to, cc=cc,
                                sent_at=sent_at))

    def mail_failed(self, mail_id: str, outcome: str, detail: dict[str, Any], *, reason: str, message: str,
                    now: datetime, actor: str, message_id: str) -> None:
        """The email will not arrive: the invoice.send command that asked for it, if still
        waiting, is answered with `reason`."""
        command_id = self.pending_sends.pop(mail_id, None)
        self.mail_progress(outcome, mail_id, detail, now=now, actor=actor, message_id=message_id)
        if command_id is not None:
            self._answer(command_id, SendInvoice.type_name, reason, message)

    def run_clock(self, schedule: list[int], *, now: datetime, actor: str, message_id: str) -> None:
        """The invoice's clock runs at `now` (see dunning): announce the invoice past due, request
        the reminder that is due. A run that finds nothing due is answered `nothing_due`."""
        if self.next_clock_at is None:
            raise RuleViolation("nothing_due", f"A {self.status} invoice is neither past due nor reminded.")
        after, self.clock_ran_at = self._clock_ran_at, max(self._clock_ran_at, now)
        self.reminder_schedule = list(schedule)
        announced = False
        if not self.past_due and now >= dunning.past_due_from(self.due_date):
            self.past_due_on = self.due_date
            days = (now.date() - self.due_date).days
            self._add_history("past_due", now, actor, message_id, detail={"due_date": self.due_date.isoformat(),
                                                                          "days_past_due": days})
            self.record(InvoicePastDue(invoice_id=self.id, invoice=self.snapshot(), days_past_due=days))
            announced = True
        reminder = dunning.reminder_due(self.due_date, schedule, after, now)
        for day in dunning.reminders_between(self.due_date, schedule, after, now):
            if day != reminder:
                self._add_history("reminder_skipped", now, actor, message_id,
                                  detail={"days_relative_to_due": day, "reason": "its day passed"})
        if reminder is not None:
            announced = self._request_reminder(reminder, now=now, actor=actor, message_id=message_id) or announced
        if not announced:
            self._answer(message_id, RunInvoiceClock.type_name, "nothing_due",
                         "Nothing was due: the invoice changed since the clock looked.")

    def _request_reminder(self, days_relative_to_due: int, *, now: datetime, actor: str, message_id: str) -> bool:
        """Ask the mailer for a reminder to the customer. False when the customer has no address."""
        detail: dict[str, Any] = {"days_relative_to_due": days_relative_to_due}
        if not self.customer.email:
            self._add_history("reminder_skipped", now, actor, message_id, detail={**detail, "reason": "no_recipient"})
            return False
        # One per invoice, due date and schedule day, so asking again is the same mail.
        mail_id = f"mail-{uuid.uuid5(_MAIL_ID_NAMESPACE, f'{self.id}/{self.due_date}/{days_relative_to_due}').hex}"
        self._add_history("reminder_requested", now, actor, message_id,
                          detail={**detail, "mail_id": mail_id, "to": self.customer.email})
        self.record(SendReminderMail(mail_id=mail_id, invoice_id=self.id, invoice=self.snapshot(),
                                     to=self.customer.email, cc=self.customer.cc, language=self.customer.language,
                                     days_relative_to_due=days_relative_to_due))
        return True

    # --- helpers --------------------------------------------------------------------------------

    def _check_terms(self, lines: list[PricedLine], due_date: date | None, now: datetime) -> None:
        """What an invoice must be to be issued, refused as soon as it arrives (a create, an update,
        a finalize) rather than when the invoice can no longer be paid or reminded: a total of zero
        or more, and a due date no earlier than the issue date (the finalization's, or today for a
        draft: it is issued today at the earliest)."""
        total = totals(lines).total
        if total < 0:
            raise RuleViolation("negative_total", f"The lines total {total} minor units, below zero; an invoice "
                                                  "asks for an amount (a credit is no invoice).")
        issued_on = (self.finalized_at or now).date()
        if due_date is not None and due_date < issued_on:
            raise RuleViolation("due_date_before_issue",
                                f"The due date {due_date} is before the issue date {issued_on}.")

    def _new_hosted_token(self) -> str:
        """A new hosted page token, for the one event that hands it out; only its digest is kept."""
        token = new_hosted_token()
        self.hosted_token_digest = token_digest(token)
        return token

    def _due_date_from(self, days: int) -> date:
        return (self.finalized_at or self.created_at).date() + timedelta(days=days)

    def _set_paid(self, now: datetime, actor: str, message_id: str, detail: dict[str, Any]) -> None:
        self.paid_at = now
        self._transition("paid", now, actor, message_id, "paid", detail=detail)

    def _transition(self, status: Status, now: datetime, actor: str, message_id: str, action: str,
                    detail: dict[str, Any] | None = None) -> None:
        previous, self.status = self.status, status
        self._add_history(action, now, actor, message_id, status_from=previous, status_to=status, detail=detail or {})

    def _add_history(self, action: str, now: datetime, actor: str, message_id: str, **entry: Any) -> None:
        self.history.append(HistoryEntry(at=now, actor=actor, action=action, message_id=message_id, **entry))

    def _answer(self, command_id: str, command_type: str, reason: str, message: str) -> None:
        """Refuse a command accepted earlier, whose outcome only now is known."""
        self.record(InvoiceCommandRejected(command_id=command_id, command_type=command_type, reason=reason,
                                           message=message, subject_id=self.id))


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value
