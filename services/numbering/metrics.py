from prometheus_client import CollectorRegistry, Counter


class NumberingMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.allocated = Counter("invoicing_numbers_allocated", "Invoice numbers allocated", registry=registry)
        self.gaps = Counter("invoicing_number_gaps", "Numbers released as recorded gaps", registry=registry)
