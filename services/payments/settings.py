from pydantic import Field
from pydantic_settings import SettingsConfigDict

from chassis.settings import ServiceSettings


class PaymentsSettings(ServiceSettings):
    """A pending credit's `payment.pending` expires PAYMENT_PENDING_DAYS (7) days after the bank
    announced it, or after its value date when that is later (services.payments.domain.pending)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    http_port: int = 8003
    internal_port: int = 8103
    payment_pending_days: int = Field(7, ge=1, le=60)
