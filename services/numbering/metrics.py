from prometheus_client import CollectorRegistry, Counter, Gauge


class NumberingMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.allocated = Counter("invoicing_numbers_allocated", "Invoice numbers allocated", registry=registry)
        self.gaps = Counter("invoicing_number_gaps", "Numbers released as recorded gaps", registry=registry)
        self.continuity_breaks = Gauge(
            "invoicing_numbering_continuity_breaks",
            "Numbers of a series neither held by an invoice nor recorded as a gap with its reason",
            ["series"], registry=registry,
        )

    def set_continuity_breaks(self, breaks: dict[str, int]) -> None:
        for series, count in breaks.items():
            self.continuity_breaks.labels(series).set(count)
