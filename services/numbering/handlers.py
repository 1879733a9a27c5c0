"""numbering's subscribers: allocate numbers at finalization and at a credit note's issue, record
gaps at deletion."""

from datetime import UTC, datetime

from chassis.context import HandlerContext
from chassis.service import Service
from chassis.tenancy import TenantGuard
from contracts.messages.invoices import InvoiceDeleted
from contracts.messages.numbering import AllocateNumber
from services.numbering.adapters.ledger import Ledger
from services.numbering.domain.ledger import LedgerEntry
from services.numbering.domain.numbers import sequence_key
from services.numbering.metrics import NumberingMetrics


def register(service: Service, ledger: Ledger, metrics: NumberingMetrics) -> None:
    consumer = service.consumer
    tenancy = TenantGuard(consumer.metrics)

    @consumer.handles(AllocateNumber)
    async def allocate_number(context: HandlerContext, command: AllocateNumber) -> None:
        tenancy.check_key(context, command.series_key, "series")
        held = await ledger.held_by(context.account_id, command.invoice_id, command.credit_note_id)
        if held is not None:
            # Asked again for the same document (a finalization tried again): the same number. The
            # request that allocated it, redelivered, only publishes what may still be pending.
            context.uow.attach(ledger, held)
            context.emit(held.allocated())
            return
        key = sequence_key(command.series_key, command.number_format, command.issued_on)
        context.uow.add(ledger, LedgerEntry.allocate(
            invoice_id=command.invoice_id, credit_note_id=command.credit_note_id, account_id=context.account_id,
            series_key=command.series_key,
            number_format=command.number_format, issued_on=command.issued_on,
            last_sequence=await ledger.last_sequence(key), now=datetime.now(UTC),
        ))
        await context.uow.commit()
        metrics.allocated.inc()

    @consumer.handles(InvoiceDeleted)
    async def record_gap(context: HandlerContext, event: InvoiceDeleted) -> None:
        # Only the envelope's account's invoice: another account's invoice of the same id keeps its number.
        held = await ledger.held_by(context.account_id, event.invoice_id)
        if held is None:
            return  # a draft never had a number
        entry = context.uow.attach(ledger, held)
        if entry.release(event.reason or "invoice deleted", event.deleted_at):
            await context.uow.commit()
            metrics.gaps.inc()
