"""mailer against real Kafka, its store and the SMTP catcher: commands in, events and mails out.

The catcher refuses RCPT for local parts starting with `bounce` (550) and `tempfail` (451), and
answers DATA for `slowack` a few seconds after it stored the mail.
Delivery must be quick for these tests; the variables below reach the service processes
because the harness passes os.environ on, and a stack that sets them already wins.
"""

import asyncio
import email
import email.policy
import io
import os
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import facturx
import httpx
import pypdf
import pytest
from psycopg import AsyncConnection, OperationalError, sql
from pymongo import AsyncMongoClient

from chassis.storage import open_store
from contracts.envelope import Envelope
from contracts.messages.common import InvoiceSnapshot
from contracts.messages.credit_notes import CreditNoteSnapshot
from contracts.messages.invoices import FinalizeInvoice, SendInvoice
from contracts.messages.mail import PreviewMail, SendCreditNoteMail, SendInvoiceMail, SendReminderMail
from contracts.messages.payments import RecordPayment
from services.mailer.adapters.mail_jobs import MailJobs
from services.mailer.domain.mail_job import QUEUED, Incarnation, MailJob
from services.payments.adapters.invoices import InvoiceReadModel
from tests.integration.factories import CUSTOMER_ADDRESS, configure_account, create_invoice
from tests.integration.harness import Received, database_url, internal_url

os.environ.setdefault("MAILER_BATCH_INTERVAL_SECONDS", "0.2")
os.environ.setdefault("MAILER_MAX_ATTEMPTS", "3")
os.environ.setdefault("MAILER_RETRY_BASE_SECONDS", "0.2")

IBAN = "DE89370400440532013000"
FORGED_IBAN = "GB33BUKB20201555555555"


async def configured_account(producer, event_log) -> str:
    """A fresh tenant, configured as the mailer sends for it: Acme Tooling GmbH,
    billing@acme.example, Reply-To accounts@acme.example, paid to IBAN."""
    account = f"acct_{uuid.uuid4().hex[:12]}"
    await producer.send(configure_account(account, payee_iban=IBAN), account_id=account)
    await event_log.wait_for_type("account.configured", account)
    return account


@pytest.fixture
async def account_id(services, producer, event_log) -> str:
    return await configured_account(producer, event_log)


def open_invoice(account_id: str, **fields) -> InvoiceSnapshot:
    suffix = uuid.uuid4().hex[:8]
    values = {
        "id": f"inv_{suffix}",
        "account_id": account_id,
        "status": "open",
        "number": f"INV-2025-{suffix}",
        "currency": "EUR",
        "customer": {"name": "Globex Corporation", "email": [f"ap-{suffix}@globex.example"], "language": "de"},
        "issuer": {"company_name": "Acme Tooling GmbH", "email": "billing@acme.example",
                   "reply_to": "accounts@acme.example"},
        "lines": [{"description": "Consulting, October", "quantity": "10", "unit_amount": 12000, "tax_rate": "19",
                   "amount": 120000, "tax_amount": 22800}],
        "subtotal": 120000,
        "tax": 22800,
        "total": 142800,
        "amount_paid": 0,
        "amount_due": 142800,
        "amount_remaining": 142800,
        "due_date": date(2025, 11, 30),
        "payee_iban": IBAN,
        "payment_reference": "RF18539007547034",
        "created_at": datetime.now(UTC),
        "finalized_at": datetime.now(UTC),
        "version": 2,
    }
    return InvoiceSnapshot.model_validate({**values, **fields})


def send_invoice(invoice: InvoiceSnapshot, to: list[str], cc: list[str] = (), **fields) -> SendInvoiceMail:
    return SendInvoiceMail(
        mail_id=fields.pop("mail_id", f"mail_{uuid.uuid4().hex[:12]}"),
        invoice_id=invoice.id,
        invoice=invoice,
        to=to,
        cc=list(cc),
        **fields,
    )


def address(local: str) -> str:
    return f"{local}-{uuid.uuid4().hex[:8]}@example.com"


def of_mail(type_name: str, mail_id: str):
    return lambda record: record.type == type_name and record.data.get("mail_id") == mail_id


async def caught_mails(smtp_catcher_url: str, recipient: str) -> list[email.message.EmailMessage]:
    async with httpx.AsyncClient(base_url=smtp_catcher_url) as client:
        listing = (await client.get("/messages")).json()
        ids = [entry["id"] for entry in listing if recipient in entry["rcpt_tos"]]
        raws = [(await client.get(f"/messages/{message_id}")).content for message_id in ids]
    return [email.message_from_bytes(raw, policy=email.policy.default) for raw in raws]


async def caught_at_least(smtp_catcher_url: str, recipient: str, count: int) -> None:
    for _ in range(300):
        if len(await caught_mails(smtp_catcher_url, recipient)) >= count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the catcher never held {count} mail(s) for {recipient}")


async def stored_job(mail_id: str, account_id: str) -> MailJob:
    store = open_store(database_url("mailer"), "mailer")
    await store.open()
    try:
        return await MailJobs(store).get(account_id, mail_id)
    finally:
        await store.close()


async def test_an_invoice_mail_is_queued_then_sent_with_its_headers_and_pdf(
    services, event_log, producer, account_id, smtp_catcher_url
):
    invoice = open_invoice(account_id)
    to, cc = address("ap"), address("cfo")
    command = send_invoice(invoice, [to], [cc], language="de")
    sent_command = await producer.send(command, account_id=account_id)

    queued = await event_log.wait_for(of_mail("mail.queued", command.mail_id))
    sent = await event_log.wait_for(of_mail("mail.sent", command.mail_id))

    assert queued.data["to"] == [to] and queued.data["cc"] == [cc]
    assert sent.data["to"] == [to] and sent.data["cc"] == [cc] and sent.data["attempts"] == 1
    for event in (queued, sent):
        assert event.key == invoice.id
        assert event.envelope.causationid == str(sent_command.id)
        assert event.envelope.correlationid == sent_command.correlationid
        assert event.envelope.accountid == account_id

    [mail] = await caught_mails(smtp_catcher_url, to)
    assert mail["Message-ID"] == sent.data["smtp_message_id"]
    assert mail["From"].addresses[0].display_name == "Acme Tooling GmbH"
    assert mail["From"].addresses[0].addr_spec == "billing@acme.example"
    assert mail["Reply-To"].addresses[0].addr_spec == "accounts@acme.example"
    assert [a.addr_spec for a in mail["To"].addresses] == [to]
    assert [a.addr_spec for a in mail["Cc"].addresses] == [cc]
    assert mail["Subject"] == f"Rechnung {invoice.number} von Acme Tooling GmbH"
    body = mail.get_body(("plain",)).get_content()
    assert "1.428,00\xa0€" in body and "DE89 3704 0044 0532 0130 00" in body and "RF18 5390 0754 7034" in body
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"{invoice.number}.pdf"
    document = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(attachment.get_content())).pages)
    assert invoice.number in document and "1.428,00 €" in document
    # The attachment is the Factur-X document: its invoice as CII XML inside.
    name, xml = facturx.get_facturx_xml_from_pdf(attachment.get_content(), check_xsd=False)
    assert name == "factur-x.xml" and f"<ram:ID>{invoice.number}</ram:ID>".encode() in xml


async def test_the_same_mail_id_twice_is_one_mail(services, event_log, producer, account_id, smtp_catcher_url):
    invoice = open_invoice(account_id)
    to = address("ap")
    command = send_invoice(invoice, [to], attach_pdf=False)
    first = await producer.send(command, account_id=account_id)
    await event_log.wait_for(of_mail("mail.sent", command.mail_id))
    second = await producer.send(command, account_id=account_id)

    answer = await event_log.wait_for(
        lambda r: of_mail("mail.queued", command.mail_id)(r) and r.envelope.causationid == str(second.id)
    )
    await asyncio.sleep(2)  # several batch intervals: time for a second mail, if there were one

    assert answer.data["to"] == [to]
    assert [r.envelope.causationid for r in event_log.of_type("mail.sent", invoice.id)] == [str(first.id)]
    assert len(await caught_mails(smtp_catcher_url, to)) == 1


async def test_a_permanent_bounce_suppresses_the_address_for_later_mails(
    services, event_log, producer, account_id, smtp_catcher_url
):
    invoice = open_invoice(account_id)
    dead, alive = address("bounce"), address("ap")
    command = send_invoice(invoice, [dead])
    await producer.send(command, account_id=account_id)

    bounced = await event_log.wait_for(of_mail("mail.bounced", command.mail_id))
    assert bounced.data["permanent"] is True
    assert bounced.data["recipients"] == [dead]
    assert bounced.data["smtp_code"] == 550
    assert bounced.data["attempts"] == 1

    again = send_invoice(invoice, [dead])
    await producer.send(again, account_id=account_id)
    dropped = await event_log.wait_for(of_mail("mail.dropped", again.mail_id))
    assert dropped.data["reason"] == "suppressed" and dropped.data["recipients"] == [dead]

    mixed = send_invoice(invoice, [dead.upper(), alive])
    await producer.send(mixed, account_id=account_id)
    dropped = await event_log.wait_for(of_mail("mail.dropped", mixed.mail_id))
    queued = await event_log.wait_for(of_mail("mail.queued", mixed.mail_id))
    sent = await event_log.wait_for(of_mail("mail.sent", mixed.mail_id))
    assert dropped.data["recipients"] == mixed.to[:1]  # the address as that command spelt it
    assert queued.data["to"] == sent.data["to"] == [alive]
    assert [entry["rcpt_tos"] for entry in httpx.get(f"{smtp_catcher_url}/messages").json()
            if alive in entry["rcpt_tos"]] == [[alive]]

    other_account = await configured_account(producer, event_log)
    elsewhere = send_invoice(open_invoice(other_account), [dead])
    await producer.send(elsewhere, account_id=other_account)
    # Suppression is per account: another account's mail to that address is attempted.
    assert (await event_log.wait_for(of_mail("mail.bounced", elsewhere.mail_id))).data["permanent"] is True
    assert not [r for r in event_log.records if of_mail("mail.dropped", elsewhere.mail_id)(r)]


async def test_a_temporary_failure_is_retried_then_bounced_as_temporary(services, event_log, producer, account_id):
    invoice = open_invoice(account_id)
    busy = address("tempfail")
    command = SendReminderMail(
        mail_id=f"mail_{uuid.uuid4().hex[:12]}", invoice_id=invoice.id, invoice=invoice, to=[busy],
        days_relative_to_due=7,
    )
    await producer.send(command, account_id=account_id)

    bounced = await event_log.wait_for(of_mail("mail.bounced", command.mail_id), timeout=60)
    deferrals = [r.data for r in event_log.records if of_mail("mail.deferred", command.mail_id)(r)]
    assert [d["attempt"] for d in deferrals] == list(range(1, int(os.environ["MAILER_MAX_ATTEMPTS"])))
    assert all(d["smtp_code"] == 451 and d["recipients"] == [busy] for d in deferrals)
    assert bounced.data["permanent"] is False
    assert bounced.data["kind"] == "reminder"
    assert bounced.data["smtp_code"] == 451
    assert bounced.data["attempts"] == int(os.environ["MAILER_MAX_ATTEMPTS"])

    later = send_invoice(invoice, [busy])
    await producer.send(later, account_id=account_id)
    await event_log.wait_for(of_mail("mail.queued", later.mail_id))  # not suppressed: it may work next time


async def test_a_preview_renders_without_sending(services, event_log, producer, account_id):
    invoice = open_invoice(account_id)
    await producer.send(
        PreviewMail(invoice_id=invoice.id, invoice=invoice, kind="reminder", language="fr"), account_id=account_id
    )

    previewed = await event_log.wait_for_type("mail.previewed", invoice.id)
    assert previewed.data["subject"] == f"Rappel : facture {invoice.number} de Acme Tooling GmbH"
    assert invoice.number in previewed.data["body_text"] and "1\u202f428,00\xa0€" in previewed.data["body_text"]
    assert not event_log.of_type("mail.queued", invoice.id)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"account_id": "acct_somebody_else"}, "account_mismatch"),
        ({"status": "draft", "number": None}, "invoice_not_finalized"),
    ],
)
async def test_commands_that_cannot_be_honoured_are_rejected(services, event_log, producer, account_id, change, reason):
    invoice = open_invoice(account_id).model_copy(update=change)
    command = send_invoice(invoice, [address("ap")])
    sent = await producer.send(command, account_id=account_id)

    rejected: Received = await event_log.wait_for_type("mail.rejected", invoice.id)
    assert rejected.data["reason"] == reason
    assert rejected.data["command_id"] == str(sent.id)
    assert not event_log.of_type("mail.queued", invoice.id)


async def test_a_forged_issuer_memo_and_iban_in_the_snapshot_send_nothing_of_theirs(
    services, event_log, producer, account_id, smtp_catcher_url
):
    """The open relay of issue 14: a mail.send_invoice whose snapshot names another issuer, a
    phishing memo and another IBAN. For an account the mailer knows, the mail goes out from the
    account's own sender with its own IBAN; for one it does not know, nothing goes out at all."""
    forged = {
        "issuer": {"company_name": "Big Bank Security", "email": "security@bigbank.example",
                   "reply_to": "verify@bigbank.example", "address": {"line1": "1 Phish Street", "country": "GB"}},
        "payee_iban": FORGED_IBAN,
        "memo": "Your account is locked: pay the fee to the IBAN below within 24 hours.",
    }
    known = open_invoice(account_id, **forged)
    to = address("victim")
    command = send_invoice(known, [to], language="en")
    await producer.send(command, account_id=account_id)
    await event_log.wait_for(of_mail("mail.sent", command.mail_id))

    [mail] = await caught_mails(smtp_catcher_url, to)
    assert mail["From"].addresses[0].addr_spec == "billing@acme.example"
    assert mail["From"].addresses[0].display_name == "Acme Tooling GmbH"
    assert mail["Reply-To"].addresses[0].addr_spec == "accounts@acme.example"
    raw = mail.as_string()
    body = mail.get_body(("plain",)).get_content()
    [attachment] = list(mail.iter_attachments())
    pdf = attachment.get_content()
    document = " ".join(pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    _, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
    for shown in (raw, body, document, xml.decode()):
        assert "bigbank" not in shown.lower() and "Big Bank" not in shown and "Phish Street" not in shown
        assert FORGED_IBAN not in shown.replace(" ", "")
    assert IBAN in body.replace(" ", "") and IBAN in document.replace(" ", "") and IBAN in xml.decode()
    assert "Acme Tooling GmbH" in document

    stranger = f"acct_{uuid.uuid4().hex[:12]}"  # never configured
    unknown = open_invoice(stranger, **forged)
    victims = [address("victim"), address("victim")]
    command = send_invoice(unknown, victims)
    sent = await producer.send(command, account_id=stranger)
    rejected = await event_log.wait_for_type("mail.rejected", unknown.id)
    assert rejected.data["reason"] == "unknown_account" and rejected.data["command_id"] == str(sent.id)
    await asyncio.sleep(1)
    assert not event_log.of_type("mail.queued", unknown.id) and not event_log.of_type("mail.sent", unknown.id)
    for victim in victims:
        assert await caught_mails(smtp_catcher_url, victim) == []


async def test_a_mail_for_an_account_configured_a_moment_before_goes_out_with_its_details(
    services, event_log, producer, smtp_catcher_url
):
    """account.configured (accounts.events) and the mail command (mail.commands) reach the mailer
    on two topics under two keys, so they may be handled side by side in one batch: a mail for an
    account the mailer does not know yet waits a moment for its configuration before refusing it."""
    mails = []
    for _ in range(5):
        account = f"acct_{uuid.uuid4().hex[:12]}"
        await producer.send(configure_account(account, company_name="Just In Time AG", sender_email="jit@acme.example",
                                              reply_to=None, payee_iban=IBAN), account_id=account)
        await event_log.wait_for_type("account.configured", account)
        command = send_invoice(open_invoice(account), [address("ap")], attach_pdf=False)
        await producer.send(command, account_id=account)
        mails.append(command)
    for command in mails:
        await event_log.wait_for(of_mail("mail.sent", command.mail_id))
        [mail] = await caught_mails(smtp_catcher_url, command.to[0])
        assert mail["From"].addresses[0].addr_spec == "jit@acme.example"
        assert mail["From"].addresses[0].display_name == "Just In Time AG"


async def test_a_mail_refused_for_an_unknown_account_goes_out_once_the_account_is_configured(
    services, event_log, producer, smtp_catcher_url
):
    account = f"acct_{uuid.uuid4().hex[:12]}"
    invoice = open_invoice(account)
    to = address("ap")
    command = send_invoice(invoice, [to], attach_pdf=False)
    await producer.send(command, account_id=account)
    assert (await event_log.wait_for_type("mail.rejected", invoice.id)).data["reason"] == "unknown_account"

    await producer.send(configure_account(account), account_id=account)
    await event_log.wait_for_type("account.configured", account)
    await producer.send(command, account_id=account)  # the same mail, asked again by a new command
    await event_log.wait_for(of_mail("mail.sent", command.mail_id))
    assert len(await caught_mails(smtp_catcher_url, to)) == 1


async def test_metrics_count_outcomes_retries_and_queue_depth(services):
    text = httpx.get(internal_url("mailer", "/metrics")).text
    for sample in ('invoicing_mails_total{outcome="sent"}', 'invoicing_mails_total{outcome="bounced"}',
                   'invoicing_mails_total{outcome="dropped"}', "invoicing_mail_retries_total",
                   "invoicing_mail_queue_depth"):
        assert sample in text


async def test_thirty_mails_arrive_once_each(services, event_log, producer, account_id, smtp_catcher_url):
    invoice = open_invoice(account_id)
    commands = [send_invoice(invoice, [address("ap")], attach_pdf=False) for _ in range(30)]
    for command in commands:
        await producer.send(command, account_id=account_id)

    for command in commands:
        await event_log.wait_for(of_mail("mail.sent", command.mail_id))
    await asyncio.sleep(2)  # several batch intervals: time for a second copy, if there were one

    for command in commands:
        assert len([r for r in event_log.records if of_mail("mail.sent", command.mail_id)(r)]) == 1
        assert len(await caught_mails(smtp_catcher_url, command.to[0])) == 1


async def test_the_same_mail_asked_again_during_its_delivery_is_only_answered(
    services, event_log, producer, account_id, smtp_catcher_url
):
    invoice = open_invoice(account_id)
    to = address("slowack")
    command = send_invoice(invoice, [to], attach_pdf=False)
    first = await producer.send(command, account_id=account_id)
    await caught_at_least(smtp_catcher_url, to, 1)  # mid-attempt: the delivery loop owns the job
    owned = await stored_job(command.mail_id, account_id)

    second = await producer.send(command, account_id=account_id)
    answer = await event_log.wait_for(
        lambda r: of_mail("mail.queued", command.mail_id)(r) and r.envelope.causationid == str(second.id)
    )
    assert answer.data["to"] == [to]
    assert owned.status == QUEUED and await stored_job(command.mail_id, account_id) == owned

    await event_log.wait_for(of_mail("mail.sent", command.mail_id))
    await asyncio.sleep(2)  # several batch intervals: time for a second mail, if there were one
    assert [r.envelope.causationid for r in event_log.of_type("mail.sent", invoice.id)] == [str(first.id)]
    assert len(await caught_mails(smtp_catcher_url, to)) == 1


@pytest.fixture
async def private_jobs():
    """Mail jobs in a database of the test's own, which the running mailer's loop never reads."""
    # The superuser makes the test's database and drops it again.
    url, database = database_url("postgres"), f"mail_jobs_test_{uuid.uuid4().hex[:8]}"
    store = open_store(url, database)
    jobs = MailJobs(store)
    await store.open()
    await store.prepare()
    yield jobs
    await store.close()
    if url.startswith("mongodb"):
        client = AsyncMongoClient(url)
        await client.drop_database(database)
        await client.close()
    else:
        async with await AsyncConnection.connect(url, autocommit=True) as connection:
            await connection.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(database)))


def queued_job(mail_id: str, now: datetime) -> MailJob:
    invoice = open_invoice("acct_1")
    cause = Envelope.originate(source="tests", type="mail.send_invoice", subject=invoice.id, accountid="acct_1",
                               actor="user:test")
    return MailJob.queue(mail_id=mail_id, account_id="acct_1", invoice_id=invoice.id, kind="invoice", language="en",
                         attach_pdf=False, document=invoice, to=["ap@example.com"], cc=[], suppressed=set(),
                         cause=cause.to_headers(), now=now)


async def test_a_job_whose_outbox_holds_events_is_not_claimable(private_jobs):
    """The queueing handler writes a job until it cleared the outbox; the delivery loop only after."""
    jobs = private_jobs
    now = datetime.now(UTC)
    job = queued_job("mail_1", now)
    job.outbox = [{"headers": {}, "body": {}}]  # what the unit of work commits with a new job
    await jobs.insert(job)
    assert await jobs.due(now, 10) == []
    assert not await jobs.claim(await jobs.get("acct_1", "mail_1"), now, Incarnation(instance="mailer-test"),
                                timedelta(seconds=45))

    await jobs.clear_outboxes(["acct_1/mail_1"])
    [due] = await jobs.due(now, 10)
    assert await jobs.claim(due, now, Incarnation(instance="mailer-test"), timedelta(seconds=45))
    claimed = await jobs.get("acct_1", "mail_1")
    assert claimed.attempts == 1 and claimed.outbox == []


async def test_a_job_claimed_by_another_instance_since_it_was_read_is_not_claimed_again(private_jobs):
    jobs = private_jobs
    now = datetime.now(UTC)
    await jobs.insert(queued_job("mail_1", now))
    [seen_by_a] = await jobs.due(now, 10)
    [seen_by_b] = await jobs.due(now, 10)

    assert await jobs.claim(seen_by_b, now, Incarnation(instance="mailer-b"), timedelta(seconds=45))
    assert not await jobs.claim(seen_by_a, now, Incarnation(instance="mailer-a"), timedelta(seconds=45))
    assert (await jobs.get("acct_1", "mail_1")).claimed_by.instance == "mailer-b"


async def test_a_restarted_mailer_releases_only_the_claims_of_its_own_earlier_runs(private_jobs):
    jobs = private_jobs
    now = datetime.now(UTC)
    current = Incarnation(instance="mailer-a")
    claims = {"mail_earlier": Incarnation(instance="mailer-a"), "mail_current": current,
              "mail_peer": Incarnation(instance="mailer-b")}
    for mail_id, claimant in claims.items():
        await jobs.insert(queued_job(mail_id, now))
        assert await jobs.claim(await jobs.get("acct_1", mail_id), now, claimant, timedelta(seconds=45))
    assert await jobs.due(now, 10) == []

    assert await jobs.release_claims_of_earlier_runs(current, now) == 1
    assert [job.id for job in await jobs.due(now, 10)] == ["mail_earlier"]


async def test_a_mailer_killed_after_the_relay_took_a_mail_sends_it_again_within_seconds(
    services, event_log, producer, account_id, smtp_catcher_url
):
    invoice = open_invoice(account_id)
    to = address("slowack")
    command = send_invoice(invoice, [to], attach_pdf=False)
    await producer.send(command, account_id=account_id)
    await caught_at_least(smtp_catcher_url, to, 1)  # the relay has the mail; the mailer awaits its 250

    services.kill("mailer")
    killed_at = time.perf_counter()
    services.start("mailer")
    services.wait_ready("mailer")

    sent = await event_log.wait_for(of_mail("mail.sent", command.mail_id), timeout=15)
    assert sent.arrived_at - killed_at < 15
    assert sent.data["attempts"] == 2  # the first attempt reached the relay, so it counts
    first, again = await caught_mails(smtp_catcher_url, to)
    assert first["Message-ID"] == again["Message-ID"] == sent.data["smtp_message_id"]


async def test_a_partly_paid_invoice_sent_again_asks_for_what_is_still_owed(
    services, event_log, producer, account_id, smtp_catcher_url, payments_invoices
):
    invoice_id = f"inv_{uuid.uuid4().hex[:16]}"
    customer = address("ap")
    await producer.send(configure_account(account_id), account_id=account_id)
    await event_log.wait_for_type("account.configured", account_id)
    draft = create_invoice(invoice_id)
    await producer.send(draft.model_copy(update={"customer": draft.customer.model_copy(update={"email": [customer]})}),
                        account_id=account_id)
    await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
    await event_log.wait_for_type("invoice.finalized", invoice_id)
    await payments_know(payments_invoices, account_id, invoice_id)

    payment = RecordPayment(invoice_id=invoice_id, payment_id="p-1", amount=50000, currency="EUR", paid_on=date.today())
    await producer.send(payment, account_id=account_id)
    applied = await event_log.wait_for_type("invoice.payment_applied", invoice_id)
    assert (applied.data["invoice"]["total"], applied.data["invoice"]["amount_remaining"]) == (147350, 97350)
    await producer.send(SendInvoice(invoice_id=invoice_id), account_id=account_id)
    await event_log.wait_for_type("invoice.sent", invoice_id, timeout=60)

    [mail] = await caught_mails(smtp_catcher_url, customer)
    body = mail.get_body(("plain",)).get_content()
    assert "Total: €1,473.50" in body and "Amount paid: €500.00" in body
    assert "Amount outstanding: €973.50" in body
    [attachment] = list(mail.iter_attachments())
    # Words one space apart: a label and its right-aligned figure come out of the PDF as two lines.
    document = " ".join(pypdf.PdfReader(io.BytesIO(attachment.get_content())).pages[0].extract_text().split())
    assert "Total €1,473.50" in document and "Amount paid -€500.00" in document
    assert "Amount outstanding €973.50" in document


async def payments_know(payments_invoices: InvoiceReadModel, account_id: str, invoice_id: str) -> None:
    """Wait until payments holds the finalized invoice: before that, a payment for it is refused."""
    for _ in range(300):
        try:
            if await payments_invoices.get(account_id, invoice_id) is not None:
                return
        except OperationalError:
            # The session's pool may hold a connection from before an earlier test restarted
            # PostgreSQL: the pool discards it, and the next try takes a new one.
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"payments never stored {invoice_id}")


async def test_a_mail_whose_document_never_renders_is_dropped_after_its_tries_and_its_send_answered(
    services, event_log, producer, account_id, smtp_catcher_url, monkeypatch
):
    """A mailer whose renders all overrun their time limit (DOCUMENT_RENDER_SECONDS far below what a
    worker needs): each try is killed and fails, and after MAILER_MAX_ATTEMPTS (3 here) the mail is
    dropped with `document_failed` and the invoice.send that asked for it is answered so."""
    monkeypatch.setenv("DOCUMENT_RENDER_SECONDS", "0.001")
    services.kill("mailer")
    services.start("mailer")
    try:
        services.wait_ready("mailer")
        invoice_id = f"inv_{uuid.uuid4().hex[:16]}"
        customer = address("ap")
        draft = create_invoice(invoice_id)
        await producer.send(draft.model_copy(update={"customer": draft.customer.model_copy(update={"email": [customer]})}),
                            account_id=account_id)
        await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
        await event_log.wait_for_type("invoice.finalized", invoice_id)
        send = await producer.send(SendInvoice(invoice_id=invoice_id), account_id=account_id)

        dropped = await event_log.wait_for(lambda r: r.type == "mail.dropped" and r.key == invoice_id, timeout=60)
        assert dropped.data["reason"] == "document_failed" and customer in dropped.data["recipients"]
        deferred = [r.data for r in event_log.of_type("mail.deferred", invoice_id)]
        assert [d["attempt"] for d in deferred] == [1, 2]
        assert all("longer than 0.001 s" in d["diagnostic"] and d["smtp_code"] is None for d in deferred)
        rejected = await event_log.wait_for(
            lambda r: r.type == "invoice.command_rejected" and r.data["command_id"] == str(send.id))
        assert rejected.data["reason"] == "document_failed"
        job = await stored_job(dropped.data["mail_id"], account_id)
        assert job.status == "dropped" and job.attempts == 3 and job.next_attempt_at is None
        assert await caught_mails(smtp_catcher_url, customer) == []
    finally:
        monkeypatch.delenv("DOCUMENT_RENDER_SECONDS")
        services.kill("mailer")
        services.start("mailer")
        services.wait_ready("mailer")


def credit_note_of(invoice: InvoiceSnapshot, **fields) -> CreditNoteSnapshot:
    """The invoice's line credited in part: 100.00 and its VAT, taken off what the invoice owes."""
    values = {
        "id": f"cn_{uuid.uuid4().hex[:8]}", "account_id": invoice.account_id, "invoice_id": invoice.id,
        "invoice_number": invoice.number, "invoice_issued_on": invoice.finalized_at.date(),
        "number": f"CN-2025-{uuid.uuid4().hex[:8]}", "status": "issued", "currency": "EUR",
        "customer": invoice.customer.model_copy(update={"address": CUSTOMER_ADDRESS}), "issuer": invoice.issuer,
        "lines": [{"description": "Consulting, October", "quantity": "1", "unit_amount": 10000, "tax_rate": "19",
                   "amount": 10000, "tax_amount": 1900}],
        "subtotal": 10000, "tax": 1900, "total": 11900, "pre_payment_amount": 11900, "refund_amount": 0,
        "customer_balance_amount": 0, "reason": "order_change", "memo": "",
        "created_at": datetime.now(UTC), "issued_at": datetime.now(UTC), "version": 1,
    }
    return CreditNoteSnapshot.model_validate({**values, **fields})


def send_credit_note(note: CreditNoteSnapshot, to: list[str], **fields) -> SendCreditNoteMail:
    return SendCreditNoteMail(mail_id=f"mail_{uuid.uuid4().hex[:12]}", invoice_id=note.invoice_id, credit_note=note,
                              to=to, **fields)


async def test_a_credit_note_mail_goes_out_as_the_account_with_its_factur_x_381_and_bounces_like_an_invoice_mail(
    services, event_log, producer, account_id, smtp_catcher_url
):
    invoice = open_invoice(account_id)
    forged = {"company_name": "Big Bank Security", "email": "security@bigbank.example"}
    note = credit_note_of(invoice, issuer=forged)
    to = address("ap")
    command = send_credit_note(note, [to], language="de")
    await producer.send(command, account_id=account_id)

    queued = await event_log.wait_for(of_mail("mail.queued", command.mail_id))
    sent = await event_log.wait_for(of_mail("mail.sent", command.mail_id))
    for event in (queued, sent):
        assert event.key == invoice.id and event.data["invoice_id"] == invoice.id and event.data["kind"] == "credit_note"

    [mail] = await caught_mails(smtp_catcher_url, to)
    assert mail["From"].addresses[0].addr_spec == "billing@acme.example"  # the account's, not the snapshot's
    assert mail["Subject"] == f"Gutschrift {note.number} von Acme Tooling GmbH"
    body = mail.get_body(("plain",)).get_content()
    assert f"korrigiert die Rechnung {invoice.number}" in " ".join(body.split()) and "119,00\xa0€" in body
    assert IBAN not in body
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == f"{note.number}.pdf"
    printed = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(attachment.get_content())).pages)
    assert f"Gutschrift {note.number}" in printed and "Acme Tooling GmbH" in printed and "Big Bank" not in printed
    _, xml = facturx.get_facturx_xml_from_pdf(attachment.get_content(), check_xsd=True)
    assert b"<ram:TypeCode>381</ram:TypeCode>" in xml
    assert f"<ram:InvoiceReferencedDocument><ram:IssuerAssignedID>{invoice.number}</ram:IssuerAssignedID>".encode() in xml

    # A permanent refusal bounces it, and suppresses the address for the invoice's later mails too.
    dead = address("bounce")
    bouncing = send_credit_note(note, [dead])
    await producer.send(bouncing, account_id=account_id)
    bounced = await event_log.wait_for(of_mail("mail.bounced", bouncing.mail_id))
    assert (bounced.data["kind"], bounced.data["permanent"], bounced.data["smtp_code"]) == ("credit_note", True, 550)
    later = send_invoice(invoice, [dead])
    await producer.send(later, account_id=account_id)
    assert (await event_log.wait_for(of_mail("mail.dropped", later.mail_id))).data["reason"] == "suppressed"


async def test_a_credit_note_not_yet_issued_is_not_mailed(services, event_log, producer, account_id):
    note = credit_note_of(open_invoice(account_id), status="pending", number=None, issued_at=None)
    sent = await producer.send(send_credit_note(note, [address("ap")]), account_id=account_id)
    rejected = await event_log.wait_for(lambda r: r.type == "mail.rejected" and r.data["command_id"] == str(sent.id))
    assert rejected.data["reason"] == "credit_note_not_issued"
    assert not event_log.of_type("mail.queued", note.invoice_id)
