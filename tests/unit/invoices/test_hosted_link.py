"""The hosted invoice page's secret address: issued at finalization, revoked by rotation, kept
only as a digest, handed out only by the event that gives it to the account's owner."""

import base64
import hashlib

import pytest

from contracts.messages.invoices import HostedLinkRotated, InvoiceFinalized
from services.invoices.domain.errors import RuleViolation
from services.invoices.domain.hosted_link import token_matches
from services.invoices.domain.invoice import Invoice
from tests.unit.invoices.test_lifecycle import ACCOUNT, draft, who


def finalized() -> tuple[Invoice, InvoiceFinalized]:
    invoice = draft()
    invoice.request_finalization(ACCOUNT, "acct/INV-{yyyy}-{seq:05}", **who())
    invoice.take_recorded()
    invoice.finalize("INV-2026-00001", **who())
    [event] = [e for e in invoice.take_recorded() if isinstance(e, InvoiceFinalized)]
    return invoice, event


def test_a_finalized_invoice_gets_an_unguessable_token_of_256_bits_handed_out_by_its_finalized_event_only():
    invoice, event = finalized()
    token = event.hosted_token
    assert len(base64.urlsafe_b64decode(token + "=")) * 8 == 256
    assert finalized()[1].hosted_token != token
    # Kept as its SHA-256 digest only; no snapshot and nothing stored carries the token.
    assert invoice.hosted_token_digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in invoice.model_dump_json() and token not in event.invoice.model_dump_json()
    assert "hosted_token" not in event.invoice.model_dump()
    assert token_matches(invoice.hosted_token_digest, token)
    assert not token_matches(invoice.hosted_token_digest, token[:-1] + ("A" if token[-1] != "A" else "B"))


def test_rotating_revokes_the_old_token_and_issues_a_new_one_even_after_voiding():
    invoice, finalized_event = finalized()
    invoice.void(reason="wrong customer", **who())
    invoice.take_recorded()
    invoice.rotate_hosted_link(reason="forwarded by mistake", **who())
    [event] = invoice.take_recorded()
    assert isinstance(event, HostedLinkRotated) and event.hosted_token != finalized_event.hosted_token
    assert token_matches(invoice.hosted_token_digest, event.hosted_token)
    assert not token_matches(invoice.hosted_token_digest, finalized_event.hosted_token)
    assert event.hosted_token not in event.invoice.model_dump_json()
    assert invoice.history[-1].action == "hosted_link_rotated"


def test_an_invoice_stored_with_its_token_in_clear_keeps_its_page_by_the_digest():
    invoice, event = finalized()
    stored = invoice.model_dump(mode="json")
    del stored["hosted_token_digest"]
    stored["hosted_token"] = event.hosted_token
    loaded = Invoice.model_validate(stored)
    assert token_matches(loaded.hosted_token_digest, event.hosted_token)
    assert "hosted_token" not in loaded.model_dump()


def test_a_draft_has_no_page():
    invoice = draft()
    assert invoice.hosted_token_digest is None
    assert not token_matches(invoice.hosted_token_digest, "x" * 43)
    with pytest.raises(RuleViolation):
        invoice.rotate_hosted_link(reason="", **who())
