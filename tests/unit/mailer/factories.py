from datetime import UTC, date, datetime
from typing import Any

from contracts.messages.common import InvoiceSnapshot

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
