"""Configuration from environment variables, with defaults that work on the local stack."""

import ssl
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict


def secret(value: str, file: str, file_variable: str) -> str:
    """A secret given in a variable, or else in the file another variable names."""
    if value or not file:
        return value
    try:
        return Path(file).read_text().strip()
    except OSError as error:
        raise RuntimeError(f"{file_variable}={file} cannot be read: {error.strerror}") from None


class KafkaSettings(BaseSettings):
    """How a client reaches and authenticates to Kafka: the services', the CLI's and the tests'."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # PLAINTEXT (a bare broker), SASL_PLAINTEXT (the local stacks) or SASL_SSL (production).
    kafka_security_protocol: str = "PLAINTEXT"
    kafka_sasl_mechanism: str = "SCRAM-SHA-512"
    kafka_sasl_username: str = ""
    kafka_sasl_password: str = ""
    # A file holding the password (deploy/ writes one per principal): used when KAFKA_SASL_PASSWORD is empty.
    kafka_sasl_password_file: str = ""
    # The CA that signed the brokers' certificates, for SASL_SSL/SSL; empty: the system's CAs.
    kafka_ssl_cafile: str = ""

    def sasl_password(self) -> str:
        return secret(self.kafka_sasl_password, self.kafka_sasl_password_file, "KAFKA_SASL_PASSWORD_FILE")

    def uses_sasl(self) -> bool:
        return self.kafka_security_protocol.startswith("SASL_")

    def ssl_context(self) -> ssl.SSLContext | None:
        if not self.kafka_security_protocol.endswith("SSL"):
            return None
        return ssl.create_default_context(cafile=self.kafka_ssl_cafile or None)

    def aiokafka_options(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's producer, consumer and admin client."""
        options: dict[str, Any] = {"security_protocol": self.kafka_security_protocol}
        if self.uses_sasl():
            options |= {"sasl_mechanism": self.kafka_sasl_mechanism, "sasl_plain_username": self.kafka_sasl_username,
                        "sasl_plain_password": self.sasl_password()}
        if context := self.ssl_context():
            options["ssl_context"] = context
        return options

    def faststream_security(self):
        """The same settings as FastStream's security object (None: PLAINTEXT)."""
        from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

        if not self.uses_sasl():
            context = self.ssl_context()
            return BaseSecurity(ssl_context=context) if context else None
        mechanisms = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}
        try:
            mechanism = mechanisms[self.kafka_sasl_mechanism]
        except KeyError:
            raise RuntimeError(f"KAFKA_SASL_MECHANISM={self.kafka_sasl_mechanism} is not one of {sorted(mechanisms)}") from None
        return mechanism(username=self.kafka_sasl_username, password=self.sasl_password(),
                         ssl_context=self.ssl_context())


class ServiceSettings(KafkaSettings):
    """A service's settings. HTTP: HTTP_HOST, HTTP_PORT (public: read API, hosted pages),
    INTERNAL_PORT (operators: /metrics, /healthz, /readyz, /docs/; never published), and for a read
    API CURSOR_SECRET or CURSOR_SECRET_FILE (the key its cursors are signed with; required at start)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    kafka_linger_ms: int = 1
    # The service's store: postgresql://... (the local default) or mongodb://...; the service's
    # own database on it is DATABASE_NAME, by default the service's name.
    database_url: str = "postgresql://postgres@127.0.0.1:15432/"
    database_name: str = ""
    database_pool_size: int = 10
    inbox_retention_hours: float = 168.0
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # The port of the operators' endpoints: /metrics, /healthz, /readyz and the AsyncAPI and OpenAPI
    # documents under /docs/. Never published; HTTP_PORT serves only the public paths.
    internal_port: int = 8100
    # The secret a read API signs its cursors with (chassis/http/pagination.py), one per deployment,
    # or a file holding it (deploy/ generates one per stack).
    cursor_secret: str = ""
    cursor_secret_file: str = ""
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
    # How long the broker holds a fetch until it has KAFKA_FETCH_MIN_BYTES for the consumer. Every
    # fetch request and response lists every assigned partition (a hundred or more with the
    # integrators' topics), so a consumer answered at the first record fetches once per record
    # under load; holding the fetch briefly gathers several records per fetch, at the price of at
    # most this much latency per consumer a record crosses (docs/design.md, "Performance").
    kafka_fetch_max_wait_ms: int = 500
    kafka_fetch_min_bytes: int = 1
    # The copies of the aggregates this service wrote, kept so that its consumer need not read an
    # aggregate again before writing it (chassis.storage.cached): at most this many MiB of
    # documents. 0: none kept, every load reads the store.
    aggregate_cache_mib: float = 8.0

    def cursor_signing_secret(self) -> str:
        return secret(self.cursor_secret, self.cursor_secret_file, "CURSOR_SECRET_FILE")
