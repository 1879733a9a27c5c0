"""The whole document: the printed invoice or credit note made PDF/A-3 with its CII XML embedded
(Factur-X).

The factur-x library embeds the XML as `factur-x.xml` (AFRelationship Data), writes the XMP metadata
PDF/A-3 and Factur-X require (conformance level EN 16931) and the document information. It checks
the XML against the official XSD only in the tests (documents/validation.py): parsing the XSD on
every document would cost more than rendering it.
"""

import io
import logging

from contracts.messages.common import Issuer
from documents.cii import document_xml
from documents.model import Source, document_of
from documents.pdf import one_line, render_pdf, title
from documents.texts import base_language, document_texts

LEVEL = "en16931"
# factur-x logs each step at INFO: one line per document is noise in a batch of thousands.
logging.getLogger("factur-x").setLevel(logging.WARNING)


def render_document(source: Source, issuer: Issuer, language: str) -> bytes:
    """The Factur-X PDF of an invoice snapshot or a credit note snapshot."""
    document = document_of(source)
    heading = title(document, document_texts(language))
    metadata = {
        "author": one_line(issuer.company_name),
        "keywords": "Factur-X, EN 16931",
        "title": one_line(heading),
        "subject": one_line(f"{heading} - {document.customer.name}"),
    }
    # Imported on first use: the factur-x library and what it loads take some 60 MiB, which a
    # process that never renders a document (the mailer's event loop, whose worker processes
    # render; the invoices service until a hosted page's PDF is downloaded) should not carry.
    import facturx

    pdf = _RewrittenInPlace(render_pdf(document, issuer, language))
    facturx.generate_from_file(
        pdf, document_xml(document, issuer), flavor="factur-x", level=LEVEL, check_xsd=False,
        pdf_metadata=metadata, lang=base_language(language),
    )
    return pdf.getvalue()


class _RewrittenInPlace(io.BytesIO):
    """A PDF in memory that factur-x reads and then writes its result into, as it does with a file
    (its `generate_from_binary` goes through a temporary file, which costs a fifth of a document).
    The result replaces the input from its first byte on."""

    def write(self, data) -> int:
        self.seek(0)
        self.truncate()
        # From now on the plain write: pypdf writes a document in over a thousand small pieces.
        self.write = super().write
        return self.write(data)
