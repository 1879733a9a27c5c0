from prometheus_client import CollectorRegistry, Counter, Gauge


class NumberingMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.allocated = Counter("invoicing_numbers_allocated", "Invoice numbers allocated", registry=registry)
        self.gaps = Counter("invoicing_number_gaps", "Numbers released as recorded gaps", registry=registry)
        # One series for all accounts: a label per series would name every account and its number
        # formats on /metrics. Which series is broken is in the log (services.numbering.continuity).
        self.continuity_breaks = Gauge(
            "invoicing_numbering_continuity_breaks",
            "Numbers of all series neither held by an invoice nor recorded as a gap with its reason",
            registry=registry,
        )
