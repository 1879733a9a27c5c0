"""Realistic commands for integration tests."""

from contracts.messages.common import Address, Customer, LineItem
from contracts.messages.invoices import ConfigureAccount, CreateInvoice

PAYEE_IBAN = "DE89370400440532013000"
# What a valid e-invoice needs of both parties (EN 16931 BR-09, BR-11, BR-S-02): a country, and the
# seller's VAT identifier (made up, with valid check digits).
COMPANY_ADDRESS = Address(line1="Werkstrasse 5", postal_code="80331", city="Munich", country="DE")
COMPANY_TAX_ID = "DE987654328"
CUSTOMER_ADDRESS = Address(line1="1 Globex Way", postal_code="10115", city="Berlin", country="DE")


def configure_account(account_id: str, **overrides) -> ConfigureAccount:
    fields = {
        "account_id": account_id,
        "company_name": "Acme Tooling GmbH",
        "sender_email": "billing@acme.example",
        "reply_to": "accounts@acme.example",
        "payee_iban": PAYEE_IBAN,
        "company_address": COMPANY_ADDRESS,
        "company_tax_id": COMPANY_TAX_ID,
        "number_format": "INV-{yyyy}-{seq:05}",
        "default_days_until_due": 14,
    }
    return ConfigureAccount(**{**fields, **overrides})


def create_invoice(invoice_id: str, **overrides) -> CreateInvoice:
    fields = {
        "invoice_id": invoice_id,
        "currency": "EUR",
        "customer": Customer(name="Globex Corporation", email=["ap@globex.example"], cc=["cfo@globex.example"], language="en",
                             address=CUSTOMER_ADDRESS),
        "lines": [
            LineItem(description="Consulting, October", quantity="10", unit_amount=12000, tax_rate="19"),
            LineItem(description="Travel expenses", quantity="1", unit_amount=4550, tax_rate="0"),
        ],
        "memo": "Thank you for your business.",
    }
    return CreateInvoice(**{**fields, **overrides})
