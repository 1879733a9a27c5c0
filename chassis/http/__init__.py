"""A service's HTTP read API: FastAPI routes beside FastStream's endpoints, every route scoped to
the caller's account by an API key, and the cursor pagination lists share."""
