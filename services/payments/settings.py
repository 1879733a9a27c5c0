from pydantic_settings import SettingsConfigDict

from chassis.settings import ServiceSettings


class PaymentsSettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    http_port: int = 8003
    internal_port: int = 8103
