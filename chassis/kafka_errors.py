"""Saying why Kafka refused a client, in one sentence a person can act on.

aiokafka reports a refused login only as "Unable to bootstrap": the broker's answer (wrong password,
unknown user, a mechanism the listener does not take) is logged and dropped. `explain` opens one
connection itself to name it, and turns authorization errors into who may not do what.
"""

from __future__ import annotations

from aiokafka.conn import create_conn
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    KafkaError,
    SaslAuthenticationFailed,
    TopicAuthorizationFailedError,
    UnsupportedSaslMechanismError,
)

from chassis.settings import KafkaSettings

AUTHORIZATION_ERRORS = (TopicAuthorizationFailedError, GroupAuthorizationFailedError, ClusterAuthorizationFailedError)
HINT = "see docs/kafka-security.md"


def _who(settings: KafkaSettings) -> str:
    if not settings.uses_sasl():
        return f"without credentials ({settings.kafka_security_protocol})"
    source = (f"password from KAFKA_SASL_PASSWORD_FILE={settings.kafka_sasl_password_file}"
              if settings.kafka_sasl_password_file and not settings.kafka_sasl_password else "password from KAFKA_SASL_PASSWORD")
    return f"as {settings.kafka_sasl_username or '(no KAFKA_SASL_USERNAME)'} with {settings.kafka_sasl_mechanism} ({source})"


async def explain(error: BaseException, settings: KafkaSettings, bootstrap: str | None = None) -> str | None:
    """A sentence for an authentication or authorization failure; None for any other error."""
    bootstrap = bootstrap or settings.kafka_bootstrap_servers
    if isinstance(error, AUTHORIZATION_ERRORS):
        return f"Kafka at {bootstrap} does not allow this {_who(settings)}: {error} ({HINT})"
    if not isinstance(error, KafkaConnectionError):
        return None
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    options = settings.aiokafka_options()
    try:
        connection = await create_conn(
            host or "127.0.0.1", int(port), ssl_context=options.get("ssl_context"),
            security_protocol=options["security_protocol"], sasl_mechanism=options.get("sasl_mechanism", "PLAIN"),
            sasl_plain_username=options.get("sasl_plain_username"), sasl_plain_password=options.get("sasl_plain_password"),
            request_timeout_ms=5000,
        )
    except (SaslAuthenticationFailed, UnsupportedSaslMechanismError) as refused:
        return f"Kafka at {bootstrap} refused the login {_who(settings)}: {refused} ({HINT})"
    except (KafkaError, OSError):
        return None  # not reachable: no refusal to explain
    connection.close()
    if not settings.uses_sasl():
        # The port answers, yet bootstrapping failed: a SASL listener closes a connection that does not log in.
        return (f"Kafka at {bootstrap} closed the connection {_who(settings)}: it asks for credentials"
                f" (KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD_FILE; {HINT})")
    return None
