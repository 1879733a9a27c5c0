"""numbering's subscribers: allocate numbers at finalization, record gaps at deletion."""

import functools
from datetime import UTC, datetime

from chassis.consumer import HandlerContext
from chassis.service import Service
from contracts.messages.invoices import InvoiceDeleted
from contracts.messages.numbering import AllocateNumber, NumberAllocated, NumberReleased
from contracts.refusals import Refusal
from services.numbering.adapters.ledger import InvoiceAlreadyNumbered, Ledger
from services.numbering.domain.numbers import InvalidNumberFormat, format_number, sequence_key
from services.numbering.metrics import NumberingMetrics


def register(service: Service, ledger: Ledger, metrics: NumberingMetrics) -> None:
    consumer = service.consumer

    @consumer.handles(AllocateNumber)
    async def allocate_number(context: HandlerContext, command: AllocateNumber) -> None:
        if not command.series_key.startswith(f"{context.account_id}/"):
            raise Refusal("account_mismatch", "The series belongs to another account.")
        try:
            key = sequence_key(command.series_key, command.number_format, command.issued_on)
        except InvalidNumberFormat as error:
            raise Refusal("invalid_number_format", str(error)) from error

        while True:
            held = await ledger.held_by(command.invoice_id)
            if held is not None:
                # Asked again for the same invoice (a retry, a redelivery): the same number.
                context.emit(_allocated(held))
                return
            sequence = await ledger.last_sequence(key) + 1
            entry = {
                "invoice_id": command.invoice_id,
                "account_id": context.account_id,
                "series_key": command.series_key,
                "sequence_key": key,
                "sequence": sequence,
                "number": format_number(command.number_format, sequence, command.issued_on),
                "status": "held",
                "allocated_at": datetime.now(UTC),
            }
            announcement = context.emit(_allocated(entry))
            try:
                claimed = await ledger.claim(entry, [announcement])
            except InvoiceAlreadyNumbered:
                claimed = False
            if claimed:
                entry_id = f"{key}#{sequence:012d}"
                context.after_publish(functools.partial(ledger.published, entry_id, [announcement]))
                metrics.allocated.inc()
                return
            context.emitted.remove(announcement)  # someone else took that number; try the next

    @consumer.handles(InvoiceDeleted)
    async def record_gap(context: HandlerContext, event: InvoiceDeleted) -> None:
        held = await ledger.held_by(event.invoice_id)
        if held is None:
            return  # a draft never had a number
        if held["status"] == "gap":
            # Recorded already; a redelivery after a crash may find its announcement unpublished.
            leftovers = await ledger.pending(held["_id"])
            context.emitted.extend(leftovers)
            context.after_publish(lambda: ledger.published(held["_id"], leftovers))
            return
        released = context.emit(
            NumberReleased(
                invoice_id=held["invoice_id"],
                series_key=held["series_key"],
                sequence_key=held["sequence_key"],
                sequence=held["sequence"],
                number=held["number"],
                reason=event.reason or "invoice deleted",
                released_at=event.deleted_at,
            )
        )
        if await ledger.record_gap(held["_id"], released.data.reason, [released]):
            context.after_publish(lambda: ledger.published(held["_id"], [released]))
            metrics.gaps.inc()


def _allocated(entry: dict) -> NumberAllocated:
    return NumberAllocated(
        invoice_id=entry["invoice_id"],
        series_key=entry["series_key"],
        sequence_key=entry["sequence_key"],
        sequence=entry["sequence"],
        number=entry["number"],
        allocated_at=entry["allocated_at"],
    )
