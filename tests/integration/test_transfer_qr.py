"""The transfer QR code read off the invoice's PDF as the keyed read API serves it on the real
stack (GET /v1/invoices/{id}/pdf): rendered to an image by pdftoppm and decoded by zbarimg, every
field checked, the amount after a partial payment, and no code once the invoice is paid. The same
answers give hosted_url, the address of the page the account's owner was handed."""

import uuid
from datetime import date
from decimal import Decimal

import httpx
import pytest

from contracts.messages.invoices import FinalizeInvoice
from contracts.messages.payments import RecordPayment
from tests.integration.factories import PAYEE_IBAN, configure_account, create_invoice
from tests.integration.harness import env
from tests.integration.test_read_api import accepted_everywhere, new_key, url
from tests.unit.documents.qr_codes import epc_fields, needs_tools, qr_codes_on_first_page

BIC = "COBADEFFXXX"
TOTAL = 147350  # create_invoice(): 10 x 120.00 at 19 % and 45.50 at 0 %


@pytest.fixture(autouse=True)
def tools():
    needs_tools()


async def test_the_pdf_of_the_read_api_asks_for_the_amount_remaining_in_its_qr_code_until_paid(
        services, producer, event_log, account_id):
    await producer.send(configure_account(account_id, payee_bic=BIC), account_id=account_id)
    await event_log.wait_for_type("account.configured", account_id)
    invoice_id = f"inv_{uuid.uuid4().hex[:16]}"
    await producer.send(create_invoice(invoice_id), account_id=account_id)
    await event_log.wait_for_type("invoice.created", invoice_id)
    key = (await new_key(account_id))["key"]
    await accepted_everywhere(key)

    async with httpx.AsyncClient(timeout=30, headers={"Authorization": f"Bearer {key}"}) as http:
        async def pdf() -> bytes:
            answer = await http.get(url("invoices", f"/v1/invoices/{invoice_id}/pdf"))
            assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
            return answer.content

        draft = await http.get(url("invoices", f"/v1/invoices/{invoice_id}/pdf"))
        assert draft.status_code == 409 and "draft" in draft.json()["detail"]
        assert (await http.get(url("invoices", "/v1/invoices/inv_nobody/pdf"))).status_code == 404

        await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
        finalized = (await event_log.wait_for_type("invoice.finalized", invoice_id)).data
        shown = (await http.get(url("invoices", f"/v1/invoices/{invoice_id}"))).json()
        assert shown["hosted_url"] == (f"http://127.0.0.1:{env('INVOICES_HTTP_PORT')}/i/{invoice_id}/"
                                       f"{finalized['hosted_token']}")
        assert (await http.get(shown["hosted_url"])).status_code == 200

        await producer.send(RecordPayment(invoice_id=invoice_id, payment_id="pay_1", amount=47000, currency="EUR",
                                          paid_on=date.today()), account_id=account_id)
        await event_log.wait_for_type("invoice.payment_applied", invoice_id)
        [payload] = qr_codes_on_first_page(await pdf())
        assert epc_fields(payload) == {
            "service_tag": "BCD", "version": "002", "charset": "1", "identification": "SCT", "bic": BIC,
            "name": "Acme Tooling GmbH", "iban": PAYEE_IBAN, "amount": "EUR1003.5", "purpose": "",
            "reference": finalized["invoice"]["payment_reference"], "text": "", "information": ""}
        assert Decimal("1003.5") * 100 == TOTAL - 47000
        assert finalized["invoice"]["payment_reference"].startswith("RF")

        await producer.send(RecordPayment(invoice_id=invoice_id, payment_id="pay_2", amount=TOTAL - 47000,
                                          currency="EUR", paid_on=date.today()), account_id=account_id)
        await event_log.wait_for_type("invoice.paid", invoice_id)
        assert qr_codes_on_first_page(await pdf()) == []
