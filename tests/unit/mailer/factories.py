from datetime import UTC, date, datetime
from typing import Any

from contracts.messages.common import InvoiceSnapshot
from contracts.messages.credit_notes import CreditNoteSnapshot

IBAN = "CH9300762011623852957"
REFERENCE = "RF18539007547034"


def invoice(**changes: Any) -> InvoiceSnapshot:
    data: dict[str, Any] = {
        "id": "inv_1",
        "account_id": "acct_1",
        "status": "open",
        "number": "INV-2025-00042",
        "currency": "EUR",
        "customer": {"name": "Globex AG", "email": ["ap@globex.example"]},
        "issuer": {"company_name": "Acme GmbH", "email": "billing@acme.example", "reply_to": "office@acme.example"},
        "lines": [
            {"description": "Consulting", "quantity": "2.5", "unit_amount": 10000, "tax_rate": "8.1",
             "amount": 25000, "tax_amount": 2025},
        ],
        "subtotal": 25000,
        "tax": 2025,
        "total": 27025,
        "amount_paid": 0,
        "amount_due": 27025,
        "amount_remaining": 27025,
        "due_date": date(2025, 3, 31),
        "payee_iban": IBAN,
        "payment_reference": REFERENCE,
        "created_at": datetime(2025, 3, 1, 9, 0, tzinfo=UTC),
        "finalized_at": datetime(2025, 3, 1, 9, 5, tzinfo=UTC),
        "version": 3,
    }
    data.update(changes)
    return InvoiceSnapshot.model_validate(data)


def credit_note(**changes: Any) -> CreditNoteSnapshot:
    """Half of invoice()'s consulting credited after it was paid: refunded 50.00, 85.13 to the balance."""
    data: dict[str, Any] = {
        "id": "cn_1", "account_id": "acct_1", "invoice_id": "inv_1", "invoice_number": "INV-2025-00042",
        "invoice_issued_on": date(2025, 3, 1), "number": "CN-2025-00007", "status": "issued", "currency": "EUR",
        "customer": {"name": "Globex AG", "email": ["ap@globex.example"]},
        "issuer": {"company_name": "Acme GmbH", "email": "billing@acme.example", "reply_to": "office@acme.example"},
        "lines": [{"description": "Consulting", "quantity": "1.25", "unit_amount": 10000, "tax_rate": "8.1",
                   "amount": 12500, "tax_amount": 1013}],
        "subtotal": 12500, "tax": 1013, "total": 13513, "pre_payment_amount": 0, "refund_amount": 5000,
        "customer_balance_amount": 8513, "reason": "order_change", "memo": "Half of the hours were not worked.",
        "created_at": datetime(2025, 3, 10, 9, 0, tzinfo=UTC), "issued_at": datetime(2025, 3, 10, 9, 0, tzinfo=UTC),
        "version": 1,
    }
    data.update(changes)
    return CreditNoteSnapshot.model_validate(data)
