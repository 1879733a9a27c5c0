"""The numbering service: gapless, never-reused, idempotent invoice numbers per series."""

from chassis.service import build_service
from contracts.messages.numbering import NumberAllocated, NumberRejected, NumberReleased
from services.numbering import handlers
from services.numbering.adapters.ledger import Ledger
from services.numbering.metrics import NumberingMetrics
from services.numbering.settings import NumberingSettings


def create_app(settings: NumberingSettings | None = None):
    settings = settings or NumberingSettings()
    service = build_service("numbering", settings, rejection=NumberRejected)
    ledger = service.repository(Ledger)
    handlers.register(service, ledger, NumberingMetrics(service.metrics.registry))
    service.document_publications([NumberAllocated, NumberReleased, NumberRejected])

    return service.asgi_app(description=__doc__)
