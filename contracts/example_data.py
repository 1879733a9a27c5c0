"""One realistic message per type: the source of contracts/examples/ and of the CLI's `example`.

Examples share one story: Acme Tooling bills Globex for October's consulting, finalizes invoice
INV-2026-00001, mails it, and is paid by bank transfer.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

from contracts.messages import MessageData, access, balances, credit_notes, mail, numbering, payments
from contracts.messages import invoices as inv
from contracts.messages.common import Address, Customer, InvoiceSnapshot, Issuer, LineItem, PricedLine

ACCOUNT = "acct_acme"
INVOICE = "inv_2026_0001"
IBAN = "DE89370400440532013000"
NUMBER = "INV-2026-00001"
REFERENCE = "RF76INV202600001"
SERIES = numbering.series_key(ACCOUNT, "INV-{yyyy}-{seq:05}")
AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
BALANCE = "acct_acme/cus_globex/EUR"

CUSTOMER = Customer(
    id="cus_globex",
    name="Globex Corporation",
    email=["ap@globex.example"],
    cc=["cfo@globex.example"],
    address=Address(line1="1 Globex Way", postal_code="10115", city="Berlin", country="DE"),
    tax_id="DE123456788",
    language="en",
)
ISSUER = Issuer(
    company_name="Acme Tooling GmbH",
    email="billing@acme.example",
    reply_to="accounts@acme.example",
    address=Address(line1="Werkstrasse 5", postal_code="80331", city="Munich", country="DE"),
    tax_id="DE987654328",
)
LINES = [
    LineItem(description="Consulting, October", quantity=Decimal(10), unit_amount=12000, tax_rate=Decimal(19)),
    LineItem(description="Travel expenses", quantity=Decimal(1), unit_amount=4550, tax_rate=Decimal(0)),
]
PRICED = [
    PricedLine(**LINES[0].model_dump(), amount=120000, tax_amount=22800),
    PricedLine(**LINES[1].model_dump(), amount=4550, tax_amount=0),
]


def snapshot(**changes) -> InvoiceSnapshot:
    fields = dict(
        id=INVOICE, account_id=ACCOUNT, status="open", number=NUMBER, currency="EUR", customer=CUSTOMER,
        issuer=ISSUER, lines=PRICED, subtotal=124550, tax=22800, total=147350, amount_paid=0, amount_due=147350,
        amount_remaining=147350, due_date=date(2026, 11, 16), days_until_due=14, payee_iban=IBAN,
        payment_reference=REFERENCE, memo="Thank you for your business.", created_at=AT, finalized_at=AT,
        version=3,
    )
    return InvoiceSnapshot(**{**fields, **changes})


def credit_note() -> credit_notes.CreditNoteSnapshot:
    """The travel expenses taken back from the open invoice: it owes that much less."""
    return credit_notes.CreditNoteSnapshot(
        id="cn_2026_0001", account_id=ACCOUNT, invoice_id=INVOICE, invoice_number=NUMBER,
        invoice_issued_on=AT.date(), number="CN-2026-00001", status="issued", currency="EUR", customer=CUSTOMER,
        issuer=ISSUER, lines=[PRICED[1]], subtotal=4550, tax=0, total=4550, pre_payment_amount=4550,
        refund_amount=0, customer_balance_amount=0, reason="order_change", memo="Travel was not billable.",
        created_at=AT, issued_at=AT, version=1,
    )


def examples() -> dict[str, MessageData]:
    open_invoice = snapshot()
    past_due = snapshot(past_due=True, version=4)
    paid = snapshot(status="paid", amount_paid=147350, amount_remaining=0, paid_at=AT, version=5)
    rejection = dict(command_id="9b2f7c1e-3a44-4d1b-8f0e-5c6a7b8d9e01", message="Only a draft can be finalized; this invoice is open.")
    items: list[MessageData] = [
        inv.CreateInvoice(invoice_id=INVOICE, currency="EUR", customer=CUSTOMER, lines=LINES, days_until_due=14,
                          memo="Thank you for your business.", metadata={"project": "PRJ-42"}),
        inv.UpdateInvoice(invoice_id=INVOICE, changes=inv.InvoiceChanges(memo="Payable within 14 days.")),
        inv.DeleteInvoice(invoice_id=INVOICE, reason="Duplicate of INV-2026-00002"),
        inv.CloneInvoice(invoice_id=INVOICE, new_invoice_id="inv_2026_0002"),
        inv.FinalizeInvoice(invoice_id=INVOICE),
        inv.SendInvoice(invoice_id=INVOICE),
        inv.VoidInvoice(invoice_id=INVOICE, reason="Issued to the wrong customer"),
        inv.MarkInvoiceUncollectible(invoice_id=INVOICE, reason="Customer insolvent"),
        inv.RotateHostedLink(invoice_id=INVOICE, reason="The page address was forwarded by mistake"),
        inv.MarkInvoicePaid(invoice_id=INVOICE, paid_on=date(2026, 11, 10), note="Paid in cash at the office"),
        inv.MarkInvoiceUnpaid(invoice_id=INVOICE, reason="Cash payment was recorded twice"),
        credit_notes.CreateCreditNote(invoice_id=INVOICE, credit_note_id="cn_2026_0001",
                                      lines=[credit_notes.CreditedLine(line=1)], reason="order_change",
                                      memo="Travel was not billable."),
        credit_notes.SendCreditNote(invoice_id=INVOICE, credit_note_id="cn_2026_0001"),
        credit_notes.CreditNoteIssued(invoice_id=INVOICE, credit_note=credit_note()),
        balances.CreditCustomerBalance(balance_key=BALANCE, kind="overpayment",
                                       source_id=f"{INVOICE}/bt-TX20261110-0001", invoice_id=INVOICE, amount=2650),
        balances.ApplyCustomerBalance(balance_key=BALANCE, invoice_id="inv_2026_0002", amount=59500),
        balances.ApplyBalanceToInvoice(invoice_id="inv_2026_0002", balance_key=BALANCE, movement_id="bm_2",
                                       amount=2650),
        balances.RecordCustomerRefund(balance_key=BALANCE, amount=2650, paid_on=date(2026, 11, 20),
                                      reference="SEPA-20261120-0007", note="Paid back at the customer's request"),
        balances.CustomerBalanceChanged(balance_key=BALANCE, customer_id="cus_globex", currency="EUR", movement=(
            balances.BalanceMovement(id="bm_1", kind="overpayment", amount=2650,
                                     source_id=f"{INVOICE}/bt-TX20261110-0001", invoice_id=INVOICE, at=AT,
                                     actor="service:invoices")), balance=2650, refunds_owed=0, version=1),
        inv.ReviseInvoice(invoice_id=INVOICE, new_invoice_id="inv_2026_0001_r1"),
        inv.SettleRevisedInvoice(invoice_id=INVOICE, revision_id="inv_2026_0001_r1", revision_number="INV-2026-00002"),
        inv.InvoiceRevised(invoice_id=INVOICE, invoice=snapshot(status="void", amount_remaining=0, voided_at=AT,
                                                                revised_by="inv_2026_0001_r1", version=6),
                           revision_id="inv_2026_0001_r1", moved_payment_ids=["pay_cash_1"]),
        inv.ConfigureAccount(account_id=ACCOUNT, company_name=ISSUER.company_name, company_address=ISSUER.address,
                             company_tax_id=ISSUER.tax_id, sender_email=ISSUER.email, reply_to=ISSUER.reply_to, payee_iban=IBAN,
                             number_format="INV-{yyyy}-{seq:05}", default_days_until_due=14,
                             reminder_schedule=[-3, 1, 7],
                             mail_texts={"de": {"reminder": mail.MailText(
                                 subject="Zahlungserinnerung: {number} über {amount_remaining}",
                                 body="Guten Tag {customer_name},\n\nbitte begleichen Sie {amount_remaining} bis "
                                      "{due_date}.\n\nIhr Team von {company_name}")}}),
        inv.RunInvoiceClock(invoice_id=INVOICE, at=datetime(2026, 11, 17, tzinfo=UTC)),
        inv.InvoiceCreated(invoice_id=INVOICE, invoice=snapshot(status="draft", number=None, payment_reference=None,
                                                                  finalized_at=None, due_date=None, version=1)),
        inv.InvoiceUpdated(invoice_id=INVOICE, invoice=open_invoice, changes=[
            inv.FieldChange(field="memo", before="Thank you for your business.", after="Payable within 14 days.")]),
        inv.InvoiceDeleted(invoice_id=INVOICE, status="open", number=NUMBER, series_key=SERIES,
                           reason="Duplicate of INV-2026-00002", deleted_at=AT),
        inv.InvoiceFinalized(invoice_id=INVOICE, invoice=open_invoice,
                             hosted_token="q1W9cKx3V0Hn7bD2mT5sYf8RzL4pA6eJuN0gXiOkC3w"),
        inv.InvoiceSent(invoice_id=INVOICE, number=NUMBER, mail_id="mail-5f0c", to=["ap@globex.example"],
                        cc=["cfo@globex.example"], sent_at=AT),
        inv.InvoicePaymentApplied(invoice_id=INVOICE, invoice=paid, payment_id="bt-TX20261110-0001", amount=147350),
        inv.InvoicePaid(invoice_id=INVOICE, invoice=paid),
        inv.InvoiceMarkedUnpaid(invoice_id=INVOICE, invoice=open_invoice, removed_payment_ids=["pay_cash_1"]),
        inv.InvoiceVoided(invoice_id=INVOICE, invoice=snapshot(status="void", amount_remaining=0, voided_at=AT),
                          reason="Issued to the wrong customer"),
        inv.InvoiceMarkedUncollectible(invoice_id=INVOICE, invoice=snapshot(status="uncollectible"),
                                       reason="Customer insolvent"),
        inv.HostedLinkRotated(invoice_id=INVOICE, invoice=open_invoice,
                              hosted_token="Zp4Lm8Qw2Ks6Nd0Rf3Vb7Hj1Xc5Gt9Ye2Ua4Wo6Ie8s", reason="The page address was forwarded by mistake"),
        inv.InvoicePastDue(invoice_id=INVOICE, invoice=past_due, days_past_due=1),
        inv.QuoteInvoiced(quote_id="quote_2026_0042", invoice_id=INVOICE),
        inv.QuoteReleased(quote_id="quote_2026_0042", invoice_id=INVOICE, reason="Made from the wrong quote"),
        inv.AccountConfigured(account_id=ACCOUNT, settings={
            "account_id": ACCOUNT, "company_name": ISSUER.company_name,
            "company_address": ISSUER.address.model_dump(mode="json"), "company_tax_id": ISSUER.tax_id,
            "sender_email": ISSUER.email, "reply_to": ISSUER.reply_to, "payee_iban": IBAN,
            "number_format": "INV-{yyyy}-{seq:05}", "default_days_until_due": 14, "edit_finalized_invoices": False,
            "delete_finalized_invoices": False, "reminder_schedule": [-3, 1, 7]}),
        inv.InvoiceCommandRejected(command_type="invoice.finalize", reason="invalid_status", subject_id=INVOICE, **rejection),
        numbering.AllocateNumber(series_key=SERIES, number_format="INV-{yyyy}-{seq:05}", invoice_id=INVOICE,
                                 issued_on=date(2026, 11, 2)),
        numbering.NumberAllocated(invoice_id=INVOICE, series_key=SERIES, sequence_key=f"{SERIES}@2026", sequence=1,
                                  number=NUMBER, allocated_at=AT),
        numbering.NumberReleased(invoice_id=INVOICE, series_key=SERIES, sequence_key=f"{SERIES}@2026", sequence=1,
                                 number=NUMBER, reason="Duplicate of INV-2026-00002", released_at=AT),
        numbering.NumberRejected(command_type="number.allocate", reason="invalid_number_format", invoice_id=INVOICE,
                                 **rejection),
        payments.BankTransactionReceived(transaction_id="TX20261110-0001", iban=IBAN, amount=147350, currency="EUR",
                                         booked_on=date(2026, 11, 10), remittance_information=f"{NUMBER} RF76 INV2 0260 0001",
                                         debtor_name="Globex Corporation", debtor_iban="GB82WEST12345698765432"),
        payments.BankTransactionPending(transaction_id="DE89370400440532013000:PDNG-20261109-7", iban=IBAN,
                                        amount=147350, currency="EUR", value_date=date(2026, 11, 10),
                                        remittance_information=f"{NUMBER} RF76 INV2 0260 0001",
                                        debtor_name="Globex Corporation"),
        payments.RecordPayment(invoice_id=INVOICE, payment_id="pay_cash_1", amount=50000, currency="EUR",
                               paid_on=date(2026, 11, 9), method="cash", note="Paid at the office"),
        payments.ApplyTransaction(invoice_id=INVOICE, transaction_id="TX20261110-0002"),
        payments.RemovePayment(invoice_id=INVOICE, payment_id="pay_cash_1", reason="Recorded twice"),
        payments.PaymentMatched(invoice_id=INVOICE, payment_id="bt-TX20261110-0001", amount=147350, currency="EUR",
                                paid_on=date(2026, 11, 10), method="bank_transfer", match="automatic",
                                transaction_id="TX20261110-0001"),
        payments.PaymentPending(invoice_id=INVOICE, transaction_id="DE89370400440532013000:PDNG-20261109-7",
                                amount=147350, currency="EUR", value_date=date(2026, 11, 10),
                                expires_at=datetime(2026, 11, 17, tzinfo=UTC)),
        payments.PaymentRemoved(invoice_id=INVOICE, payment_id="pay_cash_1", amount=50000, currency="EUR",
                                reason="Recorded twice"),
        payments.PaymentUnmatched(transaction_id="TX20261110-0002", iban=IBAN, amount=9900, currency="EUR",
                                  booked_on=date(2026, 11, 10), remittance_information="thanks!", reason="no_reference"),
        payments.PaymentCommandRejected(command_type="payment.apply", reason="unknown_transaction", subject_id=INVOICE,
                                        **rejection),
        mail.SendInvoiceMail(mail_id="mail-5f0c", invoice_id=INVOICE, invoice=open_invoice, to=["ap@globex.example"],
                             cc=["cfo@globex.example"],
                             hosted_url=f"https://billing.acme.example/i/{INVOICE}/{'k' * 43}"),
        mail.SendCreditNoteMail(mail_id="mail-9c3e", invoice_id=INVOICE, credit_note=credit_note(),
                                to=["ap@globex.example"]),
        mail.SendReminderMail(mail_id="mail-7a1d", invoice_id=INVOICE, invoice=past_due, to=["ap@globex.example"],
                              days_relative_to_due=7),
        mail.PreviewMail(invoice_id=INVOICE, invoice=open_invoice, language="de"),
        mail.MailQueued(mail_id="mail-5f0c", invoice_id=INVOICE, kind="invoice", to=["ap@globex.example"],
                        cc=["cfo@globex.example"], queued_at=AT),
        mail.MailSent(mail_id="mail-5f0c", invoice_id=INVOICE, kind="invoice", to=["ap@globex.example"],
                      cc=["cfo@globex.example"], sent_at=AT, attempts=1, smtp_message_id="<mail-5f0c@acme.example>"),
        mail.MailDeferred(mail_id="mail-5f0c", invoice_id=INVOICE, kind="invoice", recipients=["ap@globex.example"],
                          attempt=1, smtp_code=451, diagnostic="4.3.0 try again later",
                          next_attempt_at=datetime(2026, 11, 2, 9, 31, tzinfo=UTC)),
        mail.MailBounced(mail_id="mail-5f0c", invoice_id=INVOICE, kind="invoice", recipients=["ap@globex.example"],
                         permanent=True, smtp_code=550, diagnostic="5.1.1 mailbox unavailable", attempts=1),
        mail.MailDropped(mail_id="mail-5f0c", invoice_id=INVOICE, kind="invoice", recipients=["ap@globex.example"],
                         reason="suppressed"),
        mail.MailPreviewed(invoice_id=INVOICE, kind="invoice", language="de", subject="Rechnung INV-2026-00001 von Acme Tooling GmbH",
                           body_text="Guten Tag, ..."),
        mail.UnsuppressAddress(address="ap@globex.example", reason="the mailbox exists again"),
        mail.AddressUnsuppressed(address="ap@globex.example", suppressed_at=datetime(2026, 10, 30, 8, 0, tzinfo=UTC),
                                 unsuppressed_at=AT, reason="the mailbox exists again"),
        mail.MailCommandRejected(command_type="mail.send_invoice", reason="account_mismatch", invoice_id=INVOICE, **rejection),
        access.ApiKeyCreated(key_id="key_3f9a1c2b7d4e", account_id=ACCOUNT, digest="0" * 64, label="accounting export",
                             created_at=AT),
        access.ApiKeyRevoked(key_id="key_3f9a1c2b7d4e", account_id=ACCOUNT, revoked_at=AT),
        access.AccessGranted(grant_key=access.grant_key("crm-sync", ACCOUNT), integrator="crm-sync", account_id=ACCOUNT,
                             granted_at=AT, granted_by="user:ops-anna"),
        access.AccessRevoked(grant_key=access.grant_key("crm-sync", ACCOUNT), integrator="crm-sync", account_id=ACCOUNT,
                             revoked_at=AT, revoked_by="user:ops-anna"),
    ]
    return {item.type_name: item for item in items}
