from prometheus_client import CollectorRegistry, Gauge


class InvoiceMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.by_status = Gauge("invoicing_invoices", "Invoices by status", ["status"], registry=registry)
        self.clock_delay = Gauge(
            "invoicing_invoice_clock_delay_seconds",
            "How long ago the earliest clock moment (past due, reminder) still waiting came",
            registry=registry,
        )

    def set_counts(self, counts: dict[str, int]) -> None:
        """`counts` names every status, so one that emptied shows zero."""
        for status, count in counts.items():
            self.by_status.labels(status).set(count)
