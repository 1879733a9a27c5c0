"""The numbering service: gapless, never-reused, idempotent invoice numbers per series."""

from chassis.http.api import ReadApi
from chassis.service import Service, build_service
from chassis.storage import Store
from contracts.messages.numbering import NumberAllocated, NumberRejected, NumberReleased
from services.numbering import api, handlers
from services.numbering.adapters.ledger import Ledger
from services.numbering.continuity import watch_continuity
from services.numbering.metrics import NumberingMetrics
from services.numbering.settings import NumberingSettings


def create_app(settings: NumberingSettings | None = None):
    settings = settings or NumberingSettings()
    service, ledger = assemble(settings)
    read_api = ReadApi(service, description=api.__doc__)
    api.routes(read_api, ledger)
    return read_api.serve_with(service.asgi_app(description=__doc__))


def assemble(settings: NumberingSettings, store: Store | None = None) -> tuple[Service, Ledger]:
    """The service without its HTTP side: its consumer's handlers, background loops and
    publications, on `store` (by default the settings'). create_app serves it; the unit tests'
    harness drives the same on an in-memory store."""
    service = build_service("numbering", settings, rejection=NumberRejected, store=store)
    ledger = service.repository(Ledger)
    metrics = NumberingMetrics(service.metrics.registry)
    handlers.register(service, ledger, metrics)
    service.document_publications([NumberAllocated, NumberReleased, NumberRejected])

    @service.background
    async def check_continuity() -> None:
        await watch_continuity(ledger, metrics, settings.continuity_interval_seconds)

    return service, ledger
