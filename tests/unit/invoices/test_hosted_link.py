"""The hosted invoice page's secret address: made again from the invoice's nonce and the
deployment's secret, issued at finalization, revoked by rotation, never stored, handed out by the
events that give it to the account's owner and by the link the invoice's mails carry."""

import base64
import dataclasses
from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from chassis.storage.memory import MemoryStore
from contracts.messages.invoices import HostedLinkRotated, InvoiceFinalized, SendInvoice
from contracts.messages.mail import HostedUrl
from services.invoices.app import assemble
from services.invoices.domain.errors import RuleViolation
from services.invoices.domain.hosted_link import HostedLinks, public_base
from services.invoices.domain.invoice import Invoice
from services.invoices.settings import InvoicesSettings
from tests.unit.invoices.test_lifecycle import ACCOUNT, LINKS, draft, who


def finalized(links: HostedLinks = LINKS) -> tuple[Invoice, InvoiceFinalized]:
    invoice = draft()
    invoice.request_finalization(ACCOUNT, "acct/INV-{yyyy}-{seq:05}", **who())
    invoice.take_recorded()
    invoice.finalize("INV-2026-00001", links=links, **who())
    [event] = [e for e in invoice.take_recorded() if isinstance(e, InvoiceFinalized)]
    return invoice, event


def test_a_finalized_invoice_gets_a_token_of_256_bits_that_only_the_deployments_secret_makes():
    invoice, event = finalized()
    token = event.hosted_token
    assert len(token) == 43 and len(base64.urlsafe_b64decode(token + "=")) * 8 == 256
    assert finalized()[1].hosted_token != token  # a nonce per invoice
    assert invoice.opens_hosted_page(LINKS, token)
    assert not invoice.opens_hosted_page(LINKS, token[:-1] + ("A" if token[-1] != "A" else "B"))
    # Nothing stored and no snapshot carries it: a copy of the store opens no page.
    assert token not in invoice.model_dump_json() and token not in event.invoice.model_dump_json()
    copy = Invoice.model_validate_json(invoice.model_dump_json())
    assert copy.opens_hosted_page(LINKS, token)
    assert not copy.opens_hosted_page(dataclasses.replace(LINKS, secret="another-deployments-secret-0123456789"), token)
    # The token names its account too: the same id and nonce in another account is another page.
    elsewhere = copy.model_copy(update={"account_id": "acct_other"})
    assert not elsewhere.opens_hosted_page(LINKS, token)


def test_the_hosted_url_is_the_public_base_with_the_invoices_path_and_none_without_a_base_or_a_page():
    invoice, event = finalized()
    assert invoice.hosted_url(LINKS) == f"https://billing.example.com/i/{invoice.id}/{event.hosted_token}"
    assert invoice.hosted_url(dataclasses.replace(LINKS, public_url=None)) is None
    assert draft().hosted_url(LINKS) is None


def test_rotating_revokes_the_old_token_and_issues_a_new_one_even_after_voiding():
    invoice, finalized_event = finalized()
    invoice.void(reason="wrong customer", **who())
    invoice.take_recorded()
    invoice.rotate_hosted_link(reason="forwarded by mistake", links=LINKS, **who())
    [event] = invoice.take_recorded()
    assert isinstance(event, HostedLinkRotated) and event.hosted_token != finalized_event.hosted_token
    assert invoice.opens_hosted_page(LINKS, event.hosted_token)
    assert not invoice.opens_hosted_page(LINKS, finalized_event.hosted_token)
    assert invoice.hosted_url(LINKS).endswith(event.hosted_token)
    assert event.hosted_token not in event.invoice.model_dump_json()
    assert invoice.history[-1].action == "hosted_link_rotated"


def test_the_invoice_mail_links_the_current_page_and_goes_without_a_link_where_there_is_no_public_url():
    invoice, event = finalized()
    invoice.request_send(SendInvoice(invoice_id=invoice.id), links=LINKS, **who())
    [mail] = invoice.take_recorded()
    assert mail.hosted_url == invoice.hosted_url(LINKS) and mail.hosted_url.endswith(event.hosted_token)
    invoice.request_send(SendInvoice(invoice_id=invoice.id), links=dataclasses.replace(LINKS, public_url=None),
                         **who())
    [mail] = invoice.take_recorded()
    assert mail.hosted_url is None


def test_an_invoice_stored_with_a_digest_only_has_no_page_until_its_link_is_rotated():
    invoice, event = finalized()
    stored = invoice.model_dump(mode="json")
    del stored["hosted_link_nonce"]
    stored["hosted_token_digest"] = "0" * 64
    loaded = Invoice.model_validate(stored)
    assert not loaded.opens_hosted_page(LINKS, event.hosted_token) and loaded.hosted_url(LINKS) is None
    loaded.rotate_hosted_link(reason="a link for its mails", links=LINKS, **who())
    [rotated] = loaded.take_recorded()
    assert loaded.opens_hosted_page(LINKS, rotated.hosted_token)


def test_a_draft_has_no_page():
    invoice = draft()
    assert invoice.hosted_link_nonce is None
    assert not invoice.opens_hosted_page(LINKS, "x" * 43)
    with pytest.raises(RuleViolation):
        invoice.rotate_hosted_link(reason="", links=LINKS, **who())


def test_no_token_is_made_with_a_missing_or_short_secret():
    for secret in ("", "short"):
        with pytest.raises(RuntimeError, match="HOSTED_LINK_SECRET"):
            HostedLinks(secret=secret).token("acct", "inv_1", "nonce")


@pytest.mark.parametrize("url, base", [
    ("https://billing.example.com", "https://billing.example.com"),
    ("https://billing.example.com/", "https://billing.example.com"),
    ("http://127.0.0.1:18001", "http://127.0.0.1:18001"),
    ("https://example.com/billing/", "https://example.com/billing"),
])
def test_a_public_base_url_is_taken_with_or_without_its_trailing_slash(url, base):
    assert public_base(url) == base


@pytest.mark.parametrize("url", ["ftp://billing.example.com", "billing.example.com", "https://",
                                 "https://billing.example.com/?a=1", "https://billing.example.com/#top",
                                 "https://billing.example.com/?", "https://billing example.com",
                                 "https://billing.example.com/" + "x" * 300])
def test_a_public_base_url_that_links_could_not_start_with_is_refused(url):
    with pytest.raises(ValueError):
        public_base(url)


def test_the_deployment_setting_is_checked_when_the_service_starts():
    assert InvoicesSettings(invoices_public_url="https://billing.example.com/").public_url == \
        "https://billing.example.com"
    assert InvoicesSettings(invoices_public_url="").public_url is None
    with pytest.raises(ValidationError, match="query or a fragment"):
        InvoicesSettings(invoices_public_url="https://billing.example.com/?x=1")


def test_the_longest_link_fits_the_contracts_hosted_url():
    links = HostedLinks(secret=LINKS.secret, public_url=public_base("https://" + "b" * 280 + ".example"))
    url = links.url("a" * 100, "i" * 100, "nonce")
    assert TypeAdapter(HostedUrl).validate_python(url) == url


@pytest.mark.parametrize("secret, file_text, starts", [
    ("", None, False), ("short", None, False), ("", "from-a-file-" + "f" * 32 + "\n", True),
    ("from-the-variable-" + "v" * 32, None, True)])
async def test_the_invoices_service_starts_only_with_a_hosted_link_secret(tmp_path, secret, file_text, starts):
    file = ""
    if file_text is not None:
        file = str(tmp_path / "hosted-link.secret")
        Path(file).write_text(file_text)
    settings = InvoicesSettings(hosted_link_secret=secret, hosted_link_secret_file=file,
                                kafka_security_protocol="PLAINTEXT")
    service, *_, links = assemble(settings, MemoryStore())
    [check] = [hook for hook in service.startup_hooks if hook.__name__ == "require_the_hosted_link_secret"]
    if starts:
        await check()
        assert links.secret == (secret or file_text.strip())
    else:
        with pytest.raises(RuntimeError, match="HOSTED_LINK_SECRET or HOSTED_LINK_SECRET_FILE is not set"):
            await check()
