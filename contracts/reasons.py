"""Every reason code the platform answers with, and the rule behind each one.

A code appears in five places: a rejection event answering a refused command (`reason`), a bank
transaction parked in the unmatched queue (`payment.unmatched`'s `reason`), the `dlq_reason`
header of a dead-lettered record, the `reason` label of an event dropped without effect
(`invoicing_messages_dropped_total`), and a mail not sent (`mail.dropped`'s `reason`). This table is the only list: `Refusal` accepts no other code,
the rejection events' JSON Schemas enumerate it, and `make docs` writes docs/reason-codes.md
from it.
"""

from dataclasses import dataclass
from typing import Literal

from contracts.limits import MAX_INTEGER_DIGITS, MAX_JSON_DEPTH, MAX_RECORD_BYTES

Use = Literal["rejection", "unmatched", "dead_letter", "dropped", "mail_dropped"]


@dataclass(frozen=True)
class ReasonCode:
    code: str
    uses: tuple[Use, ...]
    rule: str


_CODES = (
    # --- records that are not valid messages of the platform ------------------------------------
    ReasonCode("invalid_header", ("rejection", "dead_letter"),
               "A record header is not valid UTF-8. Headers carry the CloudEvents attributes as UTF-8 text."),
    ReasonCode("invalid_envelope", ("dead_letter",),
               "The `ce_*` headers are not a CloudEvent of this platform (a required attribute is missing or "
               "malformed, or the spec version or content type is not supported). Nobody can be answered."),
    ReasonCode("unknown_type", ("dead_letter",), "`ce_type` names no message type of the platform."),
    ReasonCode("wrong_topic", ("rejection", "dead_letter"),
               "A known message type published to a topic that is not its own; publish it to the topic its "
               "schema names (`x-topic`)."),
    ReasonCode("invalid_json", ("rejection", "dead_letter"), "The record value is not a UTF-8 JSON document."),
    ReasonCode("too_large", ("rejection", "dead_letter"),
               f"The record (key, value and headers) has more than {MAX_RECORD_BYTES:,} bytes; it is refused unread. "
               "Its dead letter keeps the first half of that of its value and says its size."),
    ReasonCode("too_deep", ("rejection", "dead_letter"),
               f"The JSON nests more than about {MAX_JSON_DEPTH} levels deep; the parser stops there."),
    ReasonCode("number_too_large", ("rejection", "dead_letter"),
               f"A number in the JSON has more than {MAX_INTEGER_DIGITS:,} digits; the parser stops there."),
    ReasonCode("undecodable", ("rejection", "dead_letter"),
               "Reading the record failed for a reason no other code names (the dead letter's `dlq_detail` says "
               "which); no record stops its partition, whatever it makes fail."),
    ReasonCode("invalid_data", ("rejection", "dead_letter"),
               "The JSON does not satisfy the message's schema (its bounds among them: docs/design.md, Bounds); "
               "the message names the field and the reason."),
    ReasonCode("too_many_recipients", ("rejection", "dead_letter"),
               "More than 3 `to` or more than 9 `cc` addresses."),
    ReasonCode("subject_mismatch", ("rejection", "dead_letter"),
               "`ce_subject` is not the aggregate id the message names (its Kafka key field)."),
    ReasonCode("handler_error", ("dead_letter",),
               "The handler failed on every retry for a reason of its own (not an outage); the record is kept "
               "in the dead-letter topic and the consumer moves on."),
    ReasonCode("internal_error", ("rejection",),
               "The command (or bank transaction) could not be processed after retries and was dead-lettered "
               "(`handler_error`)."),
    # --- every service ------------------------------------------------------------------------
    ReasonCode("account_mismatch", ("rejection", "dropped"),
               "The account the message's data names (its `account_id`, an invoice snapshot's, a series, the "
               "account to configure) is not the message's account (`ce_accountid`): the message has no effect, a "
               "command is answered and an event dropped. Ids are per account, so another account's invoice, "
               "mail, payment or transaction id is answered as unknown, never with this code."),
    ReasonCode("account_not_allowed", ("rejection", "dead_letter"),
               "The record came from an integrator's own topic (`<topic>.from.<integrator>`) and the integrator "
               "is not granted the message's account (`ce_accountid`; `invoicing integrators grant`): it has no "
               "effect. A command is answered; anything else (a bank transaction, a record that is no valid "
               "message) is dead-lettered."),
    ReasonCode("internal_command", ("rejection",),
               "The command is a step of a flow the platform runs itself (`x-internal` in its schema: a balance "
               "crediting or paying an invoice, a revision settling its original); it is refused from an "
               "integrator's topic."),
    # --- invoices -----------------------------------------------------------------------------
    ReasonCode("account_not_configured", ("rejection",),
               "Finalizing needs the account's company name, sender email and payee IBAN (account.configure)."),
    ReasonCode("unknown_invoice", ("rejection",), "No invoice of this account has this id."),
    ReasonCode("invoice_exists", ("rejection",), "The invoice id is taken; ids are never reused."),
    ReasonCode("quote_already_invoiced", ("rejection",), "The quote already has an invoice; a quote has one."),
    ReasonCode("invalid_status", ("rejection",),
               "The invoice's status does not allow the action (see the lifecycle table: for example only a "
               "draft can be finalized, a draft cannot be sent, paid or void invoices cannot be edited)."),
    ReasonCode("finalization_pending", ("rejection",),
               "The invoice is being finalized (its number is on its way): it cannot be edited, deleted or "
               "finalized again by another command until the first finalization is answered."),
    ReasonCode("finalization_failed", ("rejection",),
               "The allocated number could not be applied to the invoice; the invoice stays a draft and the "
               "number is recorded as a gap."),
    ReasonCode("invoice_not_editable", ("rejection",),
               "An open invoice allows only memo and metadata changes, unless the account enabled editing "
               "finalized invoices, no payment is recorded, it has no credit note and it is no subscription "
               "invoice."),
    ReasonCode("invoice_not_deletable", ("rejection",),
               "Only drafts are deleted, and open invoices without payments or credit notes when the account "
               "enabled deleting finalized invoices."),
    ReasonCode("no_changes", ("rejection",), "The update names no field to change."),
    ReasonCode("negative_total", ("rejection",),
               "The invoice's lines total less than zero (negative unit amounts outweigh the rest): refused by "
               "`invoice.create`, `invoice.update` and `invoice.finalize`, so no open invoice asks for less "
               "than nothing."),
    ReasonCode("due_date_before_issue", ("rejection",),
               "The due date is before the issue date: the finalization's for an open invoice, today for a draft "
               "(refused by `invoice.create`, `invoice.update` and `invoice.finalize`)."),
    ReasonCode("no_recipient", ("rejection",), "The customer has no email address and the command names none."),
    ReasonCode("online_payment_exists", ("rejection",),
               "An online payment is recorded, so the invoice can be neither voided nor marked unpaid."),
    ReasonCode("payments_recorded", ("rejection",),
               "Payments are recorded for the invoice (manual, applied or matched bank transfers): remove each with "
               "`payment.remove` before voiding it or marking it unpaid."),
    ReasonCode("payment_pending", ("rejection",),
               "The bank announced a transfer for the invoice that is not booked yet (`payment.pending`): its "
               "lines and terms cannot be edited, and it cannot be voided, marked uncollectible or deleted, until "
               "the transfer is booked or the pending payment expires (docs/design.md, Payment pending)."),
    ReasonCode("currency_mismatch", ("rejection", "unmatched"),
               "The payment's currency is not the invoice's."),
    ReasonCode("delivery_failed", ("rejection",),
               "The invoice email bounced or every retry was refused; `mail.bounced` has the SMTP diagnostic."),
    ReasonCode("nothing_due", ("rejection",),
               "The invoice's clock found nothing due at the moment the clock command names: the invoice was "
               "paid, voided or changed meanwhile, or the moment has not come yet."),
    ReasonCode("recipient_suppressed", ("rejection",),
               "Every recipient bounced permanently before and is suppressed; nothing was sent."),
    ReasonCode("einvoice_rule_violation", ("rejection",),
               "Finalizing would issue an e-invoice that breaks EN 16931 business rules; the message names each "
               "rule (`BR-S-02: ...`): both parties' country codes, VAT identifiers with a country prefix and valid "
               "check digits, and the seller's VAT identifier wherever a line has a VAT category. Nothing is "
               "numbered; fix the account or the invoice and finalize again."),
    ReasonCode("revision_in_progress", ("rejection",),
               "The invoice has a revision already (a draft not yet finalized, or a finalized one that replaced "
               "it); finalize or delete that draft first."),
    ReasonCode("no_customer_balance", ("rejection",),
               "The customer's balance in the invoice's currency holds nothing to apply (another invoice used it "
               "meanwhile): the invoice owes its whole amount due."),
    ReasonCode("refund_exceeds_balance", ("rejection",),
               "A refund paid out is more than the customer's balance holds, or than the credit note it names still "
               "owes; a balance never goes below zero."),
    ReasonCode("refund_already_recorded", ("rejection",),
               "Another refund with this reference, for another amount or credit note, is recorded on the balance; "
               "the same refund recorded again changes nothing."),
    ReasonCode("credit_exceeds_invoice", ("rejection",),
               "A credit note would take back more than the invoice charged: all its credit notes, pending ones "
               "included, stay within each line's quantity and amount and within the invoice's total."),
    ReasonCode("nothing_to_credit", ("rejection",),
               "The credit note would total zero or less (for example only a discount line is chosen)."),
    ReasonCode("credit_note_limit", ("rejection",),
               "An invoice's credit notes together have at most 1,000 lines (four times an invoice's 250), so an "
               "invoice stored with its credit notes stays within a store's document."),
    ReasonCode("unknown_line", ("rejection",), "The credit note names a line position the invoice does not have."),
    ReasonCode("credit_note_exists", ("rejection",),
               "The credit note id is taken in the account (by an issued credit note or one being issued); ids "
               "are never reused."),
    ReasonCode("unknown_credit_note", ("rejection", "dropped"),
               "The invoice has no issued credit note with this id (or, for a number, none waits for one)."),
    ReasonCode("credit_note_pending", ("rejection",),
               "A credit note of the invoice is being issued (its number is on its way): the invoice cannot be "
               "voided until it is."),
    ReasonCode("no_customer_id", ("rejection",),
               "A credit to the customer's balance needs the invoice's `customer.id`, which balances follow."),
    ReasonCode("same_number_format", ("rejection",),
               "Invoices and credit notes are numbered from series of their own: `credit_note_number_format` "
               "must differ from `number_format`."),
    # --- numbering ----------------------------------------------------------------------------
    ReasonCode("invalid_number_format", ("rejection", "dead_letter"),
               "The number format needs exactly one `{seq}` part, and a year wherever it has a month; refused "
               "where it arrives (`account.configure`, `number.allocate`)."),
    # --- payments -----------------------------------------------------------------------------
    ReasonCode("invoice_not_open", ("rejection", "unmatched"),
               "The invoice takes no payment: it is a draft, paid or void."),
    ReasonCode("unknown_transaction", ("rejection",), "The account received no bank transaction with this id."),
    ReasonCode("transaction_already_matched", ("rejection",), "The transaction is matched to an invoice already."),
    ReasonCode("invalid_split", ("rejection", "dead_letter"),
               "A split of a transaction names an invoice twice, or not the invoice the command is keyed by."),
    ReasonCode("split_mismatch", ("rejection",),
               "The amounts of a split do not add up to the transaction's amount."),
    ReasonCode("payment_already_exists", ("rejection",), "Another payment has this id; payment ids are not reused."),
    ReasonCode("unknown_payment", ("rejection",), "The invoice has no payment with this id."),
    ReasonCode("payment_already_removed", ("rejection",), "The payment was removed already."),
    ReasonCode("no_reference", ("unmatched",),
               "The remittance text carries no valid RF reference and no number of an invoice payments knows; "
               "it is matched automatically if such an invoice becomes known."),
    ReasonCode("unknown_reference", ("unmatched",),
               "The remittance text carries a valid RF reference that no invoice payments knows has (yet); "
               "it is matched automatically once that invoice is finalized."),
    ReasonCode("unknown_iban", ("unmatched",),
               "The credited IBAN is no payee IBAN of the account (configured or on its invoices)."),
    ReasonCode("iban_mismatch", ("unmatched",),
               "The named invoice asks to be paid to another of the account's IBANs."),
    ReasonCode("ambiguous_reference", ("unmatched",),
               "The remittance text names several payable invoices; a person splits the amount."),
    ReasonCode("payment_removed", ("unmatched",),
               "The transaction paid an invoice until its payment was removed (`payment.remove`; for a split, "
               "once none of its payments counts): it is back in the queue for a person to apply again."),
    # --- mailer -------------------------------------------------------------------------------
    ReasonCode("invoice_not_finalized", ("rejection",), "A draft invoice cannot be sent; finalize it first."),
    ReasonCode("invoice_mismatch", ("rejection",), "The invoice snapshot is not the invoice the command names."),
    ReasonCode("unknown_account", ("rejection",),
               "The mailer knows no configuration of the account (no `account.configured` on accounts.events): it "
               "sends mail only from an account's own configured sender, never from what a command says."),
    ReasonCode("issuer_missing", ("rejection",),
               "The account's configuration has no company name or sender email, so the mail has no sender."),
    ReasonCode("mail_id_conflict", ("rejection",), "The mail id is already used by another invoice's mail."),
    ReasonCode("suppressed", ("mail_dropped",),
               "The recipients bounced permanently before and are suppressed; the mail is not sent to them."),
    ReasonCode("credit_note_not_issued", ("rejection",),
               "A credit note is mailed once it is issued with its number (`mail.send_credit_note` with a pending "
               "one)."),
    ReasonCode("document_failed", ("rejection", "mail_dropped"),
               "The mail's invoice document could not be rendered (it failed, or took longer than "
               "`DOCUMENT_RENDER_SECONDS`) on each of the mail's `MAILER_MAX_ATTEMPTS` tries; the mail was not sent."),
    ReasonCode("invalid_mail_text", ("rejection", "dead_letter"),
               "An account's own mail text (`account.configure`'s `mail_texts`) names a placeholder there is none of "
               "(for its kind of mail: a credit note's mail has no amount owed or due date), or is no plain "
               "template: unbalanced braces, a format spec, a conversion or attribute access (`{number.__class__}`). "
               "The message names the text and the placeholder; the placeholders: docs/design.md, \"Mail texts\"."),
    ReasonCode("not_suppressed", ("rejection",),
               "`mail.unsuppress` names an address the account does not suppress (it never bounced for good, or "
               "its suppression was lifted already); nothing changes."),
)

REASONS: dict[str, ReasonCode] = {reason.code: reason for reason in _CODES}


def codes_for(use: Use) -> tuple[str, ...]:
    return tuple(reason.code for reason in _CODES if use in reason.uses)


RejectionReason = Literal[codes_for("rejection")]  # type: ignore[valid-type]
UnmatchedReason = Literal[codes_for("unmatched")]  # type: ignore[valid-type]
MailDropReason = Literal[codes_for("mail_dropped")]  # type: ignore[valid-type]


def reason_codes_document() -> str:
    """docs/reason-codes.md: every code, where it appears and its rule."""
    lines = [
        "# Reason codes",
        "",
        "Every code the platform answers with. `rejection`: the `reason` of an answer to a refused command",
        "(`invoice.command_rejected`, `number.rejected`, `payment.rejected`, `mail.rejected`); `unmatched`:",
        "the `reason` of `payment.unmatched`; `dead_letter`: the `dlq_reason` header of a record on a",
        "`<topic>.dlq` topic; `dropped`: the `reason` of `invoicing_messages_dropped_total`, an event a",
        "service did not apply (and logged); `mail_dropped`: the `reason` of `mail.dropped`, a mail not sent.",
        "Generated from `contracts/reasons.py` by `make docs`.",
        "",
        "| code | appears as | rule |",
        "|---|---|---|",
    ]
    lines += [f"| `{r.code}` | {', '.join(r.uses)} | {r.rule} |" for r in _CODES]
    return "\n".join(lines) + "\n"
