from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from chassis.settings import ServiceSettings, secret
from services.invoices.domain.hosted_link import HostedLinks, public_base


class InvoicesSettings(ServiceSettings):
    """The hosted page's PDF renders within DOCUMENT_RENDER_SECONDS and is kept in DOCUMENT_CACHE_MIB:
    read by documents.rendering.DocumentSettings, as in the mailer.

    HOSTED_LINK_SECRET, or the file HOSTED_LINK_SECRET_FILE names: the key hosted page tokens are
    made with (services/invoices/domain/hosted_link.py), one per deployment, at least 32 characters;
    required at start (deploy/ makes one per stack). Changing it changes every invoice's address.
    INVOICES_PUBLIC_URL: the public base customers reach this service's HTTP port at
    (`https://billing.example.com`), which mails and the read API link pages under
    (`<base>/i/<invoice id>/<token>`); http(s), no query or fragment. Unset: no link anywhere.
    """

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
    hosted_link_secret: str = ""
    hosted_link_secret_file: str = ""
    public_url: str | None = Field(None, validation_alias="invoices_public_url")

    @field_validator("public_url")
    @classmethod
    def _public_base(cls, url: str | None) -> str | None:
        return public_base(url) if url else None

    def hosted_links(self) -> HostedLinks:
        return HostedLinks(secret(self.hosted_link_secret, self.hosted_link_secret_file, "HOSTED_LINK_SECRET_FILE"),
                           self.public_url)
