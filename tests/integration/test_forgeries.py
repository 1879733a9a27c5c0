"""The forgeries the trust model answers, replayed from outside against the running platform.

Each record a hostile producer wrote before (a payment that marks an invoice paid, an API key for
another account, a mail through the mailer with another issuer, another tenant's deletion and
snapshot of an invoice) is sent with no credentials, with another service's credentials and with
an integrator's credential: the broker refuses every one. What an integrator may write, its own
topics, has no effect for an account it was not granted. Then the victim's invoice, number, key
and mailbox are as they were.
"""

import hashlib
import uuid
from datetime import UTC, date, datetime

import httpx
import pytest
from aiokafka.errors import KafkaConnectionError, TopicAuthorizationFailedError

from chassis.settings import KafkaSettings
from contracts.envelope import Envelope
from contracts.messages import MessageData
from contracts.messages.access import ApiKeyCreated
from contracts.messages.invoices import FinalizeInvoice, InvoiceDeleted, InvoiceFinalized, MarkInvoicePaid, VoidInvoice
from contracts.messages.mail import SendInvoiceMail
from contracts.messages.payments import PaymentMatched, RecordPayment
from tests.integration.factories import configure_account, create_invoice
from tests.integration.harness import env, kafka_options
from tests.integration.test_broker_security import produce
from tests.integration.test_integrators import Integrator, answer_to
from tests.integration.test_read_api import accepted_everywhere, new_key, read

# Who tries: a client that does not log in, two services writing what is not theirs, and an integrator.
ATTACKERS = ("nobody", "mailer", "numbering", "integrator.other")
PHISHING_ADDRESS = "victim-customer@forgery.example"


def options_of(attacker: str) -> dict:
    if attacker == "nobody":
        return KafkaSettings(kafka_bootstrap_servers=env("KAFKA_BOOTSTRAP_SERVERS"),
                             kafka_security_protocol="PLAINTEXT").aiokafka_options()
    return kafka_options(attacker)


def forgeries(account: str, invoice_id: str, snapshot) -> list[MessageData]:
    """What was forged before, each aimed at the victim's invoice, key or customers."""
    now = datetime.now(UTC)
    return [
        PaymentMatched(invoice_id=invoice_id, payment_id="pay_forged", amount=snapshot.total, currency="EUR",
                       paid_on=date.today(), method="card", match="manual", online=True),
        ApiKeyCreated(key_id="key_forged", account_id=account, digest=hashlib.sha256(b"forged").hexdigest(),
                      created_at=now),
        SendInvoiceMail(mail_id="mail_forged", invoice_id=invoice_id, to=[PHISHING_ADDRESS], cc=[],
                        invoice=snapshot.model_copy(update={"memo": "Our IBAN changed: pay to DE02120300000000202051"})),
        InvoiceDeleted(invoice_id=invoice_id, status="open", number=snapshot.number, reason="forged",
                       deleted_at=now),
        InvoiceFinalized(invoice_id=invoice_id, invoice=snapshot.model_copy(update={"version": 10**9}),
                         hosted_token="t" * 43),
    ]


async def forge(attacker: str, data: MessageData, account: str) -> type[Exception]:
    envelope = Envelope.originate(source="payments", type=data.type_name, subject=data.aggregate_id(),
                                  accountid=account, actor="service:payments")
    with pytest.raises((KafkaConnectionError, TopicAuthorizationFailedError)) as refused:
        await produce(data.topic, options_of(attacker), data.model_dump_json().encode(),
                      key=envelope.subject.encode(), headers=[(k, v.encode()) for k, v in envelope.to_headers().items()])
    return refused.type


async def smtp_recipients(smtp_catcher_url: str) -> set[str]:
    async with httpx.AsyncClient(timeout=5) as client:
        messages = (await client.get(f"{smtp_catcher_url}/messages")).json()
    return {address for message in messages for address in message["rcpt_tos"]}


async def test_every_forgery_is_refused_by_the_broker_or_has_no_effect_and_the_victim_is_unchanged(
    services, producer, event_log, smtp_catcher_url
):
    victim = f"acct_victim_{uuid.uuid4().hex[:8]}"
    invoice_id = f"inv_{uuid.uuid4().hex[:12]}"
    await producer.send(configure_account(victim), account_id=victim)
    await event_log.wait_for_type("account.configured", victim)
    await producer.send(create_invoice(invoice_id), account_id=victim)
    await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=victim)
    finalized = (await event_log.wait_for_type("invoice.finalized", invoice_id)).model()
    key = (await new_key(victim))["key"]
    await accepted_everywhere(key)

    refusals = {}
    for attacker in ATTACKERS:
        for data in forgeries(victim, invoice_id, finalized.invoice):
            refusals[attacker, data.type_name] = await forge(attacker, data, victim)
    assert {refused for (attacker, _), refused in refusals.items() if attacker == "nobody"} == {KafkaConnectionError}
    assert {refused for (attacker, _), refused in refusals.items() if attacker != "nobody"} == \
        {TopicAuthorizationFailedError}

    # What an integrator may write, its own topics, acts for no account it was not granted.
    integrator = Integrator(f"fg-{uuid.uuid4().hex[:8]}")
    await integrator.create_topics()
    try:
        for command in (MarkInvoicePaid(invoice_id=invoice_id), VoidInvoice(invoice_id=invoice_id),
                        RecordPayment(invoice_id=invoice_id, payment_id="pay_forged", amount=finalized.invoice.total,
                                      currency="EUR", paid_on=date.today())):
            sent = await integrator.send(command, account_id=victim)
            assert (await answer_to(event_log, sent)).data["reason"] == "account_not_allowed"
    finally:
        await integrator.producer.stop()

    shown = (await read("invoices", f"/v1/invoices/{invoice_id}", key)).json()
    invoice = shown["invoice"]
    assert (invoice["status"], invoice["amount_paid"], invoice["number"], shown["payments"]) == \
        ("open", 0, finalized.invoice.number, [])
    assert (await read("payments", f"/v1/invoices/{invoice_id}/payments", key)).status_code == 200
    [series] = (await read("numbering", "/v1/numbering/continuity", key)).json()
    assert [(sequence["held"], sequence["gaps"], sequence["breaks"]) for sequence in series["sequences"]] == [(1, [], 0)]
    await accepted_everywhere(f"key_forged.{'x' * 20}", accepted=False)
    assert PHISHING_ADDRESS not in await smtp_recipients(smtp_catcher_url)
    assert not [r for r in event_log.records if r.headers.get("ce_subject") == invoice_id
                and r.type in ("invoice.paid", "invoice.voided", "invoice.deleted", "invoice.payment_applied")]
