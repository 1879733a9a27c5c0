from prometheus_client import CollectorRegistry, Counter, Gauge


class MailerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.mails = Counter(
            "invoicing_mails", "Mail outcomes announced: sent, bounced, dropped", ["outcome"], registry=registry
        )
        self.retries = Counter(
            "invoicing_mail_retries", "Delivery attempts deferred after a temporary failure", registry=registry
        )
        self.notices = Counter(
            "invoicing_mail_notices",
            "Notices of undelivered mails to their account: queued, suppressed (not queued), sent, bounced, dropped",
            ["outcome"], registry=registry,
        )
        self.queue_depth = Gauge("invoicing_mail_queue_depth", "Mail jobs waiting for delivery", registry=registry)
        self.foreign_account_events = Counter(
            "invoicing_mailer_foreign_account_events",
            "account.configured events whose data names another account than their envelope: ignored",
            registry=registry,
        )
