"""The metrics every service exposes. Service-specific metrics register on the same registry."""

from prometheus_client import GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR, CollectorRegistry, Counter, Histogram

from contracts.messages import REGISTRY


class MessagingMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            self.registry.register(collector)
        self.consumed = Counter(
            "invoicing_messages_consumed",
            "Messages taken from Kafka, by outcome: handled, duplicate, ignored (not for this service), failed, "
            "refused (not allowed its account: answered or dead-lettered), dropped (an event without effect), "
            "dead_lettered",
            ["topic", "type", "outcome"],
            registry=self.registry,
        )
        self.published = Counter(
            "invoicing_messages_published", "Messages published to Kafka", ["topic", "type"], registry=self.registry
        )
        self.rejected = Counter(
            "invoicing_commands_rejected",
            "Commands answered with a rejection event",
            ["type", "reason"],
            registry=self.registry,
        )
        self.dropped = Counter(
            "invoicing_messages_dropped",
            "Events a handler did not apply for the tenant's sake: their data or the aggregate they name "
            "is not of the envelope's account (by reason)",
            ["type", "reason"],
            registry=self.registry,
        )
        self.dead_lettered = Counter(
            "invoicing_messages_dead_lettered",
            "Messages moved to a dead-letter topic",
            ["topic", "reason"],
            registry=self.registry,
        )
        self.handler_duration = Histogram(
            "invoicing_handler_duration_seconds",
            "Time to handle one message, publishing included",
            ["type"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )


def type_label(type_name: str | None) -> str:
    """A message type as a label value: a registered type's name, else "unknown". A record's
    `ce_type` is whatever its producer wrote, and every distinct label value is a series kept for
    ever."""
    return type_name if type_name in REGISTRY else "unknown"
