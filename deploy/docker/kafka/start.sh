#!/bin/bash
# docker-compose.yml's kafka: the same security model as the local stack (deploy/kafka/server.properties.template)
# with TLS on the client listener: SASL_SSL with SCRAM-SHA-512 for clients and the broker itself, the KRaft
# controller listener on loopback with PLAIN (SCRAM cannot authenticate the controller: docs/kafka-security.md),
# StandardAuthorizer, no access without an ACL. The super user admin is bootstrapped at format time; the
# kafka-init job creates the other users and the ACLs.
set -euo pipefail
: "${KAFKA_ADMIN_PASSWORD:?set KAFKA_ADMIN_PASSWORD}"
: "${KAFKA_CONTROLLER_PASSWORD:?set KAFKA_CONTROLLER_PASSWORD}"
: "${KAFKA_TLS_PASSWORD:?set KAFKA_TLS_PASSWORD}"
: "${CLUSTER_ID:?set CLUSTER_ID}"
umask 077
props=/tmp/server.properties
cat >"$props" <<PROPERTIES
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@localhost:9093
controller.listener.names=CONTROLLER
listeners=CLIENT://:9092,CONTROLLER://localhost:9093
advertised.listeners=CLIENT://kafka:9092
listener.security.protocol.map=CLIENT:SASL_SSL,CONTROLLER:SASL_PLAINTEXT
inter.broker.listener.name=CLIENT
ssl.keystore.type=PKCS12
ssl.keystore.location=/certs/kafka.p12
ssl.keystore.password=$KAFKA_TLS_PASSWORD
listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$KAFKA_ADMIN_PASSWORD";
listener.name.controller.sasl.enabled.mechanisms=PLAIN
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="controller" password="$KAFKA_CONTROLLER_PASSWORD" user_controller="$KAFKA_CONTROLLER_PASSWORD";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin;User:controller
log.dirs=/var/lib/kafka/data
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
num.partitions=3
auto.create.topics.enable=false
PROPERTIES
# The healthcheck's client: admin over TLS.
cat >/tmp/admin.properties <<PROPERTIES
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$KAFKA_ADMIN_PASSWORD";
ssl.truststore.type=PEM
ssl.truststore.location=/certs/ca.pem
PROPERTIES
if [[ ! -f /var/lib/kafka/data/meta.properties ]]; then
    /opt/kafka/bin/kafka-storage.sh format --cluster-id "$CLUSTER_ID" -c "$props" \
        --add-scram "SCRAM-SHA-512=[name=admin,password=$KAFKA_ADMIN_PASSWORD]"
fi
exec /opt/kafka/bin/kafka-server-start.sh "$props"
