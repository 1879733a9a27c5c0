"""What a mail shows and how: the link to the invoice's page, how to pay (the transfer details and
the QR code as a cid: image part), the wrapped text part, every text in every language."""

import email
import email.policy
import re
import shutil
import subprocess
from dataclasses import fields
from typing import get_args

import pytest

from contracts.messages.mail import MailKind
from services.mailer.adapters.wire import wire_bytes
from services.mailer.domain.composition import build_message, render_content
from services.mailer.domain.layout import WIDTH
from services.mailer.domain.translations import BUILT_IN, DocumentType, Texts
from tests.unit.mailer.factories import credit_note, invoice
from tests.unit.mailer.test_composition import SENT_AT

URL = f"https://billing.example.com/i/inv_1/{'t' * 43}"
DE_IBAN, BIC = "DE89370400440532013000", "COBADEFFXXX"


def owed(**changes):
    return invoice(payee_iban=DE_IBAN, payee_bic=BIC, **changes)


def received(snapshot, content):
    message = build_message(snapshot, snapshot.issuer, content, to=["ap@globex.example"], cc=[],
                            message_id="<m@acme.example>", sent_at=SENT_AT, pdf=b"%PDF-1.7")
    return email.message_from_bytes(wire_bytes(message), policy=email.policy.default)


def links(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<a href="([^"]*)"[^>]*>([^<]*)</a>', html)


def unwrapped(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize(("snapshot", "kind", "label"), [
    (owed(), "invoice", "View and pay invoice"),
    (owed(), "reminder", "View and pay invoice"),
    (owed(status="paid", amount_paid=27025, amount_remaining=0), "receipt", "View invoice"),
    (owed(status="void"), "void_notice", "View invoice"),
    (owed(amount_paid=27025, amount_remaining=0), "invoice", "View invoice"),  # nothing left to pay
    (credit_note(), "credit_note", "View credit note"),
])
def test_every_document_mail_links_its_page_as_a_button_and_as_a_line_of_its_own(snapshot, kind, label):
    content = render_content(snapshot, snapshot.issuer, kind, "en", hosted_url=URL)
    assert links(content.html) == [(URL, label)]
    assert f"\n{label}:\n{URL}\n" in content.text
    without = render_content(snapshot, snapshot.issuer, kind, "en")
    assert links(without.html) == [] and URL not in without.text and label not in without.text


def test_the_link_is_labelled_in_the_mails_language():
    content = render_content(owed(), owed().issuer, "invoice", "de", hosted_url=URL)
    assert links(content.html) == [(URL, "Rechnung ansehen und bezahlen")]


@pytest.mark.parametrize(("attached", "hosted_url", "says", "does_not_say"), [
    (True, URL, "The invoice is attached as a PDF.", "on its page"),
    (False, URL, "You can view and download the invoice on its page.", "attached"),
    (False, None, "Here is invoice INV-2025-00042 from Acme GmbH.", "attached"),
])
def test_the_mail_says_where_the_invoice_is(attached, hosted_url, says, does_not_say):
    content = render_content(owed(), owed().issuer, "invoice", "en", attached=attached, hosted_url=hosted_url)
    for part in (unwrapped(content.text), content.html):
        assert says in part and does_not_say not in part
        assert "below." not in part  # the invoice is never "below": it is attached, or on its page
    if hosted_url is None:
        assert "on its page" not in content.text


def test_every_language_has_every_text_for_every_kind_of_mail_and_document():
    kinds, documents = set(get_args(MailKind)), set(get_args(DocumentType))
    english = BUILT_IN["en"]
    for language, texts in BUILT_IN.items():
        for field in fields(Texts):
            value = getattr(texts, field.name)
            if isinstance(value, dict):
                assert set(value) == (kinds if set(value) & {"receipt"} else documents), (language, field.name)
                assert all(text.strip() for text in value.values()), (language, field.name)
            else:
                assert value.strip(), (language, field.name)
        for kind in kinds:  # each text fills in with the fields composition gives it, and no others
            texts.subjects[kind].format(number="1", company="c", invoice="2")
            texts.intros[kind].format(number="1", company="c", invoice="2")
        texts.qr_alt.format(amount="1", payee="p")
        if language != "en":  # translated, not English left behind
            assert texts.pay_action != english.pay_action and texts.qr_caption != english.qr_caption


def test_the_html_mail_shows_the_transfer_qr_code_as_an_inline_image_part_and_says_what_it_carries():
    snapshot = owed(amount_paid=10000, amount_remaining=17025)
    content = render_content(snapshot, snapshot.issuer, "invoice", "de", hosted_url=URL)
    mail = received(snapshot, content)

    [image] = [part for part in mail.walk() if part.get_content_type() == "image/png"]
    content_id = image["Content-ID"].strip("<>")
    assert image["Content-Disposition"].startswith("inline")
    assert f'src="cid:{content_id}"' in content.html and "data:" not in content.html
    assert 'alt="QR-Code für eine Überweisung von 170,25\xa0€ an Acme GmbH"' in content.html
    # multipart/related holds the HTML and its image, as one alternative to the text
    related = next(part for part in mail.walk() if part.get_content_type() == "multipart/related")
    assert [part.get_content_type() for part in related.iter_parts()] == ["text/html", "image/png"]
    assert [part.get_content_type() for part in mail.iter_attachments()] == ["application/pdf"]

    if shutil.which("zbarimg") is None:
        pytest.skip("zbarimg (Debian's zbar-tools) is not installed: the image is not decoded")
    decoded = subprocess.run(["zbarimg", "--quiet", "--raw", "-"], input=image.get_content(), capture_output=True,
                             check=True).stdout.decode().splitlines()
    assert decoded[:2] == ["BCD", "002"] and decoded[3] == "SCT"  # [2]: the character set segno chose
    assert decoded[4:8] == [BIC, "Acme GmbH", DE_IBAN, "EUR170.25"] and "RF18539007547034" in decoded


def test_the_text_part_states_the_transfer_details_the_qr_code_carries():
    text = render_content(owed(), owed().issuer, "reminder", "en").text
    assert ("Pay by bank transfer\nPayee: Acme GmbH\nIBAN: DE89 3704 0044 0532 0130 00\nBIC: COBADEFFXXX\n"
            "Amount: €270.25\nPayment reference: RF18 5390 0754 7034") in text


@pytest.mark.parametrize(("snapshot", "kind"), [
    (owed(status="paid", amount_paid=27025, amount_remaining=0, paid_at=SENT_AT), "receipt"),
    (owed(status="void"), "void_notice"),
    (owed(amount_paid=27025, amount_remaining=0), "invoice"),
    (credit_note(), "credit_note"),
])
def test_no_qr_code_and_no_transfer_details_when_nothing_is_owed(snapshot, kind):
    content = render_content(snapshot, snapshot.issuer, kind, "en", hosted_url=URL)
    assert content.images == () and "cid:" not in content.html
    assert "Pay by bank transfer" not in content.text


def test_an_invoice_the_qr_scheme_cannot_carry_still_gets_its_transfer_details():
    snapshot = invoice(currency="CHF")  # EPC QR codes are for euros only
    content = render_content(snapshot, snapshot.issuer, "invoice", "de")
    assert content.images == ()
    assert "IBAN: CH93 0076 2011 6238 5295 7" in content.text and "Betrag: 270,25\xa0CHF" in content.text


def test_the_text_part_is_wrapped_at_76_columns_and_never_breaks_a_url():
    memo = " ".join(["A memo line that goes on and on about the project"] * 6)
    snapshot = owed(memo=memo)
    long_url = f"https://billing.example.com/a/very/long/public/base/for/this/deployment/i/inv_1/{'t' * 43}"
    text = render_content(snapshot, snapshot.issuer, "invoice", "fr", hosted_url=long_url).text
    lines = text.splitlines()
    assert long_url in lines  # whole, on its own line
    assert all(len(line) <= WIDTH for line in lines if line != long_url)
    assert memo in unwrapped(text) and memo not in text  # wrapped, not cut
    assert "-- " in lines  # the signature separator, trailing space kept


def test_the_html_layout_is_for_mail_clients():
    html = render_content(owed(), owed().issuer, "invoice", "en", hosted_url=URL).html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "max-width:600px" in html and 'role="presentation"' in html
    # Styled inline: the one <style> only eases the padding on phones.
    [style] = re.findall(r"<style>(.*?)</style>", html)
    assert style.startswith("@media (max-width: 480px)")
    assert "Acme GmbH</td>" in html  # the company as the header
    assert 'white-space:nowrap;">INV-2025-00042</td>' in html  # not broken after a hyphen
    assert "<script" not in html and "http" not in html.replace(URL, "")  # nothing is fetched from elsewhere


def test_the_footer_carries_the_senders_address():
    snapshot = owed(issuer={"company_name": "Acme GmbH", "email": "billing@acme.example",
                            "address": {"line1": "Werkstraße 12", "postal_code": "10115", "city": "Berlin",
                                        "country": "DE"}})
    content = render_content(snapshot, snapshot.issuer, "invoice", "de")
    assert content.text.endswith("-- \nAcme GmbH\nWerkstraße 12\n10115 Berlin\nDE\n")
    assert "Acme GmbH<br>Werkstraße 12<br>10115 Berlin<br>DE" in content.html
