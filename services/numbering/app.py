"""The numbering service: gapless, never-reused, idempotent invoice numbers per series."""

from contracts.envelope import Envelope
from contracts.messages import MessageData
from contracts.messages.numbering import NumberAllocated, NumberRejected, NumberReleased
from contracts.runtime.outbox import relay_pending
from contracts.runtime.service import build_service
from services.numbering import handlers
from services.numbering.adapters.ledger import Ledger
from services.numbering.metrics import NumberingMetrics
from services.numbering.settings import NumberingSettings


def reject(envelope: Envelope, command: MessageData | None, reason: str, message: str) -> NumberRejected:
    invoice_id = getattr(command, "invoice_id", None) or envelope.subject
    return NumberRejected(
        command_id=str(envelope.id), command_type=envelope.type, reason=reason, message=message, invoice_id=invoice_id
    )


def create_app(settings: NumberingSettings | None = None):
    settings = settings or NumberingSettings()
    service = build_service("numbering", settings, reject=reject)
    ledger = Ledger(service.db)
    handlers.register(service, ledger, NumberingMetrics(service.metrics.registry))
    service.document_publications([NumberAllocated, NumberReleased, NumberRejected])

    @service.on_startup
    async def prepare() -> None:
        await ledger.ensure_indexes()
        await relay_pending(ledger.entries, service.publisher)

    return service.asgi_app(description=__doc__)
