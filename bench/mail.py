"""Invoice mails per second through the mailer, next to raw aiosmtplib sends of the same mails.

Run by `make bench` before the lifecycles, on the same stack and services, with the mailer's rate
limit lifted (see bench/__main__.py). Queues `--mails` invoice mails (each with its PDF) by
publishing `mail.send_invoice` commands to Kafka under a fresh account, and times the mailer until
every one is `mail.sent`, that is, accepted by the SMTP catcher. Then composes and serializes the same
mails the way the mailer does (whatever document it attaches) and sends them with aiosmtplib alone over as
many persistent connections as the mailer keeps (MAILER_CONCURRENCY): the bound of the same
composition and SMTP work without Kafka, the store or delivery bookkeeping. Prints both, the
ratio and the CPU each component spent per mail during the mailer's run.
"""

import asyncio
import os
import time
import uuid
from datetime import UTC, datetime

import aiosmtplib

from bench.cpu import by_component, cpu_seconds, machine_busy_seconds
from contracts.envelope import Envelope
from contracts.example_data import examples
from contracts.messages.mail import SendInvoiceMail
from documents import render_document
from services.mailer.adapters.wire import wire_bytes
from services.mailer.delivery import compose
from services.mailer.domain.mail_job import MailJob
from services.mailer.settings import MailerSettings
from tests.integration.harness import EventLog, Producer, ServiceProcesses, env

DOMAIN = "bench.example"
WARM_UP = 100  # mails


def commands(account_id: str, count: int) -> list[SendInvoiceMail]:
    example = examples()["mail.send_invoice"]
    mails = []
    for n in range(count):
        invoice_id = f"inv_mailbench_{n:06d}"
        invoice = example.invoice.model_copy(update={"id": invoice_id, "account_id": account_id,
                                                     "number": f"INV-2026-{n + 1:05d}"})
        mails.append(example.model_copy(update={"mail_id": f"mail-{uuid.uuid4().hex}", "invoice_id": invoice_id,
                                                "invoice": invoice, "to": [f"customer-{n}@{DOMAIN}"], "cc": []}))
    return mails


async def through_the_mailer(account_id: str, mails: list[SendInvoiceMail], services: ServiceProcesses,
                             timeout: float, report: bool = True) -> tuple[float, float]:
    """Seconds from the first command published to the last mail sent, and from the first mail
    sent to the last; prints the CPU per mail of each component."""
    bootstrap = env("KAFKA_BOOTSTRAP_SERVERS")
    log, producer = EventLog(bootstrap), Producer(bootstrap)
    await log.start()
    await producer.start()
    pids = {process.pid: name for name, process in services.processes.items()}
    try:
        # The mailer sends only for accounts it knows (their configuration on accounts.events).
        configure = examples()["account.configure"].model_copy(update={"account_id": account_id})
        await producer.send(configure, account_id=account_id, actor="bench")
        await log.wait_for_type("account.configured", account_id, timeout=120)
        cpu_before, busy_before = cpu_seconds(pids, env("STACK_DIR")), machine_busy_seconds()
        started = time.perf_counter()
        sends = []
        for mail in mails:
            envelope = Envelope.originate(source="bench", type=mail.type_name, subject=mail.invoice_id,
                                          accountid=account_id, actor="bench")
            sends.append(await producer.producer.send(
                mail.topic, mail.model_dump_json().encode(), key=mail.invoice_id.encode(),
                headers=[(name, value.encode()) for name, value in envelope.to_headers().items()]))
        await asyncio.gather(*sends)

        def sent() -> list[float]:
            return [r.arrived_at for r in log.records
                    if r.type == "mail.sent" and r.headers.get("ce_accountid") == account_id]

        deadline = time.monotonic() + timeout
        while len(sent()) < len(mails) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        times = sent()
        busy = machine_busy_seconds() - busy_before
        cpu = by_component(cpu_before, cpu_seconds(pids, env("STACK_DIR")))
    finally:
        await producer.stop()
        await log.stop()
    if len(times) < len(mails):
        print(f"mailer: only {len(times)} of {len(mails)} mails sent within {timeout:.0f} s")
    wall = max(times) - started
    if report:
        print(f"CPU per mail through the mailer (machine busy {busy / wall:.2f} of {os.cpu_count()} cores): "
              + ", ".join(f"{name} {seconds / len(times) * 1000:.2f} ms" for name, seconds in cpu.most_common())
              + f"; the stack {sum(cpu.values()) / len(times) * 1000:.2f} ms, the whole machine"
              f" {busy / len(times) * 1000:.2f} ms")
    return wall, max(times) - min(times)


async def raw_sends(account_id: str, mails: list[SendInvoiceMail], connections: int) -> float:
    """Seconds to compose and send the same mails with aiosmtplib over `connections` kept connections."""
    now = datetime.now(UTC)
    jobs = [MailJob.queue(mail_id=m.mail_id, account_id=account_id, invoice_id=m.invoice_id, kind=m.kind,
                          language=m.language, attach_pdf=m.attach_pdf, document=m.invoice, to=m.to, cc=m.cc,
                          suppressed=set(), cause={}, now=now) for m in mails]
    waiting = iter(jobs)

    async def sender() -> None:
        async with aiosmtplib.SMTP(hostname=env("SMTP_HOST"), port=int(env("SMTP_PORT"))) as smtp:
            for job in waiting:
                pdf = render_document(job.document, job.document.issuer, job.language) if job.attach_pdf else None
                message, _ = compose(job, datetime.now(UTC), pdf)
                await smtp.sendmail(job.document.issuer.email, job.pending, wire_bytes(message))

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(connections)))
    return time.perf_counter() - started


async def measure(count: int, services: ServiceProcesses, timeout: float = 600) -> float:
    """Mails per second through the mailer."""
    # A warm-up first: the mailer's composing processes and store connections start then, so the
    # run's CPU readings see them.
    warm_up = f"acct_mailbench_{uuid.uuid4().hex[:8]}"
    await through_the_mailer(warm_up, commands(warm_up, WARM_UP), services, timeout, report=False)
    account_id = f"acct_mailbench_{uuid.uuid4().hex[:8]}"
    mails = commands(account_id, count)
    wall, delivering = await through_the_mailer(account_id, mails, services, timeout)
    raw = await raw_sends(account_id, commands(account_id, count), MailerSettings().concurrency)
    mailer_rate, raw_rate = count / wall, count / raw
    print(f"mails: {count} through the mailer in {wall:.1f} s (first to last sent {delivering:.1f} s); "
          f"raw aiosmtplib {raw:.1f} s over {MailerSettings().concurrency} connections")
    print(f"mailer: {mailer_rate:.1f} emails/s; raw aiosmtplib: {raw_rate:.1f} emails/s; "
          f"ratio: {mailer_rate / raw_rate:.2f}")
    return mailer_rate
