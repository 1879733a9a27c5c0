from pydantic import Field
from pydantic_settings import SettingsConfigDict

from chassis.settings import ServiceSettings


class InvoicesSettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True, validate_by_name=True)

    http_port: int = 8001
    # How often the invoices-by-status gauge is recounted.
    status_gauge_interval_seconds: float = Field(15.0, gt=0, validation_alias="invoices_status_gauge_interval_seconds")
