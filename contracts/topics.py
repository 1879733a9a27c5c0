"""Kafka topic names: the public addresses of the platform (DESIGN.md section 2)."""

INVOICES_COMMANDS = "invoices.commands"
INVOICES_EVENTS = "invoices.events"
NUMBERING_COMMANDS = "numbering.commands"
NUMBERING_EVENTS = "numbering.events"
PAYMENTS_TRANSACTIONS = "payments.transactions"
PAYMENTS_COMMANDS = "payments.commands"
PAYMENTS_EVENTS = "payments.events"
MAIL_COMMANDS = "mail.commands"
MAIL_EVENTS = "mail.events"

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
)

DLQ_SUFFIX = ".dlq"


def dead_letter_topic(topic: str) -> str:
    return f"{topic}{DLQ_SUFFIX}"


def all_with_dead_letters() -> tuple[str, ...]:
    return ALL + tuple(dead_letter_topic(t) for t in ALL)
