#!/bin/bash
# Prints a .env for docker-compose.yml with a random secret for everything that needs one; docker-compose.yml
# has no default password and refuses to start without these:
#   deploy/docker/secrets.sh > .env && chmod 600 .env && docker compose up --build
# (.env is ignored by git.) Keep the file: the Kafka users and MongoDB users are created with these on the
# first start and the data volumes keep them.
set -euo pipefail
secret() { python3 -c 'import secrets; print(secrets.token_urlsafe(32))'; }
for name in KAFKA_ADMIN KAFKA_CONTROLLER KAFKA_TLS KAFKA_INVOICES KAFKA_NUMBERING KAFKA_PAYMENTS KAFKA_MAILER \
    KAFKA_OPERATORS MONGO_ROOT MONGO_INVOICES MONGO_NUMBERING MONGO_PAYMENTS MONGO_MAILER GRAFANA_ADMIN; do
    echo "${name}_PASSWORD=$(secret)"
done
# The read APIs' cursor signing key: changing it only makes cursors handed out before refused (400).
echo "CURSOR_SECRET=$(secret)"
# The key of the hosted pages' tokens: changing it changes every invoice's page address (the old ones 404).
echo "HOSTED_LINK_SECRET=$(secret)"
