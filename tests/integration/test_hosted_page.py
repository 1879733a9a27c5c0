"""The hosted invoice page in a real browser: Debian's headless Chromium driven by Selenium, against the
invoices service on the real stack. Screenshots are kept in .cache/test-artifacts/."""

import base64
import io
import subprocess
import time
import uuid
from pathlib import Path

import facturx
import httpx
import pypdf
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.common.by import By

from contracts.messages.common import Address, Customer
from contracts.messages.invoices import FinalizeInvoice, RotateHostedLink, SendInvoice, VoidInvoice
from tests.integration.factories import configure_account, create_invoice
from tests.integration.harness import env
from tests.integration.test_mailer import caught_at_least, caught_mails

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / ".cache" / "test-artifacts"
CUSTOMER_NAME = "Dmitri Łukasiewicz <b>&</b> Söhne"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    subprocess.run([REPO_ROOT / "deploy/chromium/install.sh"], check=True)
    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1000,1200", f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(options=options, service=ChromeService(executable_path="/usr/bin/chromedriver"))
    driver.downloads = downloads
    yield driver
    driver.quit()


def page_url(invoice: dict) -> str:
    return f"http://127.0.0.1:{env('INVOICES_HTTP_PORT')}/i/{invoice['id']}/{invoice['hosted_token']}"


def words(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


def downloaded(folder: Path, name: str) -> bytes:
    """The file once Chromium has finished writing it (it writes a .crdownload first)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        path = folder / name
        if path.exists() and not list(folder.glob("*.crdownload")):
            return path.read_bytes()
        time.sleep(0.1)
    raise AssertionError(f"Chromium never saved {name} in {folder}: {list(folder.iterdir())}")


def document_of(pdf: bytes) -> tuple[str, bytes]:
    """What a PDF says, without its timestamps: its text and its embedded invoice XML."""
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    return text, facturx.get_facturx_xml_from_pdf(pdf, check_xsd=True)[1]


async def test_the_hosted_page_shows_the_invoice_downloads_its_pdf_and_stays_reachable_when_void(
    services, producer, event_log, account_id, smtp_catcher_url, browser
):
    company = Address(line1="Hauptstraße 1", postal_code="10115", city="Berlin", country="DE")
    await producer.send(configure_account(account_id, company_address=company, company_tax_id="DE123456789"),
                        account_id=account_id)
    await event_log.wait_for_type("account.configured", account_id)
    invoice_id = f"inv_{uuid.uuid4().hex[:16]}"
    to = f"ap+{uuid.uuid4().hex[:8]}@kunde.example"
    customer = Customer(name=CUSTOMER_NAME, email=[to], language="de",
                        address=Address(line1="Marktplatz 3", postal_code="80331", city="München", country="DE"))
    await producer.send(create_invoice(invoice_id, customer=customer), account_id=account_id)
    await event_log.wait_for_type("invoice.created", invoice_id)
    await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
    invoice = (await event_log.wait_for_type("invoice.finalized", invoice_id)).data["invoice"]
    await producer.send(SendInvoice(invoice_id=invoice_id), account_id=account_id)
    await caught_at_least(smtp_catcher_url, to, 1)
    [mail] = await caught_mails(smtp_catcher_url, to)
    [attachment] = list(mail.iter_attachments())

    browser.get(page_url(invoice))
    assert browser.find_element(By.ID, "number").text == f"Rechnung {invoice['number']}"
    assert browser.find_element(By.ID, "status").text == "Offen"
    assert words(browser.find_element(By.ID, "amount-owed").text) == "1.473,50 €"
    assert CUSTOMER_NAME in browser.find_element(By.TAG_NAME, "body").text  # escaped, so shown as typed
    assert not browser.find_elements(By.CSS_SELECTOR, ".parties b b")  # and no markup of the user's
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "hosted-invoice-page.png"))

    browser.find_element(By.ID, "download").click()
    pdf = downloaded(browser.downloads, f"{invoice['number']}.pdf")
    assert document_of(pdf) == document_of(attachment.get_content())  # the document the mail attached

    await producer.send(VoidInvoice(invoice_id=invoice_id, reason="Wrong customer"), account_id=account_id)
    await event_log.wait_for_type("invoice.voided", invoice_id)
    browser.get(page_url(invoice))
    assert browser.find_element(By.ID, "status").text == "STORNIERT"
    assert browser.find_element(By.ID, "void-notice").text == "Diese Rechnung wurde storniert. Es ist nichts zu zahlen."
    assert words(browser.find_element(By.ID, "amount-owed").text) == "0,00 €"
    browser.save_screenshot(str(ARTIFACTS / "hosted-invoice-page-void.png"))


async def test_a_rotated_or_wrong_token_answers_404_and_the_new_one_works(services, producer, event_log, account_id):
    await producer.send(configure_account(account_id), account_id=account_id)
    await event_log.wait_for_type("account.configured", account_id)
    invoice_id = f"inv_{uuid.uuid4().hex[:16]}"
    await producer.send(create_invoice(invoice_id), account_id=account_id)
    await event_log.wait_for_type("invoice.created", invoice_id)
    await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
    invoice = (await event_log.wait_for_type("invoice.finalized", invoice_id)).data["invoice"]
    guessed = {**invoice, "hosted_token": base64.urlsafe_b64encode(bytes(32)).decode().rstrip("=")}

    async with httpx.AsyncClient() as http:
        page = await http.get(page_url(invoice))
        assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
        assert page.headers["referrer-policy"] == "no-referrer"
        assert (await http.get(page_url(guessed))).status_code == 404
        assert (await http.get(page_url(guessed) + "/pdf")).status_code == 404

        await producer.send(RotateHostedLink(invoice_id=invoice_id, reason="forwarded"), account_id=account_id)
        rotated = (await event_log.wait_for_type("invoice.hosted_link_rotated", invoice_id)).data["invoice"]
        assert (await http.get(page_url(invoice))).status_code == 404
        assert (await http.get(page_url(invoice) + "/pdf")).status_code == 404
        download = await http.get(page_url(rotated) + "/pdf")
        assert download.status_code == 200 and download.headers["content-type"] == "application/pdf"
        assert invoice["number"] in document_of(download.content)[0]
