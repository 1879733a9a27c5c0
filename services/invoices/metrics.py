from prometheus_client import CollectorRegistry, Gauge

STATUSES = ("draft", "open", "paid", "void", "uncollectible")


class InvoiceMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.by_status = Gauge("invoicing_invoices", "Invoices by status", ["status"], registry=registry)

    def set_counts(self, counts: dict[str, int]) -> None:
        for status in STATUSES:
            self.by_status.labels(status).set(counts.get(status, 0))
