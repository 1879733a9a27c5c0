"""Automatic reconciliation: which invoice, if any, a bank transaction pays.

A transaction pays an invoice when it was credited to the invoice's payee IBAN in the same
account and its remittance text names the invoice, by RF creditor reference or by invoice
number. The amount decides nothing here: partial and overpayments match, and the invoices
service works out paid, partially paid or overpaid from the payment.

Events arrive out of order: a transfer can come before payments has read the invoice it names.
Such a transaction waits (AwaitingInvoice) and is matched by the same rules once an invoice it
names becomes known. One that named a known invoice the rules refused waits for a person only.
"""

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Protocol

from contracts.reasons import UnmatchedReason
from contracts.references import compact, creditor_references_in
from services.payments.domain.model import InvoiceView

# Characters invoice number formats allow besides letters and digits; they bind a word together,
# so INV-2025-00001 is one word and INV-2025-000012 is a different one.
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_/.]*")


class Credit(Protocol):
    """What the rules read of a credit: a booked transaction, or a pending one the bank announced."""

    account_id: str
    iban: str
    currency: str
    remittance_information: str


@dataclass(frozen=True)
class Match:
    invoice: InvoiceView


@dataclass(frozen=True)
class NoMatch:
    """No invoice takes the transaction: it goes to the unmatched queue, where a person applies it."""

    reason: UnmatchedReason


@dataclass(frozen=True)
class AwaitingInvoice(NoMatch):
    """Unmatched because the text names no invoice payments knows yet, which may be only a matter
    of time: the rules run again when an invoice it names becomes known."""


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

    @property
    def names(self) -> frozenset[str]:
        """Everything the text may name an invoice by: what a waiting transaction is found by."""
        return self.creditor_references | self.words

    def name(self, invoice: InvoiceView) -> bool:
        return not self.names.isdisjoint(names_of(invoice))


def names_of(invoice: InvoiceView) -> frozenset[str]:
    """What remittance text names the invoice by: its RF reference and its number, normalised."""
    names = set()
    if invoice.payment_reference is not None:
        names.add(compact(invoice.payment_reference))
    if invoice.number is not None:
        names.add(number_token(invoice.number))
    return frozenset(names)


def number_token(text: str) -> str:
    """An invoice number or a word as they compare: case-insensitive, without sentence punctuation."""
    return text.upper().rstrip(".").strip("-_/")


def match_transaction(
    transaction: Credit, candidates: Iterable[InvoiceView], payee_ibans: Collection[str]
) -> Match | NoMatch:
    """The invoice `transaction` pays, or why it goes to the unmatched queue.

    `payee_ibans` are the IBANs the account asks to be paid to, in its settings or on its
    invoices; `candidates` are invoices that may be named (extra ones are harmless: every rule
    is checked here).
    """
    references = RemittanceReferences.of(transaction.remittance_information)
    named = {
        invoice.id: invoice
        for invoice in candidates
        if invoice.account_id == transaction.account_id and references.name(invoice)
    }
    if not named:
        if payee_ibans and transaction.iban not in payee_ibans:
            return AwaitingInvoice("unknown_iban")
        return AwaitingInvoice("unknown_reference" if references.creditor_references else "no_reference")
    to_this_iban = [invoice for invoice in named.values() if invoice.payee_iban == transaction.iban]
    if not to_this_iban:
        return NoMatch("iban_mismatch" if transaction.iban in payee_ibans else "unknown_iban")
    payable = [invoice for invoice in to_this_iban if invoice.payable]
    if not payable:
        return NoMatch("invoice_not_open")
    payable_in_currency = [invoice for invoice in payable if invoice.currency == transaction.currency]
    if not payable_in_currency:
        return NoMatch("currency_mismatch")
    if len(payable_in_currency) > 1:
        # One transfer naming several open invoices cannot be split by rule; a person decides.
        return NoMatch("ambiguous_reference")
    return Match(payable_in_currency[0])
