from prometheus_client import CollectorRegistry, Counter


class PaymentsMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.bank_transactions = Counter(
            "invoicing_bank_transactions",
            "Bank transactions received, by outcome: matched, unmatched (queued for a person), duplicate",
            ["outcome"],
            registry=registry,
        )
        self.pending_credits = Counter(
            "invoicing_pending_credits",
            "Pending credits the bank announced, by outcome: matched (payment.pending) or unmatched (not queued)",
            ["outcome"],
            registry=registry,
        )
