"""Realistic commands for integration tests."""

from contracts.messages.common import Customer, LineItem
from contracts.messages.invoices import ConfigureAccount, CreateInvoice

PAYEE_IBAN = "DE89370400440532013000"


def configure_account(account_id: str, **overrides) -> ConfigureAccount:
    fields = {
        "account_id": account_id,
        "company_name": "Acme Tooling GmbH",
        "sender_email": "billing@acme.example",
        "reply_to": "accounts@acme.example",
        "payee_iban": PAYEE_IBAN,
        "number_format": "INV-{yyyy}-{seq:05}",
        "default_days_until_due": 14,
    }
    return ConfigureAccount(**{**fields, **overrides})


def create_invoice(invoice_id: str, **overrides) -> CreateInvoice:
    fields = {
        "invoice_id": invoice_id,
        "currency": "EUR",
        "customer": Customer(name="Globex Corporation", email=["ap@globex.example"], cc=["cfo@globex.example"], language="en"),
        "lines": [
            LineItem(description="Consulting, October", quantity="10", unit_amount=12000, tax_rate="19"),
            LineItem(description="Travel expenses", quantity="1", unit_amount=4550, tax_rate="0"),
        ],
        "memo": "Thank you for your business.",
    }
    return CreateInvoice(**{**fields, **overrides})
