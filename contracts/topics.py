"""Kafka topic names: the public addresses of the platform, and who may read and write each.

The broker enforces the table at the bottom (`deploy/` turns it into ACLs): a principal writes
only the topics listed for it, so the topic a record arrives on says who could have written it.
That is how a consumer knows a record's producer: Kafka authenticates the connection but puts
nothing of it on the record. Integrators write their commands to topics of their own
(`integrator_topic`), which only their principal may write; the platform's own topics are
written by its services and its operators alone (see docs/design.md, "Trust boundaries").
"""

import re
from dataclasses import dataclass

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
# An account's settings as its owner last configured them (account.configured), one record per
# account: the mailer takes an account's sender and payment details from here, never from a command.
ACCOUNTS_EVENTS = "accounts.events"
# Which accounts each integrator may act for (access.granted / access.revoked), one record per
# integrator and account; written by operators only.
ACCESS_EVENTS = "access.events"

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
    ACCOUNTS_EVENTS,
    ACCESS_EVENTS,
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
    ACCOUNTS_EVENTS: "mailer",
    ACCESS_EVENTS: "invoices",
}

# Kept forever, one record per key: the latest word on each API key, account and grant.
COMPACTED = frozenset({API_KEYS_EVENTS, ACCOUNTS_EVENTS, ACCESS_EVENTS})

DLQ_SUFFIX = ".dlq"

# --- integrators -------------------------------------------------------------------------------

# The topics an integrator sends to: each has one copy per integrator, `<topic>.from.<name>`.
INTEGRATOR_WRITABLE = (INVOICES_COMMANDS, PAYMENTS_COMMANDS, PAYMENTS_TRANSACTIONS)
INTEGRATOR_NAME = r"[a-z0-9][a-z0-9-]{0,39}"
_FROM = ".from."
_INTEGRATOR_TOPIC = re.compile(
    "^(" + "|".join(re.escape(topic) for topic in INTEGRATOR_WRITABLE) + ")" + re.escape(_FROM)
    + f"({INTEGRATOR_NAME})$"
)


def is_integrator_name(name: str) -> bool:
    return re.fullmatch(INTEGRATOR_NAME, name) is not None


def integrator_topic(topic: str, integrator: str) -> str:
    """The copy of `topic` that only `integrator` may write."""
    if topic not in INTEGRATOR_WRITABLE:
        raise ValueError(f"integrators do not write {topic}")
    if not is_integrator_name(integrator):
        raise ValueError(f"{integrator!r} is not an integrator name ({INTEGRATOR_NAME})")
    return f"{topic}{_FROM}{integrator}"


def integrator_topics(integrator: str) -> tuple[str, ...]:
    return tuple(integrator_topic(topic, integrator) for topic in INTEGRATOR_WRITABLE)


@dataclass(frozen=True)
class Origin:
    """Where a record came from, as far as the broker's ACLs prove it: the platform topic it
    belongs to, and the integrator whose own topic it was written to (None: the platform's own
    principals, its services and operators, wrote it)."""

    topic: str
    integrator: str | None = None


def origin_of(topic: str) -> Origin:
    if match := _INTEGRATOR_TOPIC.fullmatch(topic):
        return Origin(match.group(1), match.group(2))
    return Origin(topic)


def subscription_pattern(consumed: tuple[str, ...] | list[str]) -> str:
    """A regular expression for the consumed topics and, for those integrators write, every
    integrator's copy (a consumer finds integrators' topics as they are created)."""
    alternatives = []
    for topic in sorted(consumed):
        suffix = f"(?:{re.escape(_FROM)}{INTEGRATOR_NAME})?" if topic in INTEGRATOR_WRITABLE else ""
        alternatives.append(re.escape(topic) + suffix)
    return "^(?:" + "|".join(alternatives) + ")$"


def dead_letter_topic(topic: str) -> str:
    """Records of an integrator's topic are dead-lettered with the platform topic's: the dead
    letter's `dlq_source_topic` header names the topic it came from."""
    return f"{origin_of(topic).topic}{DLQ_SUFFIX}"


def all_with_dead_letters() -> tuple[str, ...]:
    return ALL + tuple(dead_letter_topic(t) for t in ALL)


# --- who reads and writes what (the broker's ACLs) ---------------------------------------------


@dataclass(frozen=True)
class Grants:
    reads: tuple[str, ...]
    writes: tuple[str, ...]


# Each service's principal: it reads what it consumes (integrators' copies included) and writes
# its own events, the commands it sends its peers, and the dead letters of what it reads.
SERVICES = {
    "invoices": Grants(
        reads=(INVOICES_COMMANDS, NUMBERING_EVENTS, PAYMENTS_EVENTS, MAIL_EVENTS, API_KEYS_EVENTS, ACCESS_EVENTS),
        # invoices.commands: the invoice clock's invoice.run_clock, and the commands between invoices and
        # customer balances (customer_balance.*, invoice.apply_balance).
        writes=(INVOICES_EVENTS, ACCOUNTS_EVENTS, INVOICES_COMMANDS, NUMBERING_COMMANDS, MAIL_COMMANDS),
    ),
    "numbering": Grants(
        reads=(NUMBERING_COMMANDS, INVOICES_EVENTS, API_KEYS_EVENTS),
        writes=(NUMBERING_EVENTS,),
    ),
    "payments": Grants(
        reads=(PAYMENTS_TRANSACTIONS, PAYMENTS_COMMANDS, INVOICES_EVENTS, ACCOUNTS_EVENTS, API_KEYS_EVENTS,
               ACCESS_EVENTS),
        writes=(PAYMENTS_EVENTS,),
    ),
    "mailer": Grants(
        reads=(MAIL_COMMANDS, ACCOUNTS_EVENTS),
        writes=(MAIL_EVENTS,),
    ),
}

# The operators' principal (the CLI's admin commands): acts for every account. It sends every
# command, imports bank files, creates API keys and grants integrators their accounts, and reads
# every topic: `invoicing publish` shows the command with what the platform answered, and
# `invoicing watch` follows every topic and dead letter (integrators' copies included).
OPERATORS = Grants(
    reads=all_with_dead_letters(),
    writes=(INVOICES_COMMANDS, NUMBERING_COMMANDS, PAYMENTS_TRANSACTIONS, PAYMENTS_COMMANDS, MAIL_COMMANDS,
            API_KEYS_EVENTS, ACCESS_EVENTS),
)
