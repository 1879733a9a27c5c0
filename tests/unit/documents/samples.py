"""Invoices and credit notes to render: a French seller and a German buyer with names outside
Latin-1, two VAT rates, a partial payment, and text that would be markup or PDF syntax if anything
interpreted it."""

from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel

from contracts.messages.common import InvoiceSnapshot
from contracts.messages.credit_notes import CreditNoteSnapshot
from documents.user_text import one_line

HOSTILE_MEMO = "Merci <b>beaucoup</b> & <script>alert(1)</script> ) Tj (BT /F1 12 Tf"


def invoice(**changes: Any) -> InvoiceSnapshot:
    data: dict[str, Any] = {
        "id": "inv_9", "account_id": "acct_1", "status": "open", "number": "F-2026-00042", "currency": "EUR",
        "issuer": {"company_name": "Électricité Łódź SARL", "email": "factures@elec.example",
                   "address": {"line1": "12 rue de la Paix", "postal_code": "75002", "city": "Paris", "country": "FR"},
                   "tax_id": "FR40303265045"},
        "customer": {"name": "Дмитрий Šťastný GmbH", "email": ["ap@kunde.example"], "language": "de",
                     "address": {"line1": "Hauptstraße 5", "postal_code": "10115", "city": "Berlin", "country": "DE"},
                     "tax_id": "DE123456789"},
        "lines": [
            {"description": "Beratung vor Ort", "quantity": "10", "unit_amount": 12000, "tax_rate": "20",
             "amount": 120000, "tax_amount": 24000},
            {"description": "Fachbuch", "quantity": "2", "unit_amount": 1950, "tax_rate": "5.5",
             "amount": 3900, "tax_amount": 215},
        ],
        "subtotal": 123900, "tax": 24215, "total": 148115, "amount_paid": 20000, "amount_due": 148115,
        "amount_remaining": 128115, "due_date": date(2026, 10, 31),
        "payee_iban": "FR7630006000011234567890189", "payment_reference": "RF18539007547034",
        "memo": HOSTILE_MEMO,
        "created_at": datetime(2026, 10, 1, 9, 0, tzinfo=UTC), "finalized_at": datetime(2026, 10, 1, 9, 5, tzinfo=UTC),
        "version": 4,
    }
    data.update(changes)
    return InvoiceSnapshot.model_validate(data)


def credit_note(**changes: Any) -> CreditNoteSnapshot:
    """The whole of invoice() credited after its partial payment: what it still owed is taken off,
    what was paid is refunded."""
    source = invoice()
    data: dict[str, Any] = {
        "id": "cn_3", "account_id": source.account_id, "invoice_id": source.id, "invoice_number": source.number,
        "invoice_issued_on": date(2026, 10, 1), "number": "AV-2026-00007", "status": "issued",
        "currency": source.currency, "customer": source.customer, "issuer": source.issuer,
        "lines": source.lines, "subtotal": 123900, "tax": 24215, "total": 148115,
        "pre_payment_amount": 128115, "refund_amount": 20000, "customer_balance_amount": 0,
        "reason": "order_change", "memo": "Commande annulée.",
        "created_at": datetime(2026, 10, 20, 14, 0, tzinfo=UTC), "issued_at": datetime(2026, 10, 20, 14, 0, 5, tzinfo=UTC),
        "version": 1,
    }
    data.update(changes)
    return CreditNoteSnapshot.model_validate(data)


# One of the two books taken back: the line at 5.5 %, for 1 of its quantity of 2.
CHOSEN_LINE = {"lines": [{"description": "Fachbuch", "quantity": "1", "unit_amount": 1950, "tax_rate": "5.5",
                          "amount": 1950, "tax_amount": 107}],
               "subtotal": 1950, "tax": 107, "total": 2057, "pre_payment_amount": 2057, "refund_amount": 0}
# 93.10 including tax spread over the invoice's two rates, kept as the customer's balance.
SPREAD_AMOUNT = {"lines": [{"description": "Beratung vor Ort", "quantity": "1", "unit_amount": 6000, "tax_rate": "20",
                            "amount": 6000, "tax_amount": 1200},
                           {"description": "Fachbuch", "quantity": "1", "unit_amount": 2000, "tax_rate": "5.5",
                            "amount": 2000, "tax_amount": 110}],
                 "subtotal": 8000, "tax": 1310, "total": 9310, "pre_payment_amount": 0, "refund_amount": 0,
                 "customer_balance_amount": 9310}


def as_stored_before_bounds(**changes: Any) -> InvoiceSnapshot:
    """An invoice with text the contracts refuse today (control characters), as a store may still
    hold it from before they did: documents must render it all the same."""
    return _with_text(invoice(**_printable(changes)), changes)


def _printable(value: Any) -> Any:
    if isinstance(value, str):
        return one_line(value) or "x"
    if isinstance(value, dict):
        return {name: _printable(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_printable(item) for item in value]
    return value


def _with_text(model: BaseModel, changes: dict[str, Any]) -> Any:
    """`model` with the strings of `changes` put back as they were, unvalidated."""
    updates: dict[str, Any] = {}
    for name, value in changes.items():
        current = getattr(model, name)
        if isinstance(value, str):
            if value != _printable(value):
                updates[name] = value
        elif isinstance(value, dict) and isinstance(current, BaseModel):
            updates[name] = _with_text(current, value)
        elif isinstance(value, list) and current and isinstance(current[0], BaseModel):
            updates[name] = [_with_text(item, change) for item, change in zip(current, value, strict=True)]
    return model.model_copy(update=updates)


def exempt_invoice(exemption: str, **changes: Any) -> InvoiceSnapshot:
    """invoice() with its consulting line under the exemption (no VAT) and its book at 5.5 %."""
    lines = [{"description": "Beratung vor Ort", "quantity": "10", "unit_amount": 12000, "tax_rate": "0",
              "tax_exemption": exemption, "amount": 120000, "tax_amount": 0},
             {"description": "Fachbuch", "quantity": "2", "unit_amount": 1950, "tax_rate": "5.5", "amount": 3900,
              "tax_amount": 215}]
    return invoice(**{"lines": lines, "subtotal": 123900, "tax": 215, "total": 124115, "amount_paid": 0,
                      "amount_due": 124115, "amount_remaining": 124115, **changes})
