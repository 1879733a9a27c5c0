"""The hosted invoice page's HTML, without a server: what it states, and user text escaped."""

from services.invoices.hosted_page import page
from tests.unit.documents.samples import invoice

TOKEN = "q1W9cKx3V0Hn7bD2mT5sYf8RzL4pA6eJuN0gXiOkC3w"


def test_the_page_states_number_status_amount_owed_and_links_the_pdf():
    html = page(invoice(), TOKEN)
    assert '<h1 id=number>Rechnung F-2026-00042</h1>' in html
    assert '<span class="status open" id=status>Offen</span>' in html
    assert '<span class=owed id=amount-owed>1.281,15\xa0€</span>' in html
    assert f'href="/i/inv_9/{TOKEN}/pdf"' in html
    assert "FR76 3000 6000 0112 3456 7890 189" in html


def test_user_text_is_escaped():
    html = page(invoice(customer={"name": "<img src=x onerror=alert(1)>", "language": "en"}), TOKEN)
    assert "<script>" not in html and "<img src=x" not in html and "<b>beaucoup</b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_void_invoice_says_so_and_that_nothing_is_owed():
    html = page(invoice(status="void", amount_remaining=0, customer={"name": "Globex", "language": "fr"}), TOKEN)
    assert '<span class="status void" id=status>ANNULÉE</span>' in html
    assert "Cette facture a été annulée. Aucun montant n&#x27;est dû." in html
    assert "id=iban" not in html
