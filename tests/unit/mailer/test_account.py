"""The mailer's copy of an account's configuration: what a mail prints comes from it, never from
the command's snapshot."""

from contracts.messages.invoices import AccountConfigured
from services.mailer.domain.account import MailerAccount
from tests.unit.mailer.factories import IBAN, invoice

OLD_IBAN = "DE89370400440532013000"


def configured(**settings) -> AccountConfigured:
    values = {"account_id": "acct_1", "company_name": "Acme GmbH", "sender_email": "billing@acme.example",
              "reply_to": "office@acme.example", "company_address": {"city": "Zürich", "country": "CH"},
              "company_tax_id": "CHE-123.456.789", "payee_iban": IBAN}
    return AccountConfigured(account_id="acct_1", settings={**values, **settings})


def test_the_issuer_and_iban_printed_are_the_accounts_whatever_the_snapshot_says():
    account = MailerAccount(id="acct_1")
    account.configured(configured())
    forged = invoice(issuer={"company_name": "Big Bank", "email": "security@bigbank.example"},
                     payee_iban="GB33BUKB20201555555555", memo="Pay now")
    printed = account.as_issuer_of(forged)
    assert printed.issuer.company_name == "Acme GmbH" and printed.issuer.email == "billing@acme.example"
    assert printed.issuer.reply_to == "office@acme.example" and printed.issuer.address.city == "Zürich"
    assert printed.issuer.tax_id == "CHE-123.456.789"
    assert printed.payee_iban == IBAN


def test_an_invoice_issued_before_an_iban_change_keeps_the_accounts_earlier_iban():
    account = MailerAccount(id="acct_1")
    account.configured(configured(payee_iban=OLD_IBAN))
    account.configured(configured(payee_iban=IBAN))
    assert account.payee_ibans == [OLD_IBAN, IBAN]
    assert account.as_issuer_of(invoice(payee_iban=OLD_IBAN)).payee_iban == OLD_IBAN
    assert account.as_issuer_of(invoice(payee_iban=None)).payee_iban == IBAN


def test_the_bic_printed_is_the_one_the_account_configured_with_the_printed_iban_never_the_snapshots():
    account = MailerAccount(id="acct_1")
    account.configured(configured(payee_iban=OLD_IBAN, payee_bic="COBADEFFXXX"))
    account.configured(configured(payee_iban=IBAN, payee_bic="UBSWCHZH80A"))
    forged = invoice(payee_iban=IBAN, payee_bic="BUKBGB22")
    assert account.as_issuer_of(forged).payee_bic == "UBSWCHZH80A"
    assert account.as_issuer_of(invoice(payee_iban=OLD_IBAN, payee_bic="BUKBGB22")).payee_bic == "COBADEFFXXX"
    account.configured(configured(payee_iban=IBAN, payee_bic=None))  # the BIC taken off the current IBAN
    assert account.as_issuer_of(forged).payee_bic is None
    assert account.as_issuer_of(invoice(payee_iban=OLD_IBAN)).payee_bic == "COBADEFFXXX"


def test_an_account_without_a_sender_has_no_issuer():
    account = MailerAccount(id="acct_1")
    account.configured(configured(sender_email=None))
    assert account.issuer() is None
    account.configured(configured(company_name=None))
    assert account.issuer() is None
