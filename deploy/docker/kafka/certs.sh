#!/bin/bash
# docker-compose.yml's kafka-certs job: a private CA and the broker's certificate (SAN kafka), made once into
# the kafka-certs volume with the JDK's keytool, which the Kafka image has. Clients trust /certs/ca.pem
# (KAFKA_SSL_CAFILE); the broker reads /certs/kafka.p12. Delete the volume to issue new ones.
set -euo pipefail
cd /certs
if [[ -s kafka.p12 && -s ca.pem ]]; then
    echo "certificates present"
    exit 0
fi
: "${KAFKA_TLS_PASSWORD:?set KAFKA_TLS_PASSWORD}"
rm -f ca.p12 kafka.p12 kafka.csr kafka.pem ca.pem
keytool -genkeypair -noprompt -alias ca -dname "CN=invoicing local CA" -keyalg EC -groupname secp256r1 -validity 825 \
    -ext bc:c -keystore ca.p12 -storetype PKCS12 -storepass "$KAFKA_TLS_PASSWORD"
keytool -exportcert -rfc -alias ca -keystore ca.p12 -storepass "$KAFKA_TLS_PASSWORD" -file ca.pem
keytool -genkeypair -noprompt -alias kafka -dname "CN=kafka" -keyalg EC -groupname secp256r1 -validity 825 \
    -keystore kafka.p12 -storetype PKCS12 -storepass "$KAFKA_TLS_PASSWORD"
keytool -certreq -alias kafka -keystore kafka.p12 -storepass "$KAFKA_TLS_PASSWORD" -file kafka.csr
keytool -gencert -rfc -alias ca -keystore ca.p12 -storepass "$KAFKA_TLS_PASSWORD" -validity 825 \
    -ext "SAN=dns:kafka,dns:localhost" -ext ku:c=digitalSignature,keyEncipherment -ext eku=serverAuth \
    -infile kafka.csr -outfile kafka.pem
keytool -importcert -noprompt -alias ca -keystore kafka.p12 -storepass "$KAFKA_TLS_PASSWORD" -file ca.pem
keytool -importcert -noprompt -alias kafka -keystore kafka.p12 -storepass "$KAFKA_TLS_PASSWORD" -file kafka.pem
rm -f kafka.csr ca.p12  # the CA's key is not needed again: new certificates come with a new CA
chmod 644 ca.pem
# The broker runs as the Kafka image's appuser (uid 1000); this job runs as root to write the volume.
chown 1000:1000 kafka.p12
chmod 640 kafka.p12
echo "certificates made"
