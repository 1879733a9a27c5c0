"""A service's HTTP read API: FastAPI routes on the service's public port, every route scoped to
the caller's account by an API key, its input checked in one place, and the signed cursor
pagination lists share."""
