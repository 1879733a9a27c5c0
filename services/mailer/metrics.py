from prometheus_client import CollectorRegistry, Counter, Gauge


class MailerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.mails = Counter(
            "invoicing_mails", "Mail outcomes announced: sent, bounced, dropped", ["outcome"], registry=registry
        )
        self.retries = Counter(
            "invoicing_mail_retries", "Delivery attempts deferred after a temporary failure", registry=registry
        )
        self.queue_depth = Gauge("invoicing_mail_queue_depth", "Mail jobs waiting for delivery", registry=registry)
