"""A credit note's mail: composed by the invoice mail's functions, in every language the mailer has,
its job carrying the credit note through queueing, storage and delivery."""

import email
import email.policy

import pytest

from services.mailer.adapters.wire import wire_bytes
from services.mailer.delivery import compose
from services.mailer.domain.account import MailerAccount
from services.mailer.domain.composition import render_content
from services.mailer.domain.mail_job import MailJob
from services.mailer.domain.translations import BUILT_IN
from tests.unit.mailer.factories import IBAN, credit_note, invoice
from tests.unit.mailer.test_mail_job import NOW


@pytest.mark.parametrize(("language", "subject", "corrects", "refunded"), [
    ("en", "Credit note CN-2025-00007 from Acme GmbH", "It corrects invoice INV-2025-00042.", "Refunded to you: €50.00"),
    ("de", "Gutschrift CN-2025-00007 von Acme GmbH", "Sie korrigiert die Rechnung INV-2025-00042.",
     "Wird Ihnen erstattet: 50,00\xa0€"),
    ("fr", "Avoir CN-2025-00007 de Acme GmbH", "Il rectifie la facture INV-2025-00042.", "Remboursé: 50,00\xa0€"),
    ("it", "Nota di credito CN-2025-00007 da Acme GmbH", "rettifica la fattura INV-2025-00042.",
     "Rimborsato: 50,00\xa0€"),
    ("es", "Nota de abono CN-2025-00007 de Acme GmbH", "rectifica la factura INV-2025-00042.",
     "Reembolsado: 50,00\xa0€"),
])
def test_each_language_names_the_credit_note_the_invoice_it_corrects_and_where_the_credit_went(
        language, subject, corrects, refunded):
    content = render_content(credit_note(), credit_note().issuer, "credit_note", language)
    assert content.subject == subject
    texts = BUILT_IN[language]
    balance, credited = (("€85.13", "€135.13") if language == "en" else ("85,13\xa0€", "135,13\xa0€"))
    for expected in (corrects, refunded, f"{texts.credited_to_balance}: {balance}", f"{texts.amount_credited}: {credited}",
                     f"{texts.credit_note_number}: CN-2025-00007", f"{texts.number}: INV-2025-00042"):
        assert expected in " ".join(content.text.split(" \n")).replace("\n", " "), expected
    assert "Half of the hours were not worked." in content.text
    # It asks for no payment.
    assert texts.payment_instruction not in content.text and texts.amount_outstanding not in content.text


def test_every_language_has_the_credit_note_texts():
    for texts in BUILT_IN.values():
        assert "{number}" in texts.subjects["credit_note"] and "{invoice}" in texts.intros["credit_note"]


def job(document, kind: str) -> MailJob:
    return MailJob.queue(mail_id="mail_cn", account_id="acct_1", invoice_id="inv_1", kind=kind, language="de",
                         attach_pdf=True, document=document, to=["ap@globex.example"], cc=[], suppressed=set(),
                         cause={"ce_id": "cmd"}, now=NOW)


def test_a_credit_note_job_is_stored_and_read_back_as_a_credit_note_and_its_events_name_the_invoice():
    queued = job(credit_note(), "credit_note")
    [event] = queued.take_recorded()
    assert (event.invoice_id, event.kind) == ("inv_1", "credit_note")
    again = MailJob.model_validate(queued.model_dump(mode="json"))
    assert again.document == credit_note()


def test_a_job_stored_before_it_carried_credit_notes_keeps_its_invoice():
    stored = job(invoice(), "invoice").model_dump(mode="json")
    stored["invoice"] = stored.pop("document")
    assert MailJob.model_validate(stored).document == invoice()


def test_the_composed_mail_attaches_the_credit_note_under_its_number_from_the_accounts_sender():
    account = MailerAccount(id="acct_1", company_name="Acme GmbH", sender_email="billing@acme.example",
                            payee_iban=IBAN, payee_ibans=[IBAN])
    forged = credit_note(issuer={"company_name": "Big Bank", "email": "security@bigbank.example"})
    printed = account.as_issuer_of(forged)
    assert printed.issuer.email == "billing@acme.example" and printed.lines == forged.lines
    message, _ = compose(job(printed, "credit_note"), NOW, b"%PDF-1.7 the document")
    parsed = email.message_from_bytes(wire_bytes(message), policy=email.policy.default)
    assert parsed["From"].addresses[0].addr_spec == "billing@acme.example"
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_filename() == "CN-2025-00007.pdf" and attachment.get_content() == b"%PDF-1.7 the document"
