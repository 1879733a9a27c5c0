#!/bin/bash
# Run once by the mongo image on an empty data volume (docker-entrypoint-initdb.d), as the root user:
# one user per service, readWrite on its own database only.
set -euo pipefail
for service in invoices numbering payments mailer; do
    var="MONGO_${service^^}_PASSWORD"
    password="${!var:?set $var}"
    mongosh --quiet -u "$MONGO_INITDB_ROOT_USERNAME" -p "$MONGO_INITDB_ROOT_PASSWORD" --authenticationDatabase admin \
        "$service" --eval "db.createUser({user: '$service', pwd: process.env.$var, roles: [{role: 'readWrite', db: '$service'}]})"
done
