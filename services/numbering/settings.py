from pydantic import Field
from pydantic_settings import SettingsConfigDict

from chassis.settings import ServiceSettings


class NumberingSettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True, validate_by_name=True)

    http_port: int = 8002
    internal_port: int = 8102
    # How often every series' continuity is checked for the breaks gauge.
    continuity_interval_seconds: float = Field(300.0, gt=0, validation_alias="numbering_continuity_interval_seconds")
