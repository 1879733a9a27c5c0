"""The hosted invoice page in a real browser: Debian's headless Chromium driven by Selenium, against the
invoices service on the real stack (and, for credit notes, the page served on its own). Screenshots
are kept in .cache/test-artifacts/."""

import asyncio
import base64
import io
import json
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import facturx
import httpx
import pypdf
import pytest
import uvicorn
from psycopg import AsyncConnection, sql
from selenium import webdriver
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.common.by import By

from contracts.messages.common import Address, Customer
from contracts.messages.invoices import FinalizeInvoice, MarkInvoicePaid, RotateHostedLink, SendInvoice, VoidInvoice
from documents.rendering import DocumentRenderer
from services.invoices.domain.invoice import Invoice
from services.invoices.hosted_page import HostedInvoicePages
from tests.integration.factories import CUSTOMER_ADDRESS, PAYEE_IBAN, configure_account, create_invoice
from tests.integration.harness import database_conninfo as conninfo
from tests.integration.harness import env
from tests.integration.test_mailer import caught_at_least, caught_mails
from tests.unit.documents.qr_codes import epc_fields, qr_codes_in_image
from tests.unit.invoices.test_hosted_link import finalized
from tests.unit.invoices.test_hosted_page import _Aggregates, credit_notes_of
from tests.unit.invoices.test_lifecycle import LINKS

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / ".cache" / "test-artifacts"
CUSTOMER_NAME = "Dmitri Łukasiewicz <b>&</b> Söhne"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    subprocess.run([REPO_ROOT / "deploy/test-tools/install.sh", "chromium"], check=True)
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


def page_url(handed_out: dict) -> str:
    """The page address from the event that handed the token to the account (invoice.finalized,
    invoice.hosted_link_rotated): the token travels beside the snapshot, never in it."""
    assert "hosted_token" not in handed_out["invoice"]
    return f"http://127.0.0.1:{env('INVOICES_HTTP_PORT')}/i/{handed_out['invoice_id']}/{handed_out['hosted_token']}"


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
    await producer.send(configure_account(account_id, company_address=company, company_tax_id="DE123456788"),
                        account_id=account_id)
    await event_log.wait_for_type("account.configured", account_id)
    invoice_id = f"inv_{uuid.uuid4().hex[:16]}"
    to = f"ap+{uuid.uuid4().hex[:8]}@kunde.example"
    customer = Customer(name=CUSTOMER_NAME, email=[to], language="de",
                        address=Address(line1="Marktplatz 3", postal_code="80331", city="München", country="DE"))
    await producer.send(create_invoice(invoice_id, customer=customer), account_id=account_id)
    await event_log.wait_for_type("invoice.created", invoice_id)
    await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
    finalized = (await event_log.wait_for_type("invoice.finalized", invoice_id)).data
    invoice = finalized["invoice"]
    await producer.send(SendInvoice(invoice_id=invoice_id), account_id=account_id)
    await caught_at_least(smtp_catcher_url, to, 1)
    [mail] = await caught_mails(smtp_catcher_url, to)
    [attachment] = list(mail.iter_attachments())
    [command] = [r for r in event_log.records if r.type == "mail.send_invoice" and r.key == invoice_id]
    assert command.data["hosted_url"] == page_url(finalized)  # the page the mail links

    browser.get(page_url(finalized))
    assert browser.find_element(By.ID, "number").text == f"Rechnung {invoice['number']}"
    assert browser.find_element(By.ID, "status").text == "Offen"
    assert words(browser.find_element(By.ID, "amount-owed").text) == "1.473,50 €"
    assert CUSTOMER_NAME in browser.find_element(By.TAG_NAME, "body").text  # escaped, so shown as typed
    assert not browser.find_elements(By.CSS_SELECTOR, ".parties b b")  # and no markup of the user's
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "hosted-invoice-page.png"))
    # The transfer QR code as the browser draws it, decoded from its screenshot.
    code = browser.find_element(By.ID, "transfer-qr")
    assert code.text == "Mit Ihrer Banking-App scannen und bezahlen"
    code.screenshot(str(ARTIFACTS / "hosted-invoice-page-qr.png"))
    fields = epc_fields(qr_codes_in_image(ARTIFACTS / "hosted-invoice-page-qr.png")[0])
    assert (fields["iban"], fields["amount"], fields["reference"]) == (PAYEE_IBAN, "EUR1473.5",
                                                                       invoice["payment_reference"])

    browser.find_element(By.ID, "download").click()
    pdf = downloaded(browser.downloads, f"{invoice['number']}.pdf")
    assert document_of(pdf) == document_of(attachment.get_content())  # the document the mail attached

    await producer.send(VoidInvoice(invoice_id=invoice_id, reason="Wrong customer"), account_id=account_id)
    await event_log.wait_for_type("invoice.voided", invoice_id)
    browser.get(page_url(finalized))
    assert browser.find_element(By.ID, "status").text == "STORNIERT"
    assert browser.find_element(By.ID, "void-notice").text == "Diese Rechnung wurde storniert. Es ist nichts zu zahlen."
    assert words(browser.find_element(By.ID, "amount-owed").text) == "0,00 €"
    assert not browser.find_elements(By.ID, "transfer-qr")
    browser.save_screenshot(str(ARTIFACTS / "hosted-invoice-page-void.png"))


async def finalized_invoice(producer, event_log, account_id: str) -> tuple[str, dict]:
    """A new invoice of a configured account, finalized: its id and its invoice.finalized data."""
    await producer.send(configure_account(account_id), account_id=account_id)
    await event_log.wait_for_type("account.configured", account_id)
    invoice_id = f"inv_{uuid.uuid4().hex[:16]}"
    await producer.send(create_invoice(invoice_id), account_id=account_id)
    await event_log.wait_for_type("invoice.created", invoice_id)
    await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
    finalized = (await event_log.wait_for_type("invoice.finalized", invoice_id)).data
    return invoice_id, finalized


async def test_a_paid_invoices_page_shows_no_transfer_qr_code(services, producer, event_log, account_id, browser):
    invoice_id, finalized = await finalized_invoice(producer, event_log, account_id)
    browser.get(page_url(finalized))
    assert browser.find_element(By.ID, "transfer-qr").is_displayed()
    await producer.send(MarkInvoicePaid(invoice_id=invoice_id), account_id=account_id)
    await event_log.wait_for_type("invoice.paid", invoice_id)
    browser.get(page_url(finalized))
    assert browser.find_element(By.ID, "status").text == "PAID"
    assert not browser.find_elements(By.ID, "transfer-qr") and not browser.find_elements(By.ID, "iban")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "hosted-invoice-page-paid.png"))


async def test_a_rotated_or_wrong_token_answers_404_and_the_new_one_works(services, producer, event_log, account_id):
    invoice_id, finalized = await finalized_invoice(producer, event_log, account_id)
    invoice = finalized["invoice"]
    guessed = {**finalized, "hosted_token": base64.urlsafe_b64encode(bytes(32)).decode().rstrip("=")}

    async with httpx.AsyncClient() as http:
        page = await http.get(page_url(finalized))
        assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
        assert page.headers["referrer-policy"] == "no-referrer"
        assert (await http.get(page_url(guessed))).status_code == 404
        assert (await http.get(page_url(guessed) + "/pdf")).status_code == 404

        await producer.send(RotateHostedLink(invoice_id=invoice_id, reason="forwarded"), account_id=account_id)
        rotated = (await event_log.wait_for_type("invoice.hosted_link_rotated", invoice_id)).data
        assert rotated["hosted_token"] != finalized["hosted_token"]
        assert (await http.get(page_url(finalized))).status_code == 404
        assert (await http.get(page_url(finalized) + "/pdf")).status_code == 404
        download = await http.get(page_url(rotated) + "/pdf")
        assert download.status_code == 200 and download.headers["content-type"] == "application/pdf"
        assert invoice["number"] in document_of(download.content)[0]


async def test_the_token_is_in_no_snapshot_and_not_in_the_invoices_store(
    services, producer, event_log, account_id, smtp_catcher_url
):
    """Handed out beside the snapshot of the events that give it to the account, and in the link of
    the mails about the invoice (hosted_url); no other record on the bus holds it, and the invoices
    service stores only the nonce it makes it from (the mailer keeps the mails it sends, links included)."""
    await producer.send(configure_account(account_id), account_id=account_id)
    await event_log.wait_for_type("account.configured", account_id)
    invoice_id = f"inv_{uuid.uuid4().hex[:16]}"
    to = f"ap+{uuid.uuid4().hex[:8]}@kunde.example"
    await producer.send(create_invoice(invoice_id, customer=Customer(name="Globex", email=[to], address=CUSTOMER_ADDRESS)),
                        account_id=account_id)
    await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
    token = (await event_log.wait_for_type("invoice.finalized", invoice_id)).data["hosted_token"]
    await producer.send(SendInvoice(invoice_id=invoice_id), account_id=account_id)
    await event_log.wait_for_type("invoice.sent", invoice_id, timeout=60)
    await producer.send(RotateHostedLink(invoice_id=invoice_id), account_id=account_id)
    rotated = (await event_log.wait_for_type("invoice.hosted_link_rotated", invoice_id)).data["hosted_token"]

    for record in event_log.records:
        if record.key != invoice_id:
            continue
        if record.type in ("invoice.finalized", "invoice.hosted_link_rotated"):
            assert token not in json.dumps(record.data["invoice"]) and rotated not in json.dumps(record.data["invoice"])
        elif record.type == "mail.send_invoice":
            assert record.data["hosted_url"].endswith(f"/i/{invoice_id}/{token}")
            assert token not in json.dumps(record.data["invoice"])
        else:
            assert token.encode() not in record.body and rotated.encode() not in record.body, record.type
    # The events' outboxes are cleared once they are on Kafka, a moment after the events arrive.
    deadline = time.monotonic() + 15
    while holders := await stored_anywhere([token, rotated]):
        assert time.monotonic() < deadline, f"the token is stored in {holders}"
        await asyncio.sleep(0.2)


async def stored_anywhere(secrets: list[str]) -> list[str]:
    """The services' tables (database.table) that hold any of the strings."""
    holders = []
    for database in ("invoices", "payments", "numbering"):
        async with await AsyncConnection.connect(conninfo(database)) as connection:
            for (table,) in await (await connection.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).fetchall():
                pattern = sql.SQL(" OR ").join(sql.SQL("t::text LIKE {}").format(f"%{secret}%") for secret in secrets)
                query = sql.SQL("SELECT count(*) FROM {} AS t WHERE ").format(sql.Identifier(table)) + pattern
                if (await (await connection.execute(query)).fetchone())[0]:
                    holders.append(f"{database}.{table}")
    return holders


async def test_the_page_cannot_be_framed_and_only_its_exact_paths_answer(
        services, producer, event_log, account_id, browser, tmp_path):
    """Another site framing the page (clickjacking) gets nothing: the browser refuses to show it.
    A path with anything after the page's or the PDF's (a line break: `/pdf%0A` was the HTML page)
    is 404, the same 404 as an unknown page, whatever it holds."""
    invoice_id, finalized = await finalized_invoice(producer, event_log, account_id)
    number = finalized["invoice"]["number"]
    address = page_url(finalized)

    async with httpx.AsyncClient() as http:
        for path, status in [("", 200), ("/pdf", 200), ("%0A", 404), ("/pdf%0A", 404), ("/pdf%0D%0A", 404),
                             ("/pdf/", 404), ("/", 404), ("/pdf.html", 404), ("%00", 404)]:
            answer = await http.get(address + path)
            assert answer.status_code == status, (path, answer.status_code)
            assert answer.headers["x-frame-options"] == "DENY", path
            assert "frame-ancestors 'none'" in answer.headers["content-security-policy"], path
            if status == 404:
                assert answer.headers["content-type"].startswith("text/plain") and number not in answer.text
        assert (await http.get(address.replace(invoice_id, f"{invoice_id}%00"))).status_code == 404

    framing = tmp_path / "framing.html"
    framing.write_text(f'<!DOCTYPE html><html><body><iframe id=framed src="{address}" width=800 height=600>'
                       "</iframe></body></html>")
    browser.get(framing.as_uri())
    time.sleep(2)
    browser.switch_to.frame(browser.find_element(By.ID, "framed"))
    assert number not in browser.find_element(By.TAG_NAME, "body").text
    browser.switch_to.default_content()
    browser.get(address)  # the same page on its own is shown
    assert browser.find_element(By.ID, "number").text.endswith(number)


@contextmanager
def served(app) -> Iterator[str]:
    """The ASGI app on a free local port in a thread of its own (Selenium's calls block), for a page
    whose data no command can make yet."""
    listening = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the page server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{listening.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)


def test_the_page_lists_the_invoices_credit_notes_and_downloads_each_ones_pdf(browser, monkeypatch):
    """The real page and renderer with a real finalized invoice whose issued credit notes are real
    CreditNoteSnapshots (Invoice.credit_note_snapshots, which issue 16's credit notes fill, patched)."""
    invoice, finalized_event = finalized()
    notes = credit_notes_of(invoice)
    monkeypatch.setattr(Invoice, "credit_note_snapshots", lambda self: notes)
    renderer = DocumentRenderer(0)
    with served(HostedInvoicePages(_Aggregates(invoice), LINKS, renderer)) as origin:
        browser.get(f"{origin}/i/{invoice.id}/{finalized_event.hosted_token}")
        assert browser.find_element(By.ID, "number").text == f"Invoice {invoice.number}"
        rows = browser.find_elements(By.CSS_SELECTOR, "#credit-notes tr")
        assert [words(row.text) for row in rows] == ["CN-2026-00001 Nov 4, 2026 €59.50", "CN-2026-00002 Nov 5, 2026 €59.50"]
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "hosted-invoice-page-credit-notes.png"))

        browser.find_element(By.LINK_TEXT, "CN-2026-00002").click()
        text, xml = document_of(downloaded(browser.downloads, "CN-2026-00002.pdf"))
    assert "Credit note CN-2026-00002" in text and f"Corrects invoice {invoice.number}" in text
    assert b"<ram:TypeCode>381</ram:TypeCode>" in xml and f"<ram:IssuerAssignedID>{invoice.number}<".encode() in xml
