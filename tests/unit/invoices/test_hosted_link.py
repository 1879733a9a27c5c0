"""The hosted invoice page's secret address: issued at finalization, revoked by rotation."""

import base64

import pytest

from contracts.messages.invoices import HostedLinkRotated
from services.invoices.domain.errors import RuleViolation
from tests.unit.invoices.test_lifecycle import draft, open_invoice, who


def test_a_finalized_invoice_gets_an_unguessable_token_of_256_bits_that_its_events_carry():
    invoice = open_invoice()
    token = invoice.hosted_token
    assert len(base64.urlsafe_b64decode(token + "=")) * 8 == 256
    assert invoice.snapshot().hosted_token == token
    assert open_invoice().hosted_token != token


def test_rotating_revokes_the_old_token_and_issues_a_new_one_even_after_voiding():
    invoice = open_invoice()
    invoice.void(reason="wrong customer", **who())
    old = invoice.hosted_token
    invoice.take_recorded()
    invoice.rotate_hosted_link(reason="forwarded by mistake", **who())
    assert invoice.hosted_token not in (None, old)
    [event] = invoice.take_recorded()
    assert isinstance(event, HostedLinkRotated) and event.invoice.hosted_token == invoice.hosted_token
    assert invoice.history[-1].action == "hosted_link_rotated"


def test_a_draft_has_no_page():
    invoice = draft()
    assert invoice.hosted_token is None
    with pytest.raises(RuleViolation):
        invoice.rotate_hosted_link(reason="", **who())
