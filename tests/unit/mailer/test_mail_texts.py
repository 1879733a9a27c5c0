"""An account's own mail texts: refused at account.configure when a placeholder is wrong (the sender
hears which), filled in by the mailer with formatted, escaped values, the platform's texts for what
they do not override, kept by the queued mail and shown by mail.preview."""

import pytest

from contracts.messages.invoices import AccountConfigured, ConfigureAccount
from contracts.messages.mail import MailText, PreviewMail
from services.mailer.delivery import compose
from services.mailer.domain.account import MailerAccount
from services.mailer.domain.composition import render_content
from services.mailer.domain.mail_job import MailJob
from tests.integration.factories import configure_account
from tests.unit.harness import ACCOUNT, Platform, only
from tests.unit.mailer.factories import credit_note, invoice
from tests.unit.mailer.test_handlers import finalized, mail
from tests.unit.mailer.test_mail_job import NOW

URL = f"https://billing.example.com/i/inv_1/{'t' * 43}"
OWN = {"fr": {"invoice": {"subject": "Votre facture {number} : {amount_due} avant le {due_date}",
                          "body": "Bonjour {customer_name},\n\nmerci de régler {amount_remaining}.\nÀ bientôt !\n\n"
                                  "L'équipe {company_name} ({hosted_url})"}},
       "de": {"reminder": {"subject": "Erinnerung an {number}"}}}


def render(snapshot, kind="invoice", language="fr", wording=None, **options):
    return render_content(snapshot, snapshot.issuer, kind, language, wording=wording, **options)


def test_an_override_fills_its_placeholders_formatted_in_the_mails_language():
    content = render(invoice(), wording=MailText(**OWN["fr"]["invoice"]), hosted_url=URL)
    assert content.subject == "Votre facture INV-2025-00042 : 270,25\xa0€ avant le 31 mars 2025"
    assert content.text.startswith(f"Bonjour Globex AG,\n\nmerci de régler 270,25\xa0€.\nÀ bientôt !\n\n"
                                   f"L'équipe Acme GmbH\n({URL})\n\n")
    # The body replaces the greeting, the message and the closing; the facts, the link and how to pay stay.
    assert "Cordialement" not in content.text and "Numéro de facture: INV-2025-00042" in content.text
    assert f"Consulter et payer la facture:\n{URL}" in content.text and content.images
    assert "<p " in content.html and "merci de régler 270,25\xa0€.<br>À bientôt !</p>" in content.html


def test_what_is_not_overridden_is_the_platforms():
    subject_only = render(invoice(), "reminder", "de", MailText(subject="Erinnerung an {number}"))
    assert subject_only.subject == "Erinnerung an INV-2025-00042"
    assert subject_only.text == render(invoice(), "reminder", "de").text
    body_only = render(invoice(), wording=MailText(body="Merci."))
    assert body_only.subject == "Facture INV-2025-00042 de Acme GmbH"


def test_user_text_in_an_override_and_in_its_values_is_escaped_in_html():
    snapshot = invoice(customer={"name": "<b>Globex</b> & Co", "email": ["ap@globex.example"]})
    content = render(snapshot, wording=MailText(body="<a href=\"https://evil.example\">pay here</a> {customer_name}"))
    assert "evil.example\">" not in content.html and "<b>Globex" not in content.html
    assert "&lt;a href=&quot;https://evil.example&quot;&gt;pay here&lt;/a&gt; &lt;b&gt;Globex&lt;/b&gt; &amp; Co" in content.html
    assert '<a href="https://evil.example">pay here</a> <b>Globex</b> & Co' in content.text  # text stays text


def test_a_credit_notes_override_names_the_invoice_it_corrects():
    content = render(credit_note(), "credit_note", "en", MailText(subject="{number} corrects {invoice_number}: {total}"))
    assert content.subject == "CN-2025-00007 corrects INV-2025-00042: €135.13"


def test_the_account_keeps_its_texts_and_finds_them_by_language_then_base_language():
    account = MailerAccount(id="acct_1")
    account.configured(AccountConfigured(account_id="acct_1", settings={"mail_texts": OWN}))
    assert account.wording("fr", "invoice").subject.startswith("Votre facture")
    assert account.wording("de-CH", "reminder") == MailText(subject="Erinnerung an {number}")
    assert account.wording("de", "invoice") is None and account.wording("en", "invoice") is None
    # A text the contract would refuse never reaches a mail, whatever accounts.events carries.
    account.configured(AccountConfigured(account_id="acct_1", settings={"mail_texts": {"fr": {"invoice": {
        "subject": "{number.__class__}"}}}}))
    assert account.wording("fr", "invoice") is None


def test_a_queued_mail_keeps_its_link_and_the_texts_it_was_queued_with_through_storage_and_delivery():
    job = MailJob.queue(mail_id="mail_1", account_id="acct_1", invoice_id="inv_1", kind="invoice", language="fr",
                        attach_pdf=False, document=invoice(), to=["ap@globex.example"], cc=[], suppressed=set(),
                        cause={"ce_id": "cmd"}, now=NOW, hosted_url=URL, wording=MailText(subject="Vite : {number}"))
    stored = MailJob.model_validate(job.model_dump(mode="json"))
    message, _ = compose(stored, NOW, None)
    assert str(message["Subject"]) == "Vite : INV-2025-00042"
    text = message.get_payload()[0].get_payload(decode=True).decode()
    assert URL in text and "sur sa page" in text  # no PDF attached: the mail says where the invoice is


# --- at account.configure, on the in-memory platform ------------------------------------------


@pytest.fixture
async def platform() -> Platform:
    platform = Platform("invoices", "numbering", "mailer")
    await platform.send(configure_account(ACCOUNT))
    return platform


def configure_texts(mail_texts) -> ConfigureAccount:
    """The command as a producer that does not validate would write it: the service decides."""
    return ConfigureAccount.model_construct(account_id=ACCOUNT, mail_texts={
        language: {kind: MailText.model_construct(**text) for kind, text in kinds.items()}
        for language, kinds in mail_texts.items()})


@pytest.mark.parametrize(("subject", "named"), [
    ("Facture {numero}", "unknown placeholder {numero}"),
    ("Facture {number.__class__}", "unknown placeholder {number.__class__}"),
    ("Facture {number[0]}", "unknown placeholder {number[0]}"),
    ("Facture {number:>40}", "{number} has a format or conversion"),
    ("Facture {number!r}", "{number} has a format or conversion"),
    ("Facture {number", "unbalanced braces"),
    ("Facture number}", "unbalanced braces"),
    ("Facture {}", "unknown placeholder {}"),
])
async def test_a_bad_placeholder_is_refused_at_account_configure_and_the_sender_hears_which(platform, subject, named):
    rejected = only(await platform.send(configure_texts({"fr": {"invoice": {"subject": subject}}})),
                    "invoice.command_rejected")
    assert rejected.reason == "invalid_mail_text"
    assert rejected.message.startswith("mail_texts.fr.invoice.subject: ") and named in rejected.message
    assert "the placeholders are {number}, {invoice_number}, {company_name}" in rejected.message


async def test_a_credit_notes_text_cannot_name_what_a_credit_note_does_not_have(platform):
    rejected = only(await platform.send(configure_texts({"en": {"credit_note": {"body": "Pay {amount_due}"}}})),
                    "invoice.command_rejected")
    assert rejected.reason == "invalid_mail_text" and "a credit note's mail has no {amount_due}" in rejected.message


async def test_literal_braces_are_accepted_and_the_preview_shows_the_accounts_texts(platform):
    texts = {"fr": {"invoice": {"subject": "{{Urgent}} {number}", "body": "Bonjour {customer_name}."}}}
    configured = only(await platform.send(configure_account(ACCOUNT, mail_texts=texts)), "account.configured")
    assert configured.settings["mail_texts"] == texts
    invoice_ = await finalized(platform)
    preview = only(await platform.send(PreviewMail(invoice_id=invoice_.id, invoice=invoice_, language="fr")),
                   "mail.previewed")
    assert preview.subject == f"{{Urgent}} {invoice_.number}"
    assert preview.body_text.startswith("Bonjour Globex Corporation.\n\n")
    # A language the account did not write texts for keeps the platform's.
    english = only(await platform.send(PreviewMail(invoice_id=invoice_.id, invoice=invoice_, language="en")),
                   "mail.previewed")
    assert english.subject.startswith("Invoice ")
    queued = await platform.send(mail(invoice_, language="fr"))
    assert only(queued, "mail.queued").mail_id == "mail-1"
