"""The PDFs the invoices service serves, on the hosted page (its token is the key) and in the
keyed read API alike: the Factur-X document of the invoice or of one of its credit notes, in the
customer's language, rendered by the service's one DocumentRenderer (one worker, one cache, one
time limit for both), and named by its number."""

import re

from contracts.messages.common import InvoiceSnapshot
from documents.model import Source
from documents.rendering import DocumentRenderer

# How long a client is asked to wait after a render that failed or took too long.
RETRY_AFTER_SECONDS = 60


async def pdf_of(renderer: DocumentRenderer, document: Source, invoice: InvoiceSnapshot) -> bytes:
    """The PDF of `document`, the invoice or one of its credit notes (printed with the credit
    note's own issuer where it has one). Raises documents.rendering.RenderFailed."""
    return await renderer.document(document, document.issuer or invoice.issuer, invoice.customer.language)


def content_disposition(document: Source) -> str:
    """An attachment named by the document's number, with nothing a header or a file system minds."""
    filename = re.sub(r"[^A-Za-z0-9._-]+", "_", document.number or document.id)
    return f'attachment; filename="{filename}.pdf"'
