"""Documents: a Factur-X (EN 16931) PDF/A-3 rendered from an invoice snapshot or a credit note
snapshot.

Owned by the invoices service and published like `contracts/`: a pure function of the snapshots that
the messages carry, so the invoices service (hosted invoice page) and the mailer (attachment) render
the same document without calling each other or moving PDFs through Kafka (docs/design.md,
"Invoice documents").
"""

__all__ = ["render_document"]


def __getattr__(name: str):
    # Imported on first use: documents.locale (Babel alone) serves the CLI, which must not load
    # reportlab and factur-x to format an amount.
    if name == "render_document":
        from documents.document import render_document

        return render_document
    raise AttributeError(f"module 'documents' has no attribute {name!r}")
