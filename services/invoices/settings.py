from pydantic import Field
from pydantic_settings import SettingsConfigDict

from chassis.settings import ServiceSettings


class InvoicesSettings(ServiceSettings):
    """The hosted page's PDF renders within DOCUMENT_RENDER_SECONDS and is kept in DOCUMENT_CACHE_MIB:
    read by documents.rendering.DocumentSettings, as in the mailer."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, validate_by_name=True)

    http_port: int = 8001
    internal_port: int = 8101
    # How often the invoices-by-status gauge is recounted.
    status_gauge_interval_seconds: float = Field(15.0, gt=0, validation_alias="invoices_status_gauge_interval_seconds")
    # How often the invoice clock looks for invoices that became past due or owe a reminder, and
    # how many it takes at a time.
    clock_interval_seconds: float = Field(5.0, gt=0, validation_alias="invoices_clock_interval_seconds")
    clock_batch_size: int = Field(1000, gt=0, validation_alias="invoices_clock_batch_size")
    # Tests only: per-account offsets of the service's time (services/invoices/clock.py).
    clock_offsets_file: str = Field("", validation_alias="invoices_clock_offsets_file")
