"""The service chassis every service runs on: Kafka binding, idempotent consumption, dead
letters, outbox, metrics, health and JSON logs.

It lives in contracts/ because it *is* the wire contract in executable form (how a CloudEvent is
encoded, deduplicated, answered and dead-lettered) and the guide allows services to share
contracts/ only. It holds no business rule of any service.
"""
