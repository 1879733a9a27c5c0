"""Kafka topic names: the public addresses of the platform, and who reads what."""

INVOICES_COMMANDS = "invoices.commands"
INVOICES_EVENTS = "invoices.events"
NUMBERING_COMMANDS = "numbering.commands"
NUMBERING_EVENTS = "numbering.events"
PAYMENTS_TRANSACTIONS = "payments.transactions"
PAYMENTS_COMMANDS = "payments.commands"
PAYMENTS_EVENTS = "payments.events"
MAIL_COMMANDS = "mail.commands"
MAIL_EVENTS = "mail.events"
API_KEYS_EVENTS = "api_keys.events"

ALL = (
    INVOICES_COMMANDS,
    INVOICES_EVENTS,
    NUMBERING_COMMANDS,
    NUMBERING_EVENTS,
    PAYMENTS_TRANSACTIONS,
    PAYMENTS_COMMANDS,
    PAYMENTS_EVENTS,
    MAIL_COMMANDS,
    MAIL_EVENTS,
    API_KEYS_EVENTS,
)

# A command published to a topic other than its own is dead-lettered by every service that reads
# that topic, and answered (`wrong_topic`) by exactly one: the service that reads a command topic,
# and one designated reader of each events topic.
MISROUTED_COMMANDS_ANSWERED_BY = {
    INVOICES_COMMANDS: "invoices",
    INVOICES_EVENTS: "payments",
    NUMBERING_COMMANDS: "numbering",
    NUMBERING_EVENTS: "invoices",
    PAYMENTS_TRANSACTIONS: "payments",
    PAYMENTS_COMMANDS: "payments",
    PAYMENTS_EVENTS: "invoices",
    MAIL_COMMANDS: "mailer",
    MAIL_EVENTS: "invoices",
    API_KEYS_EVENTS: "invoices",
}

# Kept forever, one record per key: the latest word on each API key (see contracts.messages.access).
COMPACTED = frozenset({API_KEYS_EVENTS})

DLQ_SUFFIX = ".dlq"


def dead_letter_topic(topic: str) -> str:
    return f"{topic}{DLQ_SUFFIX}"


def all_with_dead_letters() -> tuple[str, ...]:
    return ALL + tuple(dead_letter_topic(t) for t in ALL)
