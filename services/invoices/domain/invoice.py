"""The invoice aggregate and its lifecycle (docs/design.md, "Invoice lifecycle"). Pure: no I/O, no clock.

Every method checks the rule for the invoice's current status, changes the invoice, appends a
history entry saying who did what and what changed, and records the events the change causes.
The caller passes `now` and `actor`, so the rules can be tested without a server and replayed
deterministically.
"""

import uuid
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from chassis.aggregate import Aggregate
from contracts.messages.balances import ApplyCustomerBalance, CreditCustomerBalance, balance_key
from contracts.messages.common import (
    Customer,
    InvoiceSnapshot,
    Issuer,
    LineItem,
    OutOfBandPayment,
    PrecedingInvoice,
    PricedLine,
)
from contracts.messages.credit_notes import CreateCreditNote, CreditNoteIssued, CreditNoteSnapshot, SendCreditNote
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
    InvoiceRevised,
    InvoiceSent,
    InvoiceUpdated,
    InvoiceVoided,
    QuoteInvoiced,
    QuoteReleased,
    RunInvoiceClock,
    SendInvoice,
    SettleRevisedInvoice,
)
from contracts.messages.mail import SendCreditNoteMail, SendInvoiceMail, SendReminderMail
from contracts.messages.numbering import AllocateNumber
from contracts.messages.payments import PaymentPending
from services.invoices.domain import amounts, credit_note, dunning, einvoice_rules, payment_pending
from services.invoices.domain.account import AccountSettings
from services.invoices.domain.auto_send import NOTHING, AutoSend
from services.invoices.domain.credit_note import CreditNote
from services.invoices.domain.errors import RuleViolation
from services.invoices.domain.hosted_link import HostedLinks, new_nonce
from services.invoices.domain.payment_pending import PendingPayment
from services.invoices.domain.payment_reference import payment_reference_for
from services.invoices.domain.totals import price_line, totals

Status = Literal["draft", "open", "paid", "void", "uncollectible"]
PaymentMatch = Literal["automatic", "applied", "manual"]

_MAIL_ID_NAMESPACE = uuid.UUID("0b7f4a39-58f5-4a8f-9a7e-1c51d6c3a0e2")
_REVISION_NAMESPACE = uuid.UUID("6d1c2b8e-93a4-4f0e-b7a5-2e4c9f1d3a70")


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
    revision_of: str | None = None
    replaces: PrecedingInvoice | None = None
    revised_by: str | None = None
    revision_pending: str | None = Field(default=None, description="The draft revising it, until it replaces it")
    subscription_id: str | None = None
    payee_iban: str | None = None
    payee_bic: str | None = None
    payment_reference: str | None = None
    payments: list[Payment] = []
    paid_out_of_band: bool = False
    applied_balance: int = Field(default=0, description="Paid from the customer's balance (Stripe's starting_balance)")
    out_of_band_payment: OutOfBandPayment | None = None
    created_at: datetime
    finalized_at: datetime | None = None
    paid_at: datetime | None = None
    voided_at: datetime | None = None
    last_sent_at: datetime | None = None
    last_sent_to: list[str] = []
    hosted_link_nonce: str | None = Field(
        default=None, description="What the hosted page's token is made from with the deployment's secret "
                                  "(domain.hosted_link); the token itself is never stored")
    pending_finalization: PendingFinalization | None = None
    pending_sends: dict[str, str] = Field(default_factory=dict, description="mail id -> invoice.send command id")
    credit_notes: list[CreditNote] = Field(default=[], description="Pending and issued; the issued in issue order")
    credit_note_mails: dict[str, str] = Field(default_factory=dict, description="mail id -> credit note id")
    reminder_schedule: list[int] = Field(default=[], description="The account's, as the clock last saw it")
    clock_ran_at: datetime | None = Field(default=None, description="Moments up to this one are dealt with")
    past_due_on: date | None = Field(default=None, description="The due date announced past due")
    pending_payments: list[PendingPayment] = Field(
        default=[], description="Transfers the bank announced and has not booked (services.invoices.domain.payment_pending)")
    deleted: bool = False
    history: list[HistoryEntry] = []

    # --- derived figures ------------------------------------------------------------------------

    @property
    def total(self) -> int:
        return totals(self.lines).total

    @property
    def amount_paid(self) -> int:
        return sum(payment.amount for payment in self.payments)

    @property
    def amount_credited(self) -> int:
        """Every issued credit note's total, whatever part of it went to a refund or a balance."""
        return sum(note.total for note in self._issued_credit_notes)

    @property
    def amount_due(self) -> int:
        """What the invoice asks to be paid: its total less what credit notes took off it and what the
        customer's balance paid."""
        return amounts.amount_due(self.total, sum(note.pre_payment_amount for note in self._issued_credit_notes),
                                  self.applied_balance)

    @property
    def amount_remaining(self) -> int:
        if self.paid_out_of_band or self.status == "void":
            return 0
        return amounts.amount_remaining(self.amount_due, self.amount_paid)

    @property
    def overpaid_amount(self) -> int:
        return max(self.amount_paid - self.amount_due, 0)

    @property
    def balance_key(self) -> str | None:
        """The customer's balance in the invoice's currency; a customer without an id has none."""
        return balance_key(self.account_id, self.customer.id, self.currency) if self.customer.id else None

    @property
    def _issued_credit_notes(self) -> list[CreditNote]:
        return [note for note in self.credit_notes if note.status == "issued"]

    @computed_field
    @property
    def next_clock_at(self) -> datetime | None:
        """When the clock must next run for this invoice: stored with it, as the index the clock scans.
        Derived from the state, so every change of status, due date or schedule moves it."""
        if self.status != "open" or self.deleted or self.due_date is None:
            return None
        moments = (dunning.next_moment(self.due_date, self.reminder_schedule, self._clock_ran_at,
                                       past_due_announced=self.past_due),
                   payment_pending.next_expiry(self.pending_payments))
        return min((moment for moment in moments if moment is not None), default=None)

    @property
    def past_due(self) -> bool:
        """Open and announced past its due date (a due date moved later is current again)."""
        return self.status == "open" and self.past_due_on == self.due_date

    @property
    def payment_pending(self) -> bool:
        """A transfer for it is on its way (only an open invoice keeps one: see _transition)."""
        return bool(self.pending_payments)

    @property
    def payment_pending_amount(self) -> int:
        return sum(pending.amount for pending in self.pending_payments)

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
                    "due_date", "days_until_due", "payee_iban", "payee_bic", "payment_reference", "quote_id", "memo",
                    "revision_of", "revised_by", "replaces",
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
            amount_credited=self.amount_credited,
            amount_due=self.amount_due,
            amount_remaining=self.amount_remaining,
            applied_balance=self.applied_balance,
            payment_pending=self.payment_pending,
            payment_pending_amount=self.payment_pending_amount,
        )

    def hosted_url(self, links: HostedLinks | None) -> str | None:
        """The hosted page's address, which every mail about the invoice links: None for a draft,
        or where the deployment has no public address (the mail goes without a link)."""
        return links.url(self.account_id, self.id, self.hosted_link_nonce) if links else None

    def opens_hosted_page(self, links: HostedLinks, token: str) -> bool:
        """Whether `token` is this invoice's current hosted page token (constant time)."""
        return links.matches(self.account_id, self.id, self.hosted_link_nonce, token)

    # --- lifecycle ------------------------------------------------------------------------------

    @classmethod
    def create(cls, command: CreateInvoice, account_id: str, *, now: datetime, actor: str, message_id: str,
               cloned_from: str | None = None, revision_of: "Invoice | None" = None) -> "Invoice":
        """A new draft; `revision_of` is the open invoice it replaces once finalized."""
        invoice = cls(
            revision_of=revision_of.id if revision_of else None,
            replaces=PrecedingInvoice(number=revision_of.number, issued_on=revision_of.finalized_at.date())
            if revision_of else None,
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
        detail |= {"revision_of": revision_of.id} if revision_of else {}
        invoice._add_history("created", now, actor, message_id, status_to="draft", detail=detail)
        invoice.record(InvoiceCreated(invoice_id=invoice.id, invoice=invoice.snapshot(), cloned_from=cloned_from))
        if invoice.quote_id:
            # The quote is invoiced from its invoice's creation on, and locked (as Joinways does).
            invoice.record(QuoteInvoiced(quote_id=invoice.quote_id, invoice_id=invoice.id))
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
            if self.payments or self.applied_balance:
                raise RuleViolation("invoice_not_editable", "An invoice with a recorded payment cannot be edited.")
            self._check_no_payment_pending("edited")
            if self.subscription_id:
                raise RuleViolation("invoice_not_editable", "A subscription invoice cannot be edited once finalized.")
            if self.credit_notes:
                # Its credit notes take back its lines as they were.
                raise RuleViolation("invoice_not_editable", "A credited invoice cannot be edited.")
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
        issuer = account.issuer()
        einvoice_rules.check(issuer, self.customer, self.lines)  # before anything changes: a refusal leaves a draft
        self.issuer = issuer
        self.payee_iban = account.payee_iban
        self.payee_bic = account.payee_bic
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

    def finalize(self, number: str, *, links: HostedLinks, now: datetime, actor: str, message_id: str,
                 balance_available: int = 0, auto_send: AutoSend = NOTHING) -> bool:
        """The number arrived: the invoice is issued. A zero amount due is paid at once; otherwise,
        when the customer's balance held something as it was read (`balance_available`), the balance
        is asked to pay it (it answers with `invoice.apply_balance`, see apply_balance). An open
        invoice of an account that sends on finalize asks for its mail.
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
        hosted_token = self._new_hosted_token(links)
        self._add_history("finalized", now, actor, message_id, status_from="draft", status_to="open",
                          detail={"number": number})
        if self.amount_due == 0:
            self._set_paid(now, actor, message_id, detail={"reason": "nothing due"})
        snapshot = self.snapshot()
        self.record(InvoiceFinalized(invoice_id=self.id, invoice=snapshot, hosted_token=hosted_token))
        if self.status == "paid":
            self.record(InvoicePaid(invoice_id=self.id, invoice=snapshot))
        elif balance_available > 0 and self.balance_key:
            self.record(ApplyCustomerBalance(balance_key=self.balance_key, invoice_id=self.id, amount=self.amount_due))
        if self.revision_of:
            # The original is settled on its own partition, by a command keyed by its id.
            self.record(SettleRevisedInvoice(invoice_id=self.revision_of, revision_id=self.id, revision_number=number))
        if self.status == "open" and auto_send.on_finalize:
            self._send_automatically("invoice", "finalized", links=links, now=now, actor=actor, message_id=message_id)
        return True

    def apply_balance(self, amount: int, movement_id: str, *, now: datetime, actor: str, message_id: str,
                      auto_send: AutoSend = NOTHING) -> None:
        """The customer's balance paid `amount`: it lowers the amount due; covered entirely, the
        invoice is paid. What it can no longer take (void, paid or changed meanwhile) goes back to
        the balance."""
        taken = min(amount, self.amount_remaining) if self.status == "open" else 0
        if taken:
            self.applied_balance += taken
            self._add_history("balance_applied", now, actor, message_id,
                              detail={"amount": taken, "movement_id": movement_id})
        if amount > taken:
            self._return_balance(amount - taken, movement_id, now=now, actor=actor, message_id=message_id)
        if not taken:
            return
        change = {"field": "applied_balance", "before": self.applied_balance - taken, "after": self.applied_balance}
        if self.amount_remaining == 0:
            self._set_paid(now, actor, message_id, detail={"paid_from": "the customer's balance"})
            self.record(InvoicePaid(invoice_id=self.id, invoice=self.snapshot()))
            if auto_send.receipts:
                self._send_automatically("receipt", "paid_from_balance", links=auto_send.links, now=now, actor=actor, message_id=message_id)
        else:
            self.record(InvoiceUpdated(invoice_id=self.id, invoice=self.snapshot(), changes=[change]))

    def start_revision(self, revision_id: str, *, now: datetime, actor: str, message_id: str,
                       pending_draft_gone: bool = False) -> CreateInvoice:
        """A revision of this open invoice begins: the create command of its draft, a copy of this
        one. One revision at a time (a pending one whose draft was deleted no longer counts); the
        invoice is settled once the revision is finalized."""
        if self.status not in ("open", "uncollectible"):
            raise RuleViolation("invalid_status", f"Only an open invoice can be revised; this one is {self.status}.")
        if self.revised_by or (self.revision_pending and not pending_draft_gone):
            raise RuleViolation("revision_in_progress",
                                f"Invoice {self.revision_pending or self.revised_by!r} revises it already.")
        self.revision_pending = revision_id
        self._add_history("revision_started", now, actor, message_id, detail={"revision_id": revision_id})
        return self.clone_command(revision_id)

    def settle_by_revision(self, revision_id: str, revision_number: str, correction_rule: str, *, now: datetime,
                           actor: str, message_id: str) -> None:
        """Its revision was finalized: it names the revision, its payments move to the revision, and
        it is voided, or credited whole by a credit note the account's rule asks for (which voids
        it, no payment being left)."""
        if self.revised_by == revision_id:
            return
        # Pending may be unset when a crash came between writing the draft and this invoice; a
        # revision finalized first settles it all the same.
        if self.revision_pending not in (None, revision_id) or self.status not in ("open", "uncollectible", "paid"):
            raise RuleViolation("invalid_status", f"A {self.status} invoice is not revised by {revision_id!r}.")
        moved = [payment.payment_id for payment in self.payments]
        self.payments, self.paid_out_of_band, self.paid_at = [], False, None
        self.revision_pending, self.revised_by = None, revision_id
        detail = {"revision_id": revision_id, "number": revision_number, "moved_payment_ids": moved,
                  "correction_rule": correction_rule}
        reason = f"Replaced by invoice {revision_number}"
        if correction_rule == "credit_note":
            if self.status == "paid":
                self._transition("open", now, actor, message_id, "reopened")
            self._add_history("revised", now, actor, message_id, detail=detail)
            self.record(InvoiceRevised(invoice_id=self.id, invoice=self.snapshot(), revision_id=revision_id,
                                       moved_payment_ids=moved))
            self.record(CreateCreditNote(invoice_id=self.id, credit_note_id=revision_credit_note_id(revision_id),
                                         reason="other", memo=reason))
            return
        self.voided_at = now
        self._give_back_balance("void", now=now, actor=actor, message_id=message_id)
        self._transition("void", now, actor, message_id, "revised", detail=detail)
        snapshot = self.snapshot()
        self.record(InvoiceRevised(invoice_id=self.id, invoice=snapshot, revision_id=revision_id,
                                   moved_payment_ids=moved))
        self.record(InvoiceVoided(invoice_id=self.id, invoice=snapshot, reason=reason))

    def _return_balance(self, amount: int, source: str, *, now: datetime, actor: str, message_id: str) -> None:
        """Give back to the customer's balance what this invoice took of it (or was offered)."""
        self._add_history("balance_returned", now, actor, message_id, detail={"amount": amount})
        self.record(CreditCustomerBalance(balance_key=self.balance_key, kind="invoice_returned",
                                          source_id=f"{self.id}/{source}", invoice_id=self.id, amount=amount))

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

    def apply_payment(self, payment: Payment, currency: str, *, now: datetime, actor: str, message_id: str,
                      auto_send: AutoSend = NOTHING) -> bool:
        """Count a payment; the one that pays the invoice sends a receipt when the account sends
        receipts. False when it is already counted (same payment id)."""
        if currency != self.currency:
            raise RuleViolation("currency_mismatch", f"Payment in {currency} for a {self.currency} invoice.")
        if any(existing.payment_id == payment.payment_id for existing in self.payments):
            return False
        if self.status not in ("open", "uncollectible"):
            raise RuleViolation("invalid_status", f"A payment cannot be applied to a {self.status} invoice.")
        was = self.status
        self.payments.append(payment)
        self._add_history("payment_applied", now, actor, message_id, detail=payment.model_dump(mode="json"))
        booked = payment_pending.cleared_by(self.pending_payments, payment.transaction_id, payment.amount,
                                            payment.method)
        self._clear_pending_payments(booked, "booked", now=now, actor=actor, message_id=message_id)
        if self.amount_paid >= self.amount_due:
            self._set_paid(now, actor, message_id, detail={"payment_id": payment.payment_id})
        snapshot = self.snapshot()
        self.record(InvoicePaymentApplied(invoice_id=self.id, invoice=snapshot, payment_id=payment.payment_id,
                                          amount=payment.amount, overpaid_amount=self.overpaid_amount))
        if self.status == "paid" and was != "paid":
            self.record(InvoicePaid(invoice_id=self.id, invoice=snapshot))
            if auto_send.receipts:
                self._send_automatically("receipt", "paid", links=auto_send.links, now=now, actor=actor, message_id=message_id)
        # Only the payment that settles an invoice can overpay it (a paid one takes no more): its
        # excess is the customer's, once, under this invoice and payment.
        if self.balance_key and (excess := min(self.overpaid_amount, payment.amount)) > 0:
            self.record(CreditCustomerBalance(balance_key=self.balance_key, kind="overpayment",
                                              source_id=f"{self.id}/{payment.payment_id}", invoice_id=self.id,
                                              amount=excess))
        return True

    def remove_payment(self, payment_id: str, *, now: datetime, actor: str, message_id: str) -> bool:
        """Forget a payment; a paid invoice no longer covered reopens. False if unknown."""
        remaining = [payment for payment in self.payments if payment.payment_id != payment_id]
        if len(remaining) == len(self.payments):
            return False
        self.payments = remaining
        self._add_history("payment_removed", now, actor, message_id, detail={"payment_id": payment_id})
        if self.status == "paid" and not self.paid_out_of_band and self.amount_paid < self.amount_due:
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
        if self.amount_due == 0:
            # Reopened, it would be open owing nothing (its credit notes took back all it charged).
            raise RuleViolation("invalid_status", "The invoice asks for nothing to be paid; there is nothing to mark unpaid.")
        if any(payment.online for payment in self.payments):
            raise RuleViolation("online_payment_exists", "An online payment was collected; refund it instead.")
        if self.payments:
            ids = ", ".join(payment.payment_id for payment in self.payments)
            raise RuleViolation("payments_recorded",
                                f"Payments are recorded ({ids}); remove each with payment.remove instead.")
        if self.applied_balance:
            # Reopened, it would owe what the balance paid and show it paid: void it to give it back.
            raise RuleViolation("invalid_status", "The customer's balance paid this invoice; void it instead.")
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
        self._check_no_payment_pending("voided")
        self._check_no_awaiting_number()
        self.voided_at = now
        self._give_back_balance("void", now=now, actor=actor, message_id=message_id)
        self._transition("void", now, actor, message_id, "voided", detail={"reason": reason})
        self.record(InvoiceVoided(invoice_id=self.id, invoice=self.snapshot(), reason=reason))

    def rotate_hosted_link(self, *, links: HostedLinks, now: datetime, actor: str, message_id: str,
                           reason: str) -> None:
        """The hosted page's old address stops working and a new one is issued. A draft has no page."""
        if self.status == "draft":
            raise RuleViolation("invalid_status", "A draft has no hosted page; finalize it first.")
        hosted_token = self._new_hosted_token(links)
        self._add_history("hosted_link_rotated", now, actor, message_id, detail={"reason": reason})
        self.record(HostedLinkRotated(invoice_id=self.id, invoice=self.snapshot(), hosted_token=hosted_token,
                                      reason=reason))

    def mark_uncollectible(self, *, now: datetime, actor: str, message_id: str, reason: str) -> None:
        if self.status != "open":
            raise RuleViolation("invalid_status", f"Only an open invoice can be marked uncollectible; this one is {self.status}.")
        self._check_no_payment_pending("marked uncollectible")
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
        self._check_no_payment_pending("deleted")
        if self.credit_notes:
            raise RuleViolation("invoice_not_deletable", "An invoice with credit notes cannot be deleted.")

    def delete(self, account: AccountSettings, *, now: datetime, actor: str, message_id: str, reason: str) -> None:
        self.check_deletable(account)
        self._give_back_balance("deleted", now=now, actor=actor, message_id=message_id)
        self.deleted = True
        self._add_history("deleted", now, actor, message_id, status_from=self.status, detail={"reason": reason})
        self.record(InvoiceDeleted(invoice_id=self.id, status=self.status, number=self.number,
                                   series_key=self.series_key, reason=reason, deleted_at=now))
        if self.quote_id:
            # A deleted invoice was never issued, so its quote may be invoiced again (its link no
            # longer holds it: services.invoices.domain.quotes).
            self.record(QuoteReleased(quote_id=self.quote_id, invoice_id=self.id, reason=reason))

    def mail_kind(self) -> str:
        kinds = {"open": "invoice", "uncollectible": "invoice", "paid": "receipt", "void": "void_notice"}
        if self.status not in kinds:
            raise RuleViolation("invoice_not_finalized", "Finalize the invoice before sending it.")
        return kinds[self.status]

    def request_send(self, command: SendInvoice, *, links: HostedLinks, now: datetime, actor: str,
                     message_id: str) -> None:
        """Ask the mailer for the email; the command's recipients and language override the customer's."""
        kind = self.mail_kind()
        to = command.to if command.to is not None else self.customer.email
        cc = command.cc if command.cc is not None else self.customer.cc
        if not to:
            raise RuleViolation("no_recipient", "The customer has no email address and the command names none.")
        mail_id = _mail_id_of(message_id)
        self.pending_sends[mail_id] = message_id
        self._add_history("send_requested", now, actor, message_id, detail={"mail_id": mail_id, "to": to})
        self.record(self._invoice_mail(kind, links=links, mail_id=mail_id, to=to, cc=cc,
                                       language=command.language or self.customer.language))

    def _invoice_mail(self, kind: str, *, links: HostedLinks | None, mail_id: str, to: list[str], cc: list[str],
                      language: str, automatic: bool = False) -> SendInvoiceMail:
        """The command for a mail of the invoice as it is now, asked for or sent automatically."""
        return SendInvoiceMail(mail_id=mail_id, invoice_id=self.id, invoice=self.snapshot(), to=to, cc=cc,
                               language=language, kind=kind, automatic=automatic, hosted_url=self.hosted_url(links))

    def _credit_note_mail(self, note: CreditNote, *, links: HostedLinks | None, mail_id: str, to: list[str],
                          cc: list[str], language: str, automatic: bool = False) -> SendCreditNoteMail:
        """The command for the credit note's mail; the invoice keeps which credit note a mail is of."""
        self.credit_note_mails[mail_id] = note.id
        return SendCreditNoteMail(mail_id=mail_id, invoice_id=self.id, credit_note=note.snapshot(), to=to, cc=cc,
                                  language=language, automatic=automatic, hosted_url=self.hosted_url(links))

    def _send_automatically(self, kind: str, cause: str, *, links: HostedLinks | None, now: datetime, actor: str,
                            message_id: str, credit_note: CreditNote | None = None) -> None:
        """Ask for a mail the account's auto-send settings send (see auto_send), to the customer's
        addresses in the customer's language; the mailer holds it for the account's delivery window.
        A customer without an address gets none and the history says why: nothing is refused,
        since nobody asked."""
        detail: dict[str, Any] = {"kind": kind, "cause": cause, "sent": "automatically"}
        if credit_note is not None:
            detail["credit_note_id"] = credit_note.id
        if not self.customer.email:
            self._add_history("auto_send_skipped", now, actor, message_id, detail={**detail, "reason": "no_recipient"})
            return
        # One mail per cause: its id derives from the message that caused it, and the kind.
        mail_id = _mail_id_of(f"{message_id}/{kind}")
        self._add_history("send_requested", now, actor, message_id,
                          detail={**detail, "mail_id": mail_id, "to": self.customer.email})
        recipients = {"links": links, "mail_id": mail_id, "to": self.customer.email, "cc": self.customer.cc,
                      "language": self.customer.language, "automatic": True}
        self.record(self._credit_note_mail(credit_note, **recipients) if credit_note is not None
                    else self._invoice_mail(kind, **recipients))

    def mail_progress(self, outcome: str, mail_id: str, detail: dict[str, Any], *, now: datetime, actor: str,
                      message_id: str) -> None:
        """A step of a delivery (queued, deferred for a retry...): the history shows every attempt."""
        self._add_history(f"email_{outcome}", now, actor, message_id, detail={"mail_id": mail_id, **detail})

    def mail_delivered(self, mail_id: str, to: list[str], cc: list[str], sent_at: datetime, *, actor: str,
                       message_id: str) -> None:
        self.pending_sends.pop(mail_id, None)
        if credit_note_id := self.credit_note_mails.get(mail_id):
            # A credit note's mail: the invoice's history says so; the invoice itself was not sent.
            self._add_history("credit_note_email_sent", sent_at, actor, message_id,
                              detail={"mail_id": mail_id, "credit_note_id": credit_note_id, "to": to})
            return
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
            command_type = SendCreditNote if mail_id in self.credit_note_mails else SendInvoice
            self._answer(command_id, command_type.type_name, reason, message)

    def run_clock(self, schedule: list[int], *, links: HostedLinks, now: datetime, actor: str,
                  message_id: str) -> None:
        """The invoice's clock runs at `now` (see dunning): announce the invoice past due, request
        the reminder that is due. A run that finds nothing due is answered `nothing_due`."""
        if self.next_clock_at is None:
            raise RuleViolation("nothing_due", f"A {self.status} invoice is neither past due nor reminded.")
        after, self.clock_ran_at = self._clock_ran_at, max(self._clock_ran_at, now)
        self.reminder_schedule = list(schedule)
        announced = self._clear_pending_payments(payment_pending.expired(self.pending_payments, now), "expired",
                                                 now=now, actor=actor, message_id=message_id)
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
            announced = self._request_reminder(reminder, links, now=now, actor=actor,
                                               message_id=message_id) or announced
        if not announced:
            self._answer(message_id, RunInvoiceClock.type_name, "nothing_due",
                         "Nothing was due: the invoice changed since the clock looked.")

    def _request_reminder(self, days_relative_to_due: int, links: HostedLinks, *, now: datetime, actor: str,
                          message_id: str) -> bool:
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
                                     days_relative_to_due=days_relative_to_due, hosted_url=self.hosted_url(links),
                                     automatic=True))
        return True

    # --- payment pending (docs/design.md, "Payment pending") ------------------------------------

    def announce_pending_payment(self, event: PaymentPending, *, now: datetime, actor: str, message_id: str) -> bool:
        """The bank announced a transfer for the invoice: it shows a payment pending until the
        transfer is booked, nothing remains to pay, or `expires_at`. False when nothing changes: the
        invoice is not open (a paid, void or uncollectible one awaits no transfer), the transfer is
        pending already, counts already (booked before the notice was handled), or is in another
        currency."""
        known = {p.transaction_id for p in self.pending_payments} | {p.transaction_id for p in self.payments}
        if self.status != "open" or event.transaction_id in known or event.currency != self.currency:
            return False
        before = self._pending_figures()
        pending = PendingPayment.of(event, now)
        self.pending_payments.append(pending)
        self._add_history("payment_pending", now, actor, message_id, detail=pending.model_dump(mode="json"))
        self.record(InvoiceUpdated(invoice_id=self.id, invoice=self.snapshot(),
                                   changes=self._pending_changes(before)))
        return True

    def _clear_pending_payments(self, cleared: list[PendingPayment], why: str, *, now: datetime, actor: str,
                                message_id: str, announce: bool = True) -> bool:
        """The transfers `cleared` are no longer awaited (`why`: booked, expired, or the status the
        invoice leaves open for); announced with invoice.updated unless the caller's own event says
        it. False when there was none."""
        if not cleared:
            return False
        before = self._pending_figures()
        ids = {p.transaction_id for p in cleared}
        self.pending_payments = [p for p in self.pending_payments if p.transaction_id not in ids]
        for pending in cleared:
            self._add_history("payment_pending_cleared", now, actor, message_id,
                              detail={"transaction_id": pending.transaction_id, "amount": pending.amount,
                                      "reason": why})
        if announce and why != "booked":  # a booking announces itself (invoice.payment_applied)
            self.record(InvoiceUpdated(invoice_id=self.id, invoice=self.snapshot(),
                                       changes=self._pending_changes(before)))
        return True

    def _check_no_payment_pending(self, action: str) -> None:
        """The money the customer sent is for the invoice as it stands: it is not edited, voided,
        marked uncollectible or deleted under a transfer on its way (docs/design.md, "Payment pending")."""
        if self.payment_pending:
            ends = max(p.expires_at for p in self.pending_payments)
            raise RuleViolation("payment_pending", f"A transfer of {self.payment_pending_amount} minor units for this "
                                                   f"invoice is on its way; it cannot be {action} until the transfer "
                                                   f"is booked or the pending payment expires ({ends.isoformat()}).")

    def _pending_figures(self) -> tuple[bool, int]:
        return self.payment_pending, self.payment_pending_amount

    def _pending_changes(self, before: tuple[bool, int]) -> list[dict[str, Any]]:
        return [{"field": field, "before": was, "after": now}
                for field, was, now in zip(("payment_pending", "payment_pending_amount"), before,
                                           self._pending_figures(), strict=True)]

    # --- credit notes (docs/design.md, "Credit notes") -----------------------------------------

    def request_credit_note(self, command: CreateCreditNote, series_key: str, number_format: str, *,
                            now: datetime, actor: str, message_id: str) -> None:
        """Accept a credit note and ask for its number from the account's credit-note series. Its
        lines are priced and checked now: all credit notes, pending ones included, stay within
        what the invoice charged. Its effect on what the invoice owes is decided when it is issued."""
        if self.pending_finalization is not None:
            raise RuleViolation("finalization_pending", "The invoice is being finalized; credit it once it is issued.")
        if self.status == "draft":
            raise RuleViolation("invalid_status", "A draft is not credited: edit or delete it.")
        if self.status == "void":
            raise RuleViolation("invalid_status", "A void invoice owes nothing and cannot be credited.")
        if (taken := self._credit_note(command.credit_note_id)) is not None:
            state = "is being issued" if taken.status == "pending" else "exists"
            raise RuleViolation("credit_note_exists", f"The credit note {command.credit_note_id!r} {state}.")
        if command.credit_to == "customer_balance" and self.customer.id is None:
            # Refused whatever part would go to the balance: that is only known when it is issued.
            raise RuleViolation("no_customer_id", "A credit to the customer's balance needs the customer's id "
                                                  "on the invoice.")
        if command.amount is not None:
            credit_note.check_amount_within(self.total, self.credit_notes, command.amount)
            lines = credit_note.credited_amount(self.lines, command.amount)
        else:
            lines = credit_note.credited_lines(self.lines, command.lines, self.credit_notes)
        credit_note.check_within(self.total, self.credit_notes, lines)
        note = CreditNote(
            id=command.credit_note_id, command_id=message_id, account_id=self.account_id, invoice_id=self.id,
            invoice_number=self.number, invoice_issued_on=self.finalized_at.date(), currency=self.currency,
            customer=self.customer, issuer=self.issuer, lines=lines, reason=command.reason, memo=command.memo,
            credit_to=command.credit_to, series_key=series_key, number_format=number_format, created_at=now,
            version=self.version + 1,
        )
        self.credit_notes.append(note)
        self._add_history("credit_note_requested", now, actor, message_id,
                          detail={"credit_note_id": note.id, "total": note.total, "reason": note.reason})
        self.record(AllocateNumber(series_key=series_key, number_format=number_format, invoice_id=self.id,
                                   credit_note_id=note.id, issued_on=now.date()))

    def issue_credit_note(self, credit_note_id: str, number: str, *, now: datetime, actor: str,
                          message_id: str, auto_send: AutoSend = NOTHING) -> bool:
        """The credit note's number arrived: it is issued, and takes off what the invoice owes as
        its status now says; its mail is asked for when the account sends credit notes. False when
        it carries this number already (announced again)."""
        note = self._awaiting_number(credit_note_id, number)
        if note is None:
            return False
        owed = self.amount_remaining if self.status in ("open", "uncollectible") else 0
        note.settle(owed)
        self.credit_notes.remove(note)
        self.credit_notes.append(note)  # the issued ones stay in the order they were issued
        note.status, note.number, note.issued_at, note.version = "issued", number, now, self.version + 1
        credited = {"field": "amount_credited", "before": self.amount_credited - note.total,
                    "after": self.amount_credited}
        self._add_history("credit_note_issued", now, actor, message_id, changes=[credited], detail={
            "credit_note_id": note.id, "number": number, "pre_payment_amount": note.pre_payment_amount,
            "refund_amount": note.refund_amount, "customer_balance_amount": note.customer_balance_amount})
        settled = self.status in ("open", "uncollectible") and self.amount_remaining == 0
        if settled and self.amount_credited == self.total and not self._ever_paid:
            # Nothing happened: the whole invoice is taken back before any payment (Stripe's rule).
            self.voided_at = now
            self._transition("void", now, actor, message_id, "voided", detail={"credit_note_id": note.id})
            event = InvoiceVoided(invoice_id=self.id, invoice=self.snapshot(), reason=f"credit note {number}")
        elif settled:
            self._set_paid(now, actor, message_id, detail={"by": "credit_note", "credit_note_id": note.id})
            event = InvoicePaid(invoice_id=self.id, invoice=self.snapshot())
        else:
            event = InvoiceUpdated(invoice_id=self.id, invoice=self.snapshot(), changes=[credited])
        self.record(CreditNoteIssued(invoice_id=self.id, credit_note=note.snapshot()))
        self.record(event)
        if self.balance_key and (note.customer_balance_amount or note.refund_amount):
            # Its balance part is credited, its refund part owed, on the balance's own partition.
            self.record(CreditCustomerBalance(balance_key=self.balance_key, kind="credit_note", source_id=note.id,
                                              invoice_id=self.id, amount=note.customer_balance_amount,
                                              refund_owed=note.refund_amount))
        if auto_send.credit_notes:
            self._send_automatically("credit_note", "credit_note_issued", links=auto_send.links, now=now, actor=actor, message_id=message_id,
                                     credit_note=note)
        return True

    def credit_note_refused(self, credit_note_id: str, *, reason: str, message: str, now: datetime, actor: str,
                            message_id: str) -> bool:
        """No number for the credit note: it is dropped, and the credit_note.create that asked is
        answered. False when no such credit note is pending."""
        note = self._credit_note(credit_note_id)
        if note is None or note.status != "pending":
            return False
        self.credit_notes.remove(note)
        self._add_history("credit_note_refused", now, actor, message_id,
                          detail={"credit_note_id": credit_note_id, "reason": reason})
        self._answer(note.command_id, CreateCreditNote.type_name, reason, message)
        return True

    def request_credit_note_send(self, command: SendCreditNote, *, links: HostedLinks, now: datetime, actor: str,
                                 message_id: str) -> None:
        """Ask the mailer for the credit note's email, as `request_send` does for the invoice's."""
        note = self._credit_note(command.credit_note_id)
        if note is None or note.status != "issued":
            raise RuleViolation("unknown_credit_note", f"The invoice has no issued credit note "
                                                       f"{command.credit_note_id!r}.")
        to = command.to if command.to is not None else self.customer.email
        if not to:
            raise RuleViolation("no_recipient", "The customer has no email address and the command names none.")
        mail_id = _mail_id_of(message_id)
        self.pending_sends[mail_id] = message_id
        self._add_history("credit_note_send_requested", now, actor, message_id,
                          detail={"credit_note_id": note.id, "mail_id": mail_id, "to": to})
        self.record(self._credit_note_mail(note, links=links, mail_id=mail_id, to=to,
                                           cc=command.cc if command.cc is not None else self.customer.cc,
                                           language=command.language or self.customer.language))

    def credit_note_snapshots(self) -> list[CreditNoteSnapshot]:
        """The issued credit notes, in the order they were issued."""
        return [note.snapshot() for note in self._issued_credit_notes]

    def _credit_note(self, credit_note_id: str) -> CreditNote | None:
        return next((note for note in self.credit_notes if note.id == credit_note_id), None)

    def _awaiting_number(self, credit_note_id: str, number: str) -> CreditNote | None:
        note = self._credit_note(credit_note_id)
        if note is not None and note.number == number:
            return None
        if note is None or note.status != "pending":
            raise RuleViolation("unknown_credit_note", f"No credit note {credit_note_id!r} waits for a number.")
        return note

    def _check_no_awaiting_number(self) -> None:
        if any(note.status == "pending" for note in self.credit_notes):
            raise RuleViolation("credit_note_pending", "A credit note of the invoice is being issued.")

    @property
    def _ever_paid(self) -> bool:
        """A payment was recorded at some time (even removed since), or the invoice was paid otherwise."""
        return any(entry.action in ("payment_applied", "paid") for entry in self.history)

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

    def _give_back_balance(self, why: str, *, now: datetime, actor: str, message_id: str) -> None:
        """An invoice that will not be paid (void, deleted) gives back what the balance paid of it."""
        if self.applied_balance:
            self._return_balance(self.applied_balance, why, now=now, actor=actor, message_id=message_id)
            self.applied_balance = 0

    def _new_hosted_token(self, links: HostedLinks) -> str:
        """A new hosted page token, for the event that hands it out; the old one stops working."""
        self.hosted_link_nonce = new_nonce()
        return links.token(self.account_id, self.id, self.hosted_link_nonce)

    def _due_date_from(self, days: int) -> date:
        return (self.finalized_at or self.created_at).date() + timedelta(days=days)

    def _set_paid(self, now: datetime, actor: str, message_id: str, detail: dict[str, Any]) -> None:
        self.paid_at = now
        self._transition("paid", now, actor, message_id, "paid", detail=detail)

    def _transition(self, status: Status, now: datetime, actor: str, message_id: str, action: str,
                    detail: dict[str, Any] | None = None) -> None:
        if status != "open":
            # Paid (or settled otherwise): a transfer on its way is no longer awaited.
            self._clear_pending_payments(self.pending_payments, status, now=now, actor=actor, message_id=message_id,
                                         announce=False)
        previous, self.status = self.status, status
        self._add_history(action, now, actor, message_id, status_from=previous, status_to=status, detail=detail or {})

    def _add_history(self, action: str, now: datetime, actor: str, message_id: str, **entry: Any) -> None:
        self.history.append(HistoryEntry(at=now, actor=actor, action=action, message_id=message_id, **entry))

    def _answer(self, command_id: str, command_type: str, reason: str, message: str) -> None:
        """Refuse a command accepted earlier, whose outcome only now is known."""
        self.record(InvoiceCommandRejected(command_id=command_id, command_type=command_type, reason=reason,
                                           message=message, subject_id=self.id))


def revision_credit_note_id(revision_id: str) -> str:
    """The credit note that corrects an invoice its revision replaced: one per revision."""
    return f"cn_{uuid.uuid5(_REVISION_NAMESPACE, revision_id).hex}"


def _mail_id_of(command_id: str) -> str:
    """The mail a send command asks for: derived from the command, so a handler run again asks for the same email."""
    return f"mail-{uuid.uuid5(_MAIL_ID_NAMESPACE, command_id).hex}"


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value
