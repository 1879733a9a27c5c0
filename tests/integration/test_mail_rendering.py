"""An invoice mail as its customer sees it: sent by the real mailer through the SMTP catcher, its
HTML part opened in Debian's headless Chromium at a phone's and a desktop's width, with the image
parts it names by cid: written next to it. Screenshots are kept in .cache/test-artifacts/."""

import email.message
import re
import uuid
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from contracts.messages.common import Address
from tests.integration.factories import configure_account
from tests.integration.test_hosted_page import ARTIFACTS, browser  # noqa: F401 (the fixture)
from tests.integration.test_mailer import IBAN, address, caught_at_least, caught_mails, open_invoice, send_invoice

HOSTED_URL = f"https://billing.example.com/i/inv_shown/{'h' * 43}"
WIDTHS = {"phone": 375, "desktop": 1280}


def html_with_its_images(mail: email.message.EmailMessage, folder: Path) -> Path:
    """The mail's HTML part as a file, its cid: references pointing at the image parts saved beside it."""
    html = mail.get_body(("html",)).get_content()
    for part in mail.walk():
        if part["Content-ID"]:
            content_id = part["Content-ID"].strip("<>")
            (folder / part.get_filename()).write_bytes(part.get_content())
            html = html.replace(f"cid:{content_id}", part.get_filename())
    page = folder / "mail.html"
    page.write_text(html, encoding="utf-8")
    return page


def look_at(driver, page: Path, name: str, width: int) -> dict:
    """Opens the page as a device `width` CSS pixels wide (a phone: a mobile viewport), keeps a
    screenshot of all of it, and answers what the layout measured."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600})
    driver.get(page.as_uri())
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"{name}-{width}.png"))
    return driver.execute_script(
        "const qr = document.querySelector('img');"
        "return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,"
        " qrWidth: qr ? qr.naturalWidth : 0, qrComplete: qr ? qr.complete : false};")


@pytest.fixture
async def account_id(services, producer, event_log) -> str:
    account = f"acct_{uuid.uuid4().hex[:12]}"
    company = Address(line1="Werkstraße 12", postal_code="10115", city="Berlin", country="DE")
    await producer.send(configure_account(account, payee_iban=IBAN, payee_bic="COBADEFFXXX", company_address=company),
                        account_id=account)
    await event_log.wait_for_type("account.configured", account)
    return account


async def test_an_invoice_mail_reads_well_on_a_phone_and_a_desktop(
    services, producer, event_log, account_id, smtp_catcher_url, browser, tmp_path  # noqa: F811
):
    invoice = open_invoice(account_id, customer={"name": "Dmitri Łukasiewicz <b>&</b> Söhne",
                                                 "email": ["x@example.com"], "language": "fr"},
                           memo="Merci pour votre confiance.\nLivraison le 3 novembre.",
                           payee_bic="COBADEFFXXX")  # the account's (the mailer prints its own copy's)
    to = address("ap")
    # Without its PDF: what is looked at here is the mail itself (test_mailer checks the attachment),
    # and a render in a worker started on a loaded machine can overrun DOCUMENT_RENDER_SECONDS.
    command = send_invoice(invoice, [to], language="fr", hosted_url=HOSTED_URL, attach_pdf=False)
    await producer.send(command, account_id=account_id)
    await caught_at_least(smtp_catcher_url, to, 1)
    [mail] = await caught_mails(smtp_catcher_url, to)

    assert mail["Subject"] == f"Facture {invoice.number} de Acme Tooling GmbH"
    text = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")  # CRLF on the wire
    assert f"\n{HOSTED_URL}\n" in text  # the link alone on its line
    assert "Montant: 1\u202f428,00\xa0€" in text
    assert "BIC: COBADEFFXXX" in text
    assert max(len(line) for line in text.splitlines() if HOSTED_URL not in line) <= 76
    assert "Vous pouvez consulter et télécharger la facture sur sa page." in " ".join(text.split())
    assert list(mail.iter_attachments()) == []
    page = html_with_its_images(mail, tmp_path)

    for device, width in WIDTHS.items():
        measured = look_at(browser, page, f"invoice-mail-{device}", width)
        assert measured["innerWidth"] == width
        assert measured["scrollWidth"] <= measured["innerWidth"], f"scrolls sideways at {width} px"
        assert measured["qrComplete"] and measured["qrWidth"] > 0, "the QR code did not load"
        [button] = browser.find_elements(By.LINK_TEXT, "Consulter et payer la facture")
        assert button.get_attribute("href") == HOSTED_URL and button.is_displayed()
        body = browser.find_element(By.TAG_NAME, "body").text
        assert "Dmitri Łukasiewicz <b>&</b> Söhne" in body  # escaped, so shown as typed
        assert "1 428,00 €" in body.replace("\u202f", " ").replace("\xa0", " ")
        assert "Werkstraße 12" in body  # the sender's address in the footer
    alt = browser.find_element(By.TAG_NAME, "img").get_attribute("alt")
    assert re.fullmatch(r"Code QR pour un virement de 1.428,00.€ à Acme Tooling GmbH", alt)
