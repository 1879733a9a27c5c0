"""The hosted invoice page: a public page per invoice at /i/<invoice id>/<token>, for the customer.

No API key and no login: the 256-bit token is the credential (services.invoices.domain.hosted_link);
the service makes it again from the invoice's nonce and the deployment's secret and compares in
constant time, and anything that does not match answers the same 404 as an invoice that does not
exist. The page shows the invoice, its status and what is still owed, and links its
Factur-X PDF (/i/<id>/<token>/pdf, rendered by documents/ from the same snapshot the mailer
attaches). The page lists the invoice's issued credit notes (number, date, amount) and serves each
one's PDF under the same token (/i/<id>/<token>/credit-notes/<credit note id>/pdf): they belong to
the invoice, and whoever may see it may see what corrected it. A void invoice stays reachable with a
notice that nothing is owed; a rotated token or a deleted invoice is gone at once (no response is cached: Cache-Control no-store; the service keeps
rendered PDFs, but serves one only after the token matched).

Every value from users is HTML-escaped; the page loads nothing but itself (Content-Security-Policy),
no other site may frame it (frame-ancestors 'none', X-Frame-Options DENY: a visitor cannot be
tricked into clicking on it inside another page), and it sends no Referer with the token in it when
a visitor follows a link. A path is the page's or its PDF's exactly, or 404: nothing after them,
not even a line break.
"""

import html
import re
from typing import Any

from contracts.messages.common import InvoiceSnapshot
from contracts.messages.credit_notes import CreditNoteSnapshot
from contracts.references import format_in_groups
from documents import locale
from documents.epc_qr import epc_qr, transfer_request
from documents.model import Source, document_of, issue_date
from documents.rendering import DocumentRenderer, RenderFailed
from documents.texts import DocumentTexts, document_texts
from documents.user_text import address_lines, one_line
from services.invoices.adapters.invoices import Invoices
from services.invoices.domain.hosted_link import HostedLinks
from services.invoices.domain.invoice import Invoice
from services.invoices.invoice_pdf import RETRY_AFTER_SECONDS, content_disposition, pdf_of

PREFIX = "/i/"
_ID = r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,99}"
_PATH = re.compile(rf"/i/(?P<invoice_id>{_ID})/(?P<token>[A-Za-z0-9_\-]{{43}})"
                   rf"(?P<pdf>(/credit-notes/(?P<credit_note_id>{_ID}))?/pdf)?")
# On every answer, the PDF's and the 404's too.
_HEADERS = [
    (b"cache-control", b"no-store"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-robots-tag", b"noindex, nofollow"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy",
     b"default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
]
_STYLE = """
body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{margin:.2rem 0 1rem}.status{display:inline-block;padding:.15rem .6rem;border-radius:.3rem;font-weight:bold}
.open,.uncollectible{background:#e8eefc;color:#1b3d91}.paid{background:#e3f4e5;color:#1d6b2a}
.void{background:#fbe4e4;color:#a01c1c}.notice{border:2px solid #a01c1c;color:#a01c1c;padding:.7rem;font-weight:bold}
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{padding:.35rem;border-bottom:1px solid #ddd;text-align:left}
td.n,th.n{text-align:right}.owed{font-size:1.4rem;font-weight:bold}.parties{display:flex;gap:3rem}
.pending{background:#fff4d6;color:#7a5200;padding:.15rem .6rem}
figure{float:right;margin:0 0 1rem 1rem;text-align:center;font-size:.8rem;color:#555}figure svg{display:block}
a.download{display:inline-block;margin:1rem 0;padding:.6rem 1rem;background:#1b3d91;color:#fff;text-decoration:none;border-radius:.3rem}
"""


class HostedInvoicePages:
    """The ASGI app of the paths under PREFIX. The PDF renders in one worker process of its own,
    within DOCUMENT_RENDER_SECONDS, and is kept per invoice version (documents.rendering): a public
    route must not spend the consumer's CPU, and a page downloaded again renders nothing."""

    def __init__(self, invoices: Invoices, links: HostedLinks, renderer: DocumentRenderer | None = None) -> None:
        self.invoices = invoices
        self.links = links
        self.renderer = renderer or DocumentRenderer(processes=1)

    async def __call__(self, scope: dict[str, Any], receive, send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            await _respond(send, 405, b"text/plain; charset=utf-8", b"Method not allowed.\n")
            return
        found = await self._invoice(scope["path"])
        if found is None:
            await _respond(send, 404, b"text/plain; charset=utf-8", b"No such invoice page.\n")
            return
        invoice, match = found
        snapshot, credit_notes = invoice.snapshot(), invoice.credit_note_snapshots()
        if not match["pdf"]:
            await _respond(send, 200, b"text/html; charset=utf-8", page(snapshot, match["token"], credit_notes).encode())
            return
        document: Source | None = snapshot
        if match["credit_note_id"]:
            document = next((note for note in credit_notes if note.id == match["credit_note_id"]), None)
        if document is None:
            await _respond(send, 404, b"text/plain; charset=utf-8", b"No such invoice page.\n")
        else:
            await self._pdf(send, document, snapshot)

    async def _pdf(self, send, document: Source, invoice: InvoiceSnapshot) -> None:
        try:
            pdf = await pdf_of(self.renderer, document, invoice)
        except RenderFailed:
            await _respond(send, 503, b"text/plain; charset=utf-8",
                           b"The invoice document could not be prepared just now. Please try again in a minute.\n",
                           [(b"retry-after", str(RETRY_AFTER_SECONDS).encode())])
            return
        await _respond(send, 200, b"application/pdf", pdf, [(b"content-disposition", content_disposition(document).encode())])

    async def _invoice(self, path: str) -> tuple[Invoice, re.Match] | None:
        """The invoice the path names, and the path's parts, when the path's token is the invoice's."""
        # fullmatch: `$` would also match before a final line break, and /pdf%0A was the page.
        match = _PATH.fullmatch(path)
        if match is None:
            return None
        # Ids are per account and the address names no account: the token tells which invoice of
        # that id (if any) the page is.
        for invoice in await self.invoices.with_id(match["invoice_id"]):
            if invoice.deleted or invoice.issuer is None:
                continue
            if invoice.opens_hosted_page(self.links, match["token"]):
                return invoice, match
        return None


async def _respond(send, status: int, content_type: bytes, body: bytes,
                   headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode()),
                            *_HEADERS, *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


def page(invoice: InvoiceSnapshot, token: str, credit_notes: list[CreditNoteSnapshot] = ()) -> str:
    """The page in the customer's language, as reached with `token`, listing the invoice's issued
    credit notes; every user value escaped."""
    language = invoice.customer.language
    texts = document_texts(language)
    e = html.escape
    currency = invoice.currency

    def money(amount: int) -> str:
        return e(locale.money(amount, currency, language))

    issuer = invoice.issuer
    title = f"{texts.document_title} {invoice.number or texts.draft}"
    status = _status_label(invoice, texts)
    rows = "".join(
        f"<tr><td>{e(line.description)}</td><td class=n>{e(locale.quantity(line.quantity, language))}</td>"
        f"<td class=n>{money(line.unit_amount)}</td><td class=n>{e(locale.percentage(line.tax_rate, language))}</td>"
        f"<td class=n>{money(line.amount)}</td></tr>"
        for line in invoice.lines
    )
    facts = [(texts.issue_date, e(locale.long_date(issue_date(invoice), language)))]
    if invoice.due_date and invoice.status == "open":
        facts.append((texts.due_date, e(locale.long_date(invoice.due_date, language))))
    facts += [(texts.subtotal, money(invoice.subtotal)), (texts.tax_rate, money(invoice.tax)),
              (texts.total, money(invoice.total))]
    if invoice.amount_paid:
        facts.append((texts.amount_paid, money(invoice.amount_paid)))
    payment = ""
    if invoice.payment_pending:
        # A transfer on its way: the page says so instead of asking to pay, unless it leaves something owed.
        sent = locale.money(invoice.payment_pending_amount, currency, language)
        payment = f"<p class=pending id=payment-pending>{e(texts.payment_pending_notice.format(amount=sent))}</p>"
    if (invoice.status in ("open", "uncollectible") and invoice.payee_iban
            and invoice.payment_pending_amount < invoice.amount_remaining):
        bic = f"<br>{e(texts.bic)}: <span id=bic>{e(invoice.payee_bic)}</span>" if invoice.payee_bic else ""
        payment += (f"<h2>{e(texts.payment)}</h2>{_transfer_qr(invoice, texts)}<p>{e(texts.iban)}: <span id=iban>"
                    f"{e(format_in_groups(invoice.payee_iban))}</span>{bic}<br>{e(texts.reference)}: <span id=reference>"
                   f"{e(format_in_groups(invoice.payment_reference or ''))}</span></p>")
    notice = f"<p class=notice id=void-notice>{e(texts.void_notice)}</p>" if invoice.status == "void" else ""
    pdf_link = f"{PREFIX}{e(invoice.id)}/{e(token)}/pdf"
    credited = ""
    if credit_notes:
        credited = (f"<h2>{e(texts.credit_notes)}</h2><table id=credit-notes>" + "".join(
            f"<tr><td><a href=\"{PREFIX}{e(invoice.id)}/{e(token)}/credit-notes/{e(note.id)}/pdf\" download>"
            f"{e(one_line(note.number or texts.draft))}</a></td>"
            f"<td>{e(locale.long_date(document_of(note).issued_on, language))}</td>"
            f"<td class=n>{money(note.total)}</td></tr>" for note in credit_notes) + "</table>")

    def party(label: str, name: str, lines: list[str]) -> str:
        return f"<div><small>{e(label)}</small><br><b>{e(one_line(name))}</b><br>" + "<br>".join(map(e, lines)) + "</div>"

    return (
        f"<!DOCTYPE html><html lang=\"{e(language)}\"><head><meta charset=\"utf-8\">"
        f"<meta name=viewport content=\"width=device-width\"><title>{e(one_line(title))}</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<div class=parties>{party(texts.seller, issuer.company_name, address_lines(issuer.address))}"
        f"{party(texts.bill_to, invoice.customer.name, address_lines(invoice.customer.address))}</div>"
        f"<h1 id=number>{e(one_line(title))}</h1>"
        f"<p><span class=\"status {invoice.status}{' pending' * invoice.payment_pending}\" id=status>{e(status)}</span></p>{notice}"
        f"<p>{e(texts.amount_outstanding)}: <span class=owed id=amount-owed>{money(invoice.amount_remaining)}</span></p>"
        f"<a class=download id=download href=\"{pdf_link}\" download>{e(texts.download)}</a>"
        f"<table><thead><tr><th>{e(texts.description)}</th><th class=n>{e(texts.quantity)}</th>"
        f"<th class=n>{e(texts.unit_price)}</th><th class=n>{e(texts.tax_rate)}</th><th class=n>{e(texts.amount)}</th>"
        f"</tr></thead><tbody>{rows}</tbody></table>"
        "<table>" + "".join(f"<tr><td>{e(label)}</td><td class=n>{value}</td></tr>" for label, value in facts)
        + f"</table>{credited}{payment}"
        + (f"<p>{e(invoice.memo.strip())}</p>" if invoice.memo.strip() else "")
        + "</body></html>"
    )


def _transfer_qr(invoice: InvoiceSnapshot, texts: DocumentTexts) -> str:
    """The EPC transfer QR code as inline SVG (the page loads nothing but itself), while it applies."""
    request = transfer_request(invoice)
    if request is None:
        return ""
    svg = epc_qr(request).svg_inline(scale=4, border=4, title=texts.scan_to_pay, svgclass="qr")
    return f"<figure id=transfer-qr>{svg}<figcaption>{html.escape(texts.scan_to_pay)}</figcaption></figure>"


def _status_label(invoice: InvoiceSnapshot, texts: DocumentTexts) -> str:
    if invoice.payment_pending:
        return texts.payment_pending_status
    return {"paid": texts.paid_mark, "void": texts.void_mark, "uncollectible": texts.uncollectible_status}.get(
        invoice.status, texts.open_status)
