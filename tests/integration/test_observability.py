"""Prometheus (from Debian's package, started by the stack) scrapes the four services."""

import time

import httpx

from tests.integration.harness import SERVICES, env, internal_url


def prometheus(query: str) -> list[dict]:
    response = httpx.get(f"http://127.0.0.1:{env('PROMETHEUS_PORT')}/api/v1/query", params={"query": query}, timeout=5)
    response.raise_for_status()
    return response.json()["data"]["result"]


def scraped(query: str, label: str, until, timeout: float = 30) -> dict[str, str]:
    """label value -> sample value, polled until `until` accepts it (scrapes run every 5 s)."""
    deadline = time.monotonic() + timeout
    while True:
        samples = {sample["metric"].get(label): sample["value"][1] for sample in prometheus(query)}
        if until(samples) or time.monotonic() > deadline:
            return samples
        time.sleep(1)


def test_prometheus_scrapes_every_service_and_sees_the_platform_metrics(services):
    all_up = dict.fromkeys(SERVICES, "1")
    up = scraped("up", "job", until=lambda samples: {job: samples.get(job) for job in SERVICES} == all_up)
    assert {job: up.get(job) for job in SERVICES} == all_up
    memory = scraped("process_resident_memory_bytes", "job", until=lambda samples: set(samples) >= set(SERVICES))
    assert set(memory) >= set(SERVICES)
    statuses = scraped("invoicing_invoices", "status", until=bool)
    assert set(statuses) == {"draft", "open", "paid", "void", "uncollectible"}


def test_services_expose_metrics_health_and_their_asyncapi_document(services):
    for service in SERVICES:
        base = internal_url(service, "")
        assert httpx.get(f"{base}/healthz").status_code == 200
        assert httpx.get(f"{base}/readyz").text == "ready"
        metrics = httpx.get(f"{base}/metrics").text
        assert "# TYPE invoicing_handler_duration_seconds histogram" in metrics
        assert "faststream_received_messages_total" in metrics or "faststream_" in metrics
        spec = httpx.get(f"{base}/docs/asyncapi.json")
        assert spec.status_code == 200, f"{service}: {spec.status_code}"
        assert spec.json()["info"]["title"] == f"{service} service"
        # The public port serves none of it.
        public = f"http://127.0.0.1:{env(f'{service.upper()}_HTTP_PORT')}"
        for path in ("/metrics", "/healthz", "/readyz", "/docs/asyncapi", "/docs/asyncapi.json", "/docs/openapi.json"):
            assert httpx.get(f"{public}{path}").status_code == 404, (service, path)
