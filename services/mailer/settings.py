import os
import socket

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from chassis.settings import ServiceSettings


class MailerSettings(ServiceSettings):
    """Connection settings are named after what they connect to (SMTP_*, like KAFKA_* and
    MONGODB_*); the mailer's own delivery policy is MAILER_*, because every service process
    shares one environment and a bare BATCH_SIZE would be ambiguous there. Documents render within
    DOCUMENT_RENDER_SECONDS and are kept in DOCUMENT_CACHE_MIB: read by
    documents.rendering.DocumentSettings, as in the invoices service."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, validate_by_name=True)

    http_port: int = 8004
    internal_port: int = 8104

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    # Production relays: set SMTP_USERNAME/SMTP_PASSWORD and SMTP_STARTTLS=true.
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    # Bounds a whole SMTP conversation, so a delivery claim's lease can be derived from it.
    smtp_timeout_seconds: float = 30

    batch_interval_seconds: float = Field(2, gt=0, validation_alias="mailer_batch_interval_seconds")
    # Jobs a batch takes at most, and jobs in flight at once over the batches that overlap.
    batch_size: int = Field(50, gt=0, validation_alias="mailer_batch_size")
    rate_per_second: float = Field(10, gt=0, validation_alias="mailer_rate_per_second")
    # Attempts in flight at once; each waits mostly for the relay and the store.
    concurrency: int = Field(8, gt=0, validation_alias="mailer_concurrency")
    # Processes rendering the mails' documents beside the event loop; 0: on it, without a time limit.
    compose_processes: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=0,
                                   validation_alias="mailer_compose_processes")
    # A mail for an account the mailer does not know waits this long for the account's configuration
    # (read by the same consumer, from accounts.events) before it is refused with unknown_account.
    account_wait_seconds: float = Field(2, ge=0, validation_alias="mailer_account_wait_seconds")
    max_attempts: int = Field(5, ge=1, validation_alias="mailer_max_attempts")
    retry_base_seconds: float = Field(30, ge=0, validation_alias="mailer_retry_base_seconds")
    # Names this mailer among those sharing one database: a restart under the same name takes
    # over the attempts its previous run left unfinished at once. Give every concurrently running
    # instance its own name, and keep it across restarts (a host name usually does both).
    instance: str = Field(default_factory=socket.gethostname, min_length=1, validation_alias="mailer_instance")
