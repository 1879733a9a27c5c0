"""Drives full invoice lifecycles through Kafka, as an outside system would, and times each step.

A lifecycle: create -> invoice.created, then finalize -> invoice.finalized (a number from
numbering), then send (an email with the PDF, through the mailer) and a bank transfer naming the
payment reference (matched by payments) -> invoice.sent and invoice.paid. Each next command goes
out when the previous answer arrives, so many lifecycles are in flight at once.
"""

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import date

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from contracts import topics
from contracts.envelope import Envelope
from contracts.messages import MessageData
from contracts.messages.invoices import FinalizeInvoice, SendInvoice
from contracts.messages.payments import BankTransactionReceived
from tests.integration.factories import PAYEE_IBAN, create_invoice
from tests.integration.harness import kafka_options

STEPS = {"invoice.create": "invoice.created", "invoice.finalize": "invoice.finalized",
         "invoice.send": "invoice.sent", "bank_transaction.received": "invoice.paid"}


@dataclass
class Lifecycle:
    invoice_id: str
    account_id: str
    sent_at: dict[str, float] = field(default_factory=dict)
    latencies: dict[str, float] = field(default_factory=dict)
    number: str | None = None
    mails: int = 0
    mail_ids: list[str] = field(default_factory=list)
    paid: bool = False
    started: float = 0.0
    finished: float = 0.0

    @property
    def done(self) -> bool:
        return self.paid and self.mails >= 1


class LifecycleDriver:
    def __init__(self, bootstrap: str) -> None:
        # Commands as the operators, as the CLI sends them; the answers read by the super user, who alone
        # may join any consumer group.
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                                         linger_ms=2, **kafka_options("operators"))
        self.consumer = AIOKafkaConsumer(topics.INVOICES_EVENTS, bootstrap_servers=bootstrap,
                                         group_id=f"bench-{uuid.uuid4()}", auto_offset_reset="latest",
                                         enable_auto_commit=False, **kafka_options("admin"))
        self.lifecycles: dict[str, Lifecycle] = {}
        self.rejections: list[dict] = []
        # Publishing is at least once (a crash between publish and outbox clear republishes the same
        # event); like every consumer of the platform, the driver drops an event id seen before.
        self._seen: set[str] = set()
        self.commands_sent = 0
        self._all_done = asyncio.Event()
        self._expected = 0
        self._sends: list[asyncio.Future] = []

    async def start(self) -> None:
        await self.producer.start()
        await self.consumer.start()
        while not self.consumer.assignment():
            await asyncio.sleep(0.05)
        for partition in self.consumer.assignment():
            await self.consumer.position(partition)
        self._task = asyncio.create_task(self._follow())

    async def stop(self) -> None:
        self._task.cancel()
        await self.consumer.stop()
        await self.producer.stop()

    async def _send(self, lifecycle: Lifecycle, data: MessageData) -> None:
        envelope = Envelope.originate(source="bench", type=data.type_name, subject=data.aggregate_id(),
                                      accountid=lifecycle.account_id, actor="user:bench")
        lifecycle.sent_at[data.type_name] = time.perf_counter()
        self._sends.append(await self.producer.send(
            data.topic, data.model_dump_json().encode(), key=envelope.subject.encode(),
            headers=[(name, value.encode()) for name, value in envelope.to_headers().items()],
        ))
        self.commands_sent += 1

    async def begin(self, invoice_id: str, account_id: str) -> None:
        lifecycle = self.lifecycles[invoice_id] = Lifecycle(invoice_id, account_id, started=time.perf_counter())
        await self._send(lifecycle, create_invoice(invoice_id))

    async def _follow(self) -> None:
        async for record in self.consumer:
            headers = {name: value.decode() for name, value in record.headers}
            lifecycle = self.lifecycles.get(headers.get("ce_subject", ""))
            if lifecycle is None or headers["ce_id"] in self._seen:
                continue
            self._seen.add(headers["ce_id"])
            await self._on(lifecycle, headers["ce_type"], json.loads(record.value))

    async def _on(self, lifecycle: Lifecycle, type_name: str, data: dict) -> None:
        now = time.perf_counter()
        for command, answer in STEPS.items():
            if type_name == answer and command in lifecycle.sent_at and command not in lifecycle.latencies:
                lifecycle.latencies[command] = now - lifecycle.sent_at[command]
        if type_name == "invoice.created":
            await self._send(lifecycle, FinalizeInvoice(invoice_id=lifecycle.invoice_id))
        elif type_name == "invoice.finalized":
            invoice = data["invoice"]
            lifecycle.number = invoice["number"]
            await self._send(lifecycle, SendInvoice(invoice_id=lifecycle.invoice_id))
            await self._send(lifecycle, BankTransactionReceived(
                transaction_id=f"tx-{lifecycle.invoice_id}", iban=PAYEE_IBAN, amount=invoice["amount_due"],
                currency=invoice["currency"], booked_on=date.today(),
                remittance_information=f"Payment {invoice['payment_reference']}",
            ))
        elif type_name == "invoice.sent":
            lifecycle.mails += 1
            lifecycle.mail_ids.append(data["mail_id"])
        elif type_name == "invoice.paid":
            lifecycle.paid = True
        elif type_name == "invoice.command_rejected":
            self.rejections.append(data)
        if lifecycle.done and not lifecycle.finished:
            lifecycle.finished = now
            self._expected -= 1
            if self._expected == 0:
                self._all_done.set()

    async def run(self, accounts: list[str], count: int, rate: float | None, timeout: float) -> list[Lifecycle]:
        """Start `count` lifecycles, all at once or `rate` per second, and wait until all are done."""
        self._expected += count
        self._all_done.clear()
        started = time.perf_counter()
        ids = [f"inv_bench_{uuid.uuid4().hex[:16]}" for _ in range(count)]
        for position, invoice_id in enumerate(ids):
            if rate:
                await asyncio.sleep(max(0.0, started + position / rate - time.perf_counter()))
            await self.begin(invoice_id, accounts[position % len(accounts)])
        await asyncio.gather(*self._sends)
        self._sends.clear()
        try:
            await asyncio.wait_for(self._all_done.wait(), timeout)
        except TimeoutError:
            pass
        return [self.lifecycles[invoice_id] for invoice_id in ids]
