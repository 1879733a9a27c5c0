"""mail.unsuppress on the in-memory harness, with the mailer's delivery loop on a stand-in relay:
the account lifts its own suppression of an address (never another account's), the history of
the entry keeps every step, an address not suppressed is refused, and the next mail to a lifted
address is tried again (tests/integration/test_auto_send.py: the same on the real stack)."""

from contracts.messages.common import Customer
from contracts.messages.invoices import FinalizeInvoice, SendInvoice
from contracts.messages.mail import UnsuppressAddress
from services.mailer.adapters.suppressions import SuppressionList
from services.mailer.domain.suppression import Suppression
from tests.integration.factories import CUSTOMER_ADDRESS, configure_account, create_invoice
from tests.unit.harness import ACCOUNT, Platform, of_type, only
from tests.unit.mailer.delivery_loop import USER_UNKNOWN, Relay, deliver_until_idle, delivery_loop

CUSTOMER = "ap@globex.example"
OTHER = "acct_other"


async def bounced_once(platform: Platform, relay: Relay, account: str = ACCOUNT) -> None:
    await platform.send(configure_account(account), account)
    await platform.send(create_invoice("inv_1", customer=Customer(name="Globex", email=[CUSTOMER],
                                                                  address=CUSTOMER_ADDRESS)), account)
    await platform.send(FinalizeInvoice(invoice_id="inv_1"), account)
    await platform.send(SendInvoice(invoice_id="inv_1"), account)
    await deliver_until_idle(delivery_loop(platform, relay), platform)


async def entry(platform: Platform, account: str = ACCOUNT) -> Suppression:
    return await SuppressionList(platform.mailer.store).get(Suppression.entry_id(account, CUSTOMER))


async def test_a_lifted_suppression_keeps_its_history_and_the_next_mail_is_tried_again():
    platform = Platform("invoices", "numbering", "mailer")
    relay = Relay(refuse={CUSTOMER: USER_UNKNOWN})
    await bounced_once(platform, relay)
    dropped = await platform.send(SendInvoice(invoice_id="inv_1"))
    assert [event.reason for event in of_type(dropped, "mail.dropped")] == ["suppressed"]

    lifted = only(await platform.send(UnsuppressAddress(address=CUSTOMER, reason="mailbox fixed"),
                                      actor="user:ops"), "mail.unsuppressed")
    assert (lifted.address, lifted.reason, lifted.unsuppressed_by, lifted.smtp_code, lifted.diagnostic,
            lifted.times_suppressed) == (CUSTOMER, "mailbox fixed", "user:ops", 550, USER_UNKNOWN.text, 1)
    assert lifted.mail_id  # the mail whose bounce suppressed it

    relay.refuse = {}
    queued = await platform.send(SendInvoice(invoice_id="inv_1"))
    assert of_type(queued, "mail.queued") and not of_type(queued, "mail.dropped")
    await deliver_until_idle(delivery_loop(platform, relay), platform)
    assert len(relay.to(CUSTOMER)) == 2  # the bounce, then the mail after the lift

    # Bounced again later: suppressed again, the history says all of it.
    relay.refuse = {CUSTOMER: USER_UNKNOWN}
    await platform.send(SendInvoice(invoice_id="inv_1"))
    await deliver_until_idle(delivery_loop(platform, relay), platform)
    suppression = await entry(platform)
    assert suppression.suppressed
    assert [(step.action, step.by, step.reason) for step in suppression.history] == [
        ("suppressed", None, ""), ("lifted", "user:ops", "mailbox fixed"), ("suppressed", None, "")]
    assert suppression.history[0].diagnostic == USER_UNKNOWN.text


async def test_an_address_not_suppressed_is_refused_keyed_by_the_address():
    platform = Platform("invoices", "numbering", "mailer")
    await platform.send(configure_account(ACCOUNT))
    rejected = only(await platform.send(UnsuppressAddress(address=CUSTOMER)), "mail.rejected")
    assert (rejected.reason, rejected.address, rejected.invoice_id) == ("not_suppressed", CUSTOMER, CUSTOMER)
    assert rejected.command_type == "mail.unsuppress"


async def test_a_suppression_lifted_once_is_refused_the_second_time():
    platform = Platform("invoices", "numbering", "mailer")
    await bounced_once(platform, Relay(refuse={CUSTOMER: USER_UNKNOWN}))
    assert only(await platform.send(UnsuppressAddress(address=CUSTOMER)), "mail.unsuppressed")
    assert only(await platform.send(UnsuppressAddress(address=CUSTOMER)), "mail.rejected").reason == "not_suppressed"


async def test_an_account_cannot_lift_another_accounts_suppression():
    platform = Platform("invoices", "numbering", "mailer")
    await bounced_once(platform, Relay(refuse={CUSTOMER: USER_UNKNOWN}))
    await platform.send(configure_account(OTHER), OTHER)
    rejected = only(await platform.send(UnsuppressAddress(address=CUSTOMER), OTHER), "mail.rejected")
    assert rejected.reason == "not_suppressed"
    assert (await entry(platform)).suppressed and await entry(platform, OTHER) is None


async def test_a_redelivered_unsuppress_answers_the_same_and_lifts_once():
    platform = Platform("invoices", "numbering", "mailer")
    await bounced_once(platform, Relay(refuse={CUSTOMER: USER_UNKNOWN}))
    caused = await platform.send(UnsuppressAddress(address=CUSTOMER))
    [command] = [m for m in platform.published if m.data.type_name == "mail.unsuppress"]
    again = await platform.redeliver(command, to="mailer")
    assert {m.envelope.id for m in of_type_messages(caused)} >= {m.envelope.id for m in of_type_messages(again)}
    assert [step.action for step in (await entry(platform)).history] == ["suppressed", "lifted"]


def of_type_messages(messages):
    return [m for m in messages if m.data.type_name in ("mail.unsuppressed", "mail.rejected")]
