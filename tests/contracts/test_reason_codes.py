"""Every reason code the code can give is documented with its rule, and misrouted commands get one answer."""

import importlib
import re
from pathlib import Path

import pytest

from contracts import topics
from contracts.reasons import REASONS
from contracts.refusals import Refusal

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("invoices", "numbering", "payments", "mailer")


def test_every_refusal_in_the_code_names_a_documented_code():
    raised = {
        match.group(1)
        for path in [*REPO.glob("services/**/*.py"), *REPO.glob("contracts/**/*.py")]
        for match in re.finditer(r"\b(?:Refusal|RuleViolation|PaymentRefused|rejection)\(\s*\"([a-z_]+)\"", path.read_text())
    }
    assert raised, "the scan found no refusal at all: its pattern is broken"
    assert raised <= set(REASONS), f"undocumented: {sorted(raised - set(REASONS))}"


def test_an_undocumented_code_cannot_be_raised():
    with pytest.raises(ValueError, match="not a documented reason code"):
        Refusal("because_i_said_so", "no")


def test_each_topic_has_exactly_one_answerer_for_misrouted_commands_and_it_reads_that_topic():
    readers = {
        service: {
            topic
            for subscriber in importlib.import_module(f"services.{service}.app").create_app().broker.subscribers
            for topic in topics.ALL
            if re.fullmatch(subscriber.pattern.broker_address, topic)
        }
        for service in SERVICES
    }
    assert set(topics.MISROUTED_COMMANDS_ANSWERED_BY) == set(topics.ALL)
    for topic, service in topics.MISROUTED_COMMANDS_ANSWERED_BY.items():
        assert topic in readers[service], f"{service} does not read {topic}"


