"""The service framework every service runs on: consumption, unit of work, outbox, storage,
metrics and health. It holds no business rule and knows no service."""
