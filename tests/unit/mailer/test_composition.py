import email
import email.policy
from datetime import UTC, datetime
from email.header import decode_header, make_header

import pytest
from pydantic import ValidationError

from services.mailer.adapters.wire import wire_bytes
from services.mailer.domain.composition import build_message, message_id, render_content
from tests.unit.mailer.factories import invoice

SENT_AT = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def compose(snapshot, *, kind="invoice", language="en", to=("ap@globex.example",), cc=(), pdf=None):
    content = render_content(snapshot, snapshot.issuer, kind, language)
    message = build_message(
        snapshot,
        snapshot.issuer,
        content,
        to=list(to),
        cc=list(cc),
        message_id=message_id(snapshot.account_id, "mail_1", snapshot.issuer.email),
        sent_at=SENT_AT,
        pdf=pdf,
    )
    # What a receiver parses from the wire, not the object we built.
    return email.message_from_bytes(wire_bytes(message), policy=email.policy.default)


@pytest.mark.parametrize(
    ("language", "subject", "phrase", "due"),
    [
        ("en", "Invoice INV-2025-00042 from Acme GmbH", "Amount outstanding: €270.25", "Mar 31, 2025"),
        ("de", "Rechnung INV-2025-00042 von Acme GmbH", "Offener Betrag: 270,25\xa0€", "31.03.2025"),
        ("fr", "Facture INV-2025-00042 de Acme GmbH", "Reste à payer: 270,25\xa0€", "31 mars 2025"),
        ("it", "Fattura INV-2025-00042 da Acme GmbH", "Importo residuo: 270,25\xa0€", "31 mar 2025"),
        ("es", "Factura INV-2025-00042 de Acme GmbH", "Importe pendiente: 270,25\xa0€", "31 mar 2025"),
    ],
)
def test_each_built_in_language_states_number_amount_due_date_iban_and_reference_as_babel_writes_them(
        language, subject, phrase, due):
    content = render_content(invoice(), invoice().issuer, "invoice", language)

    assert content.subject == subject
    for text in (content.text, content.html):
        assert "INV-2025-00042" in text
        assert phrase.split(": ")[1] in text
        assert due in text
        assert "CH93 0076 2011 6238 5295 7" in text
        assert "RF18 5390 0754 7034" in text
    assert phrase in content.text


@pytest.mark.parametrize("language", ["nl", "pt-BR", "xx"])
def test_unknown_languages_get_english(language):
    assert render_content(invoice(), invoice().issuer, "invoice", language).subject.startswith("Invoice ")


def test_regional_variant_uses_its_base_language():
    assert render_content(invoice(), invoice().issuer, "invoice", "de-CH").subject.startswith("Rechnung ")


@pytest.mark.parametrize(
    ("kind", "subject", "must", "must_not"),
    [
        ("receipt", "Receipt for invoice INV-2025-00042 from Acme GmbH", "Amount paid: €270.25", "IBAN"),
        ("void_notice", "Invoice INV-2025-00042 from Acme GmbH has been voided", "do not need to pay", "Amount outstanding"),
        ("reminder", "Reminder: invoice INV-2025-00042 from Acme GmbH", "RF18 5390 0754 7034", "Amount paid"),
    ],
)
def test_each_kind_says_what_it_is_about(kind, subject, must, must_not):
    snapshot = invoice(status="paid", amount_paid=27025, amount_due=0) if kind == "receipt" else invoice()
    content = render_content(snapshot, snapshot.issuer, kind, "en")

    assert content.subject == subject
    assert must in " ".join(content.text.split())  # the text part is wrapped
    assert must_not not in content.text


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (123456, "EUR", "€1,234.56"),
        (123456, "JPY", "¥123,456"),
        (123456, "KWD", "KWD123.456"),
        (5, "EUR", "€0.05"),
    ],
)
def test_amounts_use_the_currency_exponent(amount, currency, shown):
    snapshot = invoice(currency=currency, amount_due=amount, amount_remaining=amount)
    assert shown in render_content(snapshot, snapshot.issuer, "invoice", "en").text


def test_headers_name_sender_reply_to_recipients_and_a_stable_message_id():
    received = compose(invoice(), to=["ap@globex.example", "cfo@globex.example"], cc=["audit@globex.example"])

    assert received["From"].addresses[0].display_name == "Acme GmbH"
    assert received["From"].addresses[0].addr_spec == "billing@acme.example"
    assert received["Reply-To"].addresses[0].addr_spec == "office@acme.example"
    assert [a.addr_spec for a in received["To"].addresses] == ["ap@globex.example", "cfo@globex.example"]
    assert [a.addr_spec for a in received["Cc"].addresses] == ["audit@globex.example"]
    assert received["Subject"] == "Invoice INV-2025-00042 from Acme GmbH"
    assert received["Message-ID"] == message_id("acct_1", "mail_1", "billing@acme.example")
    assert received["Message-ID"].endswith("@acme.example>")
    assert message_id("acct_1", "mail_2", "billing@acme.example") != received["Message-ID"]


def test_reply_to_falls_back_to_the_issuer_address():
    snapshot = invoice(issuer={"company_name": "Acme GmbH", "email": "billing@acme.example"})
    assert compose(snapshot)["Reply-To"].addresses[0].addr_spec == "billing@acme.example"


def test_header_injection_in_names_is_neutralised():
    customer, company = "Globex\r\nBcc: victim@evil.example", "Acme\nBcc: spy@evil.example\r\nX-Evil: 1"
    # The contract refuses such names on arrival (contracts.messages.bounds); the composer does not
    # rely on it, for invoices stored before the contract did.
    with pytest.raises(ValidationError):
        invoice(customer={"name": customer, "email": ["ap@globex.example"]})
    snapshot = invoice()
    snapshot = snapshot.model_copy(update={
        "customer": snapshot.customer.model_copy(update={"name": customer}),
        "issuer": snapshot.issuer.model_copy(update={"company_name": company}),
    })
    received = compose(snapshot)

    assert received["Bcc"] is None
    assert received["X-Evil"] is None
    assert received["From"].addresses[0].addr_spec == "billing@acme.example"
    assert [a.addr_spec for a in received["To"].addresses] == ["ap@globex.example"]
    assert "\n" not in received["Subject"] and "\r" not in received["Subject"]
    assert received["Subject"] == "Invoice INV-2025-00042 from Acme Bcc: spy@evil.example X-Evil: 1"


def test_non_ascii_names_are_encoded_in_headers():
    snapshot = invoice(
        customer={"name": "Łukasz Żółć", "email": ["ap@globex.example"]},
        issuer={"company_name": "Müller & Söhne, Zürich", "email": "billing@acme.example"},
    )
    message = render_content(snapshot, snapshot.issuer, "invoice", "de")
    raw = wire_bytes(build_message(
        snapshot, snapshot.issuer, message, to=["ap@globex.example"], cc=[], message_id="<x@acme.example>",
        sent_at=SENT_AT, pdf=None,
    ))

    raw.decode("ascii")  # 7-bit clean on the wire: non-ASCII went through RFC 2047 encoding
    received = email.message_from_bytes(raw, policy=email.policy.default)
    assert received["From"].addresses[0].display_name == "Müller & Söhne, Zürich"
    assert received["To"].addresses[0].display_name == "Łukasz Żółć"
    assert received["Subject"] == "Rechnung INV-2025-00042 von Müller & Söhne, Zürich"


def test_a_long_non_ascii_name_is_split_into_encoded_words_that_fit_header_lines():
    name = "Łukasz Żółć und Söhne Maschinenbau Gesellschaft mit beschränkter Haftung & Co. KG, Zürich"
    snapshot = invoice(customer={"name": name, "email": ["ap@globex.example"]})
    raw = wire_bytes(build_message(
        snapshot, snapshot.issuer, render_content(snapshot, snapshot.issuer, "invoice", "de"),
        to=["ap@globex.example", "cfo@globex.example"], cc=[], message_id="<x@acme.example>", sent_at=SENT_AT, pdf=None,
    ))

    assert max(len(line) for line in raw.splitlines()) <= 78
    to = email.message_from_bytes(raw, policy=email.policy.compat32)["To"]
    # RFC 2047 readers join adjacent encoded words (Python's address parser keeps a space between them).
    assert str(make_header(decode_header(to))) == f"{name} <ap@globex.example>, {name} <cfo@globex.example>"


def test_an_internationalised_domain_is_written_in_its_ascii_form():
    snapshot = invoice(issuer={"company_name": "Bücher AG", "email": "billing@bücher.example"})
    received = compose(snapshot, to=["ap@zürich.example"])

    assert received["From"].addresses[0].addr_spec == "billing@xn--bcher-kva.example"
    assert received["To"].addresses[0].addr_spec == "ap@xn--zrich-kva.example"


def test_user_text_is_escaped_in_the_html_body():
    snapshot = invoice(
        customer={"name": "<script>alert(1)</script>", "email": ["ap@globex.example"]},
        issuer={"company_name": "Tom & \"Jerry\" <Ltd>", "email": "billing@acme.example"},
        memo="<img src=x onerror=alert(2)>\nsecond line",
    )
    html = render_content(snapshot, snapshot.issuer, "invoice", "en").html

    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Tom &amp; &quot;Jerry&quot; &lt;Ltd&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;<br>second line" in html


def test_text_and_html_alternatives_and_the_pdf_attachment():
    received = compose(invoice(), pdf=b"%PDF-1.4 test")

    assert received.get_body(("plain",)).get_content().startswith("Hello Globex AG,")
    assert '<table role="presentation"' in received.get_body(("html",)).get_content()
    [attachment] = list(received.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "INV-2025-00042.pdf"
    assert attachment.get_content() == b"%PDF-1.4 test"


def test_no_attachment_when_not_asked():
    assert list(compose(invoice(), pdf=None).iter_attachments()) == []


PARTLY_PAID = {"amount_paid": 10000, "amount_remaining": 17025}


@pytest.mark.parametrize(
    ("language", "total", "paid", "outstanding", "instruction"),
    [
        ("en", "Total: €270.25", "Amount paid: €100.00", "Amount outstanding: €170.25",
         "transfer the amount outstanding"),
        ("de", "Gesamt: 270,25\xa0€", "Bezahlter Betrag: 100,00\xa0€", "Offener Betrag: 170,25\xa0€",
         "überweisen Sie den offenen Betrag"),
        ("fr", "Total: 270,25\xa0€", "Montant payé: 100,00\xa0€", "Reste à payer: 170,25\xa0€", "virer le reste à payer"),
        ("it", "Totale: 270,25\xa0€", "Importo pagato: 100,00\xa0€", "Importo residuo: 170,25\xa0€",
         "versare l'importo residuo"),
        ("es", "Total: 270,25\xa0€", "Importe pagado: 100,00\xa0€", "Importe pendiente: 170,25\xa0€",
         "Transfiera el importe pendiente"),
    ],
)
def test_a_partly_paid_invoices_reminder_asks_for_what_is_still_owed(language, total, paid, outstanding, instruction):
    snapshot = invoice(**PARTLY_PAID)
    content = render_content(snapshot, snapshot.issuer, "reminder", language)

    for row in (total, paid, outstanding):
        assert row in content.text
        assert row.split(": ")[1] in content.html
    assert instruction in " ".join(content.text.split())
    assert content.text.count(total.split(": ")[1]) == 1  # only as the total, never as what is owed
