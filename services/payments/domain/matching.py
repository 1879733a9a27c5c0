"""Automatic reconciliation: which invoice, if any, a bank transaction pays (DESIGN.md section 5).

A transaction pays an invoice when it was credited to the invoice's payee IBAN in the same
account and its remittance text names the invoice, by RF creditor reference or by invoice
number. The amount decides nothing here: partial and overpayments match, and the invoices
service works out paid, partially paid or overpaid from the payment.
"""

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Literal

from contracts.references import compact, creditor_references_in
from services.payments.domain.model import BankTransaction, InvoiceView

UnmatchedReason = Literal["no_reference", "unknown_reference", "ambiguous_reference", "currency_mismatch", "invoice_not_open", "unknown_iban"]

# Characters invoice number formats allow besides letters and digits; they bind a word together,
# so INV-2025-00001 is one word and INV-2025-000012 is a different one.
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_/.]*")


@dataclass(frozen=True)
class Match:
    invoice: InvoiceView


@dataclass(frozen=True)
class NoMatch:
    reason: UnmatchedReason


@dataclass(frozen=True)
class RemittanceReferences:
    """What remittance text can name an invoice by: RF references and whole words, normalised."""

    creditor_references: frozenset[str]
    words: frozenset[str]

    @classmethod
    def of(cls, text: str) -> "RemittanceReferences":
        return cls(
            frozenset(creditor_references_in(text)),
            frozenset(number_token(word) for word in _WORD.findall(text)),
        )

    def name(self, invoice: InvoiceView) -> bool:
        return (
            invoice.payment_reference is not None and compact(invoice.payment_reference) in self.creditor_references
        ) or number_token(invoice.number) in self.words


def number_token(text: str) -> str:
    """An invoice number or a word as they compare: case-insensitive, without sentence punctuation."""
    return text.upper().rstrip(".").strip("-_/")


def match_transaction(
    transaction: BankTransaction, candidates: Iterable[InvoiceView], payee_ibans: Collection[str]
) -> Match | NoMatch:
    """The invoice `transaction` pays, or why it goes to the unmatched queue.

    `payee_ibans` are the IBANs the account's invoices ask to be paid to; `candidates` are
    invoices that may be named (extra ones are harmless: every rule is checked here).
    """
    if transaction.iban not in payee_ibans:
        return NoMatch("unknown_iban")
    references = RemittanceReferences.of(transaction.remittance_information)
    named = {
        invoice.id: invoice
        for invoice in candidates
        if invoice.account_id == transaction.account_id
        and invoice.payee_iban == transaction.iban
        and references.name(invoice)
    }
    if not named:
        return NoMatch("unknown_reference" if references.creditor_references else "no_reference")
    payable = [invoice for invoice in named.values() if invoice.payable]
    if not payable:
        return NoMatch("invoice_not_open")
    payable_in_currency = [invoice for invoice in payable if invoice.currency == transaction.currency]
    if not payable_in_currency:
        return NoMatch("currency_mismatch")
    if len(payable_in_currency) > 1:
        # One transfer naming several open invoices cannot be split by rule; a person decides.
        return NoMatch("ambiguous_reference")
    return Match(payable_in_currency[0])
