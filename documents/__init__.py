"""Documents: a Factur-X (EN 16931) PDF/A-3 rendered from an invoice snapshot or a credit note
snapshot.

Owned by the invoices service and published like `contracts/`: a pure function of the snapshots that
the messages carry, so the invoices service (hosted invoice page) and the mailer (attachment) render
the same document without calling each other or moving PDFs through Kafka (docs/design.md,
"Invoice documents").
"""

from documents.document import render_document

__all__ = ["render_document"]
