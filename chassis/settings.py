"""Configuration from environment variables, with defaults that work on the local stack."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # Production brokers: set KAFKA_SECURITY_PROTOCOL=SASL_SSL plus the SASL variables.
    kafka_security_protocol: str = "PLAINTEXT"
    kafka_sasl_mechanism: str = "PLAIN"
    kafka_sasl_username: str = ""
    kafka_sasl_password: str = ""
    kafka_linger_ms: int = 1
    # The service's store: postgresql://... (the local default) or mongodb://...; the service's
    # own database on it is DATABASE_NAME, by default the service's name.
    database_url: str = "postgresql://postgres@127.0.0.1:15432/"
    database_name: str = ""
    database_pool_size: int = 10
    inbox_retention_hours: float = 168.0
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    log_level: str = "INFO"
    # How long a starting service waits for MongoDB and Kafka before giving up.
    startup_timeout_seconds: float = 120.0
    # How often a failing handler is retried in place before its message is dead-lettered.
    handler_attempts: int = 5
    handler_retry_base_seconds: float = 0.2
    # A partition whose committed offset has not moved for this long while records wait makes
    # /readyz fail (invoicing_consumer_stalled_seconds shows it sooner).
    consumer_stall_seconds: float = 120.0
    consumer_progress_interval_seconds: float = 5.0
    # Records taken from Kafka at once: handled concurrently across keys, in order per key.
    consume_batch_size: int = 500
    consume_batch_timeout_ms: int = 20
