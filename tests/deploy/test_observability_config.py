"""Static checks of the Docker and observability deployment files (no servers, no Docker needed).

- Prometheus: `promtool check rules`, `promtool test rules` (alerts.test.yml), `promtool check config`.
- Every metric name used by the alerts and the Grafana dashboard is one the services expose.
- Alert conventions (CamelCase name, `for:`, severity, summary/description) and that every alert has a
  firing and a quiet unit test.
- The Grafana dashboard and provisioning files agree with each other and with docker-compose.yml.
- docker-compose.yml names the whole platform, builds the services from deploy/docker/Dockerfile and pins
  every image tag.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
ALERTS = PROMETHEUS_DIR / "alerts.yml"
ALERTS_TEST = PROMETHEUS_DIR / "alerts.test.yml"
PROMETHEUS_COMPOSE = PROMETHEUS_DIR / "prometheus.compose.yml"
GRAFANA_DIR = REPO / "deploy" / "grafana"
DASHBOARD = GRAFANA_DIR / "dashboards" / "invoicing-overview.json"
DATASOURCES = GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml"
DASHBOARD_PROVIDERS = GRAFANA_DIR / "provisioning" / "dashboards" / "dashboards.yml"
COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "deploy" / "docker" / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"

SERVICES = {"invoices": 8001, "numbering": 8002, "payments": 8003, "mailer": 8004}
# Their internal ports: /metrics, /healthz, /readyz, /docs/ (never published).
INTERNAL_PORTS = {"invoices": 8101, "numbering": 8102, "payments": 8103, "mailer": 8104}
INFRASTRUCTURE = {"kafka", "mongo", "mailpit", "prometheus", "grafana"}

# The metric names the services expose (chassis/metrics.py and each service's metrics.py).
COUNTERS = {
    "invoicing_messages_consumed_total",
    "invoicing_messages_published_total",
    "invoicing_commands_rejected_total",
    "invoicing_messages_dead_lettered_total",
    "invoicing_numbers_allocated_total",
    "invoicing_number_gaps_total",
    "invoicing_bank_transactions_total",
    "invoicing_mails_total",
    "invoicing_mail_retries_total",
    "invoicing_store_operations_total",
    "invoicing_store_documents_written_total",
}
GAUGES = {
    "invoicing_invoices",
    "invoicing_mail_queue_depth",
    "invoicing_consumer_lag_records",
    "invoicing_consumer_stalled_seconds",
    "invoicing_numbering_continuity_breaks",
    "invoicing_invoice_clock_delay_seconds",
    "invoicing_audit_differences",  # cli/audit.py, run with --every
}
HISTOGRAMS = {"invoicing_handler_duration_seconds", "invoicing_store_operation_seconds"}
KNOWN_METRICS = (
    COUNTERS
    | GAUGES
    | {f"{h}{suffix}" for h in HISTOGRAMS for suffix in ("_bucket", "_sum", "_count")}
    | {"up"}
)
KNOWN_PREFIXES = ("faststream_", "process_", "python_")

# PromQL words that look like identifiers but are not metric names.
PROMQL_KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "offset", "bool", "inf", "nan", "atan2",
}


# --- helpers ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail(
            "promtool is not on PATH. Install it with `apt-get install prometheus` "
            "(deploy/stack.sh installs it when it starts the local stack)."
        )
    return path


def run_promtool(promtool: str, *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([promtool, *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, (
        f"promtool {' '.join(args)} failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    return result


def load_yaml(path: Path):
    with path.open() as f:
        return yaml.safe_load(f)


def metric_names(expr: str) -> set[str]:
    """Metric names referenced by a PromQL expression (a small tokenizer, enough for our rules and panels)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals
    text = re.sub(r"'(?:[^'\\]|\\.)*'", "''", text)
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges and subqueries, incl. $__rate_interval
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"(?<![A-Za-z0-9_:.$])[A-Za-z_:][A-Za-z0-9_:]*", text):
        word = match.group(0)
        if word.lower() in PROMQL_KEYWORDS:
            continue
        if re.match(r"\s*\(", text[match.end():]):  # function or aggregation operator
            continue
        names.add(word)
    return names


def unknown_metrics(names: set[str]) -> set[str]:
    return {n for n in names if n not in KNOWN_METRICS and not n.startswith(KNOWN_PREFIXES)}


def alert_rules() -> list[dict]:
    return [rule for group in load_yaml(ALERTS)["groups"] for rule in group["rules"] if "alert" in rule]


def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def dashboard_panels(panels: list[dict]) -> list[dict]:
    """All panels, flattening collapsed rows."""
    flat = []
    for panel in panels:
        flat.append(panel)
        flat.extend(dashboard_panels(panel.get("panels", [])))
    return flat


def compose() -> dict:
    return load_yaml(COMPOSE)


# --- the metric-name checker itself ---------------------------------------------------------------


def test_metric_name_extraction():
    expr = (
        'histogram_quantile(0.95, sum by (job, le) (rate(invoicing_handler_duration_seconds_bucket{job=~"a|b"}[5m])))'
        ' / on(job) group_left sum without (instance) (up offset 10m) > 1e3 and bool foo_total'
        " / sum(increase(bar_total[$__range]))"
    )
    assert metric_names(expr) == {"invoicing_handler_duration_seconds_bucket", "up", "foo_total", "bar_total"}
    assert unknown_metrics({"foo_total", "up", "faststream_received_messages_total"}) == {"foo_total"}


# --- Prometheus -------------------------------------------------------------------------------------


def test_promtool_check_rules(promtool):
    run_promtool(promtool, "check", "rules", str(ALERTS.relative_to(REPO)))


def test_promtool_alert_unit_tests(promtool):
    result = run_promtool(promtool, "test", "rules", str(ALERTS_TEST.relative_to(REPO)))
    assert "SUCCESS" in result.stdout + result.stderr


def test_promtool_check_compose_config(promtool, tmp_path):
    # prometheus.compose.yml names alerts.yml relative to itself, as it is mounted in the container.
    config = load_yaml(PROMETHEUS_COMPOSE)
    assert config["rule_files"] == ["alerts.yml"]
    shutil.copy(PROMETHEUS_COMPOSE, tmp_path / "prometheus.yml")
    shutil.copy(ALERTS, tmp_path / "alerts.yml")
    result = run_promtool(promtool, "check", "config", "prometheus.yml", cwd=tmp_path)
    assert "1 rule files found" in result.stdout + result.stderr


def test_compose_scrape_config_targets_the_four_services():
    config = load_yaml(PROMETHEUS_COMPOSE)
    assert config["global"]["scrape_interval"] == "15s"
    jobs = {}
    for scrape in config["scrape_configs"]:
        targets = [t for static in scrape.get("static_configs", []) for t in static["targets"]]
        jobs[scrape["job_name"]] = targets
    for service, port in INTERNAL_PORTS.items():
        assert jobs.get(service) == [f"{service}:{port}"], f"job {service} should scrape {service}:{port}"


def test_alert_rules_follow_conventions():
    rules = alert_rules()
    assert rules, "alerts.yml has no alert rules"
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names)), f"duplicate alert names: {names}"
    for rule in rules:
        name = rule["alert"]
        assert re.fullmatch(r"(?:[A-Z][a-z0-9]*)+", name), f"{name}: alert names are CamelCase"
        assert "for" in rule, f"{name}: give the alert a `for:` duration"
        assert rule.get("labels", {}).get("severity") in {"critical", "warning", "info"}, f"{name}: severity label"
        annotations = rule.get("annotations", {})
        assert annotations.get("summary") and annotations.get("description"), f"{name}: summary and description"


def test_required_alerts_exist():
    exprs = {rule["alert"]: rule["expr"] for rule in alert_rules()}
    wanted = {
        "service down": "up",
        "dead letters": "invoicing_messages_dead_lettered_total",
        "command rejections": "invoicing_commands_rejected_total",
        "slow handlers": "invoicing_handler_duration_seconds_bucket",
        "mail bounces": "invoicing_mails_total",
        "mail queue depth": "invoicing_mail_queue_depth",
        "unmatched bank transactions": "invoicing_bank_transactions_total",
        "numbering gaps": "invoicing_number_gaps_total",
        "numbering continuity": "invoicing_numbering_continuity_breaks",
        "invoice clock behind": "invoicing_invoice_clock_delay_seconds",
        "services disagree": "invoicing_audit_differences",
    }
    for what, metric in wanted.items():
        assert any(metric in metric_names(expr) for expr in exprs.values()), f"no alert for {what} ({metric})"


def test_alert_expressions_use_known_metrics():
    for rule in alert_rules():
        names = metric_names(rule["expr"])
        assert names, f"{rule['alert']}: no metric found in {rule['expr']!r}"
        assert not unknown_metrics(names), f"{rule['alert']}: unknown metrics {unknown_metrics(names)}"


def test_every_alert_has_a_firing_and_a_quiet_unit_test():
    tests = load_yaml(ALERTS_TEST)
    assert tests["rule_files"] == ["alerts.yml"]
    fires, quiet = set(), set()
    for group in tests["tests"]:
        for case in group.get("alert_rule_test", []):
            (fires if case.get("exp_alerts") else quiet).add(case["alertname"])
    for name in (rule["alert"] for rule in alert_rules()):
        assert name in fires, f"{name}: no unit test where it fires"
        assert name in quiet, f"{name}: no unit test where it stays quiet"


# --- Grafana ----------------------------------------------------------------------------------------


def test_datasource_provisioning():
    sources = load_yaml(DATASOURCES)["datasources"]
    prometheus = [s for s in sources if s["type"] == "prometheus"]
    assert len(prometheus) == 1
    assert prometheus[0]["uid"]
    assert prometheus[0]["url"] == "http://prometheus:9090"


def test_dashboard_structure():
    board = dashboard()
    assert board["schemaVersion"] == 39
    assert board["uid"] == "invoicing-overview"
    assert board.get("id") is None, "provisioned dashboards must not carry a database id"
    panels = dashboard_panels(board["panels"])
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    assert all("gridPos" in p for p in panels)


def test_every_dashboard_panel_has_datasource_and_targets():
    uid = load_yaml(DATASOURCES)["datasources"][0]["uid"]
    panels = [p for p in dashboard_panels(dashboard()["panels"]) if p["type"] != "row"]
    assert len(panels) >= 10
    for panel in panels:
        title = panel["title"]
        assert panel.get("datasource") == {"type": "prometheus", "uid": uid}, f"{title}: datasource by uid {uid}"
        assert panel.get("targets"), f"{title}: no targets"
        for target in panel["targets"]:
            assert target.get("expr"), f"{title}: target without expr"
            assert target.get("datasource", {}).get("uid") in (None, uid), f"{title}: target datasource"


def test_dashboard_queries_use_known_metrics():
    for panel in dashboard_panels(dashboard()["panels"]):
        for target in panel.get("targets", []):
            names = metric_names(target["expr"])
            assert names, f"{panel['title']}: no metric in {target['expr']!r}"
            assert not unknown_metrics(names), f"{panel['title']}: unknown metrics {unknown_metrics(names)}"


def test_dashboard_covers_the_platform_metrics():
    used = set()
    for panel in dashboard_panels(dashboard()["panels"]):
        for target in panel.get("targets", []):
            used |= metric_names(target["expr"])
    expected = (COUNTERS | GAUGES | {"up", "invoicing_handler_duration_seconds_bucket"})
    assert expected <= used, f"dashboard misses {sorted(expected - used)}"


def test_dashboard_provider_path_matches_compose_mount():
    providers = load_yaml(DASHBOARD_PROVIDERS)["providers"]
    paths = {p["options"]["path"] for p in providers}
    mounts = compose()["services"]["grafana"]["volumes"]
    mounted = {m.split(":")[1] for m in mounts if m.startswith("./deploy/grafana/dashboards")}
    assert paths <= mounted, f"provider paths {paths} are not mounted ({mounted})"


# --- docker-compose.yml and Dockerfile --------------------------------------------------------------


def test_compose_names_the_platform():
    services = set(compose()["services"])
    missing = (set(SERVICES) | INFRASTRUCTURE) - services
    assert not missing, f"docker-compose.yml misses {sorted(missing)}"


def test_compose_builds_services_from_the_dockerfile():
    services = compose()["services"]
    for name, port in SERVICES.items():
        service = services[name]
        build = service["build"]
        assert (REPO / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
        assert build["args"]["SERVICE"] == name
        env = service["environment"]
        assert str(env["HTTP_PORT"]) == str(port)
        assert str(env["INTERNAL_PORT"]) == str(build["args"]["INTERNAL_PORT"]) == str(INTERNAL_PORTS[name])
        assert not any(str(INTERNAL_PORTS[name]) in str(published) for published in service.get("ports", []))
        assert env["CURSOR_SECRET"] == "${CURSOR_SECRET:?set CURSOR_SECRET}"
        assert env["HTTP_HOST"] == "0.0.0.0"
        assert env["KAFKA_BOOTSTRAP_SERVERS"] and env["DATABASE_URL"].startswith(f"mongodb://{name}:${{MONGO_")
        assert "@mongo:27017/" in env["DATABASE_URL"]
        assert (f"{port}:{port}" in service.get("ports", [])) == (name in PUBLIC_HTTP)
        deps = service["depends_on"]
        assert deps["kafka"]["condition"] == "service_healthy"
        assert deps["mongo"]["condition"] == "service_healthy"
        assert deps["kafka-init"]["condition"] == "service_completed_successfully"
    assert services["mailer"]["environment"]["SMTP_HOST"] == "mailpit"


def test_compose_images_are_pinned():
    for name, service in compose()["services"].items():
        image = service.get("image")
        if image is None:
            assert "build" in service, f"{name}: neither image nor build"
            continue
        assert "@sha256:" in image or ":" in image.rsplit("/", 1)[-1], f"{name}: image {image} has no tag"
        assert not image.endswith(":latest"), f"{name}: image {image} uses the latest tag"


def test_compose_healthchecks_and_topic_init():
    services = compose()["services"]
    for name in ("kafka", "mongo"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name}: needs a healthcheck"
    # Topics, users and ACLs come from contracts/topics.py through the local stack's own provisioning.
    init = services["kafka-init"]
    assert init["command"] == ["python", "deploy/provision_kafka.py"]
    assert init["environment"]["KAFKA_PASSWORDS_FROM_ENV"] == "1"
    assert "COPY deploy/provision_kafka.py" in DOCKERFILE.read_text()
    assert init["depends_on"]["kafka"]["condition"] == "service_healthy"


# Published to the host: the hosted invoice page and the read APIs, nothing else (operators' UIs on loopback).
PUBLIC_HTTP = {"invoices", "numbering", "payments"}
SECRET_VARIABLES = re.compile(r"\$\{((?:KAFKA|MONGO|GRAFANA)_[A-Z_]*PASSWORD)([^}]*)\}")


def test_compose_publishes_only_the_public_http_and_loopback_uis():
    for name, service in compose()["services"].items():
        for port in service.get("ports", []):
            if name in PUBLIC_HTTP:
                continue
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond the host's loopback"
    assert "ports" not in compose()["services"]["kafka"]
    assert "ports" not in compose()["services"]["mongo"]


def test_compose_has_no_default_password():
    text = COMPOSE.read_text()
    found = SECRET_VARIABLES.findall(text)
    assert found
    for variable, rest in found:
        if variable == "KAFKA_INTEGRATOR_ACME_PASSWORD":
            continue  # an example integrator: empty unless named in KAFKA_INTEGRATORS
        assert rest.startswith(":?"), f"${{{variable}{rest}}} must fail when unset, not fall back to a default"
    assert "admin/admin" not in text and "GRAFANA_ADMIN_PASSWORD:-" not in text
    secrets_script = (REPO / "deploy" / "docker" / "secrets.sh").read_text()
    for variable in {v for v, _ in found} - {"KAFKA_INTEGRATOR_ACME_PASSWORD"}:
        assert variable.removesuffix("_PASSWORD") in secrets_script, f"deploy/docker/secrets.sh does not make {variable}"


def test_compose_kafka_runs_the_trust_model():
    services = compose()["services"]
    start = (REPO / "deploy" / "docker" / "kafka" / "start.sh").read_text()
    for line in ("listener.security.protocol.map=CLIENT:SASL_SSL,CONTROLLER:SASL_PLAINTEXT",
                 "listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512",
                 "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                 "allow.everyone.if.no.acl.found=false", "super.users=User:admin;User:controller",
                 "CONTROLLER://localhost:9093", "--add-scram"):
        assert line in start, f"deploy/docker/kafka/start.sh lacks {line}"
    for name in SERVICES:
        env = services[name]["environment"]
        assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL" and env["KAFKA_SSL_CAFILE"] == "/certs/ca.pem"
        assert env["KAFKA_SASL_USERNAME"] == name
        assert env["KAFKA_SASL_PASSWORD"] == f"${{KAFKA_{name.upper()}_PASSWORD:?set KAFKA_{name.upper()}_PASSWORD}}"
    assert "--web.enable-lifecycle" not in services["prometheus"]["command"]
    assert services["grafana"]["environment"]["GF_AUTH_ANONYMOUS_ENABLED"] == "false"


def test_compose_bind_mounts_exist():
    for name, service in compose()["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (REPO / source).exists(), f"{name}: mounts missing {source}"


def test_dockerfile():
    text = DOCKERFILE.read_text()
    uv_version = re.search(r"^UV_VERSION := (\S+)", (REPO / "Makefile").read_text(), re.M).group(1)
    assert re.search(r"^FROM python:3\.11-slim", text, re.M)
    assert f"UV_VERSION={uv_version}" in text, f"Dockerfile should install uv {uv_version}, like the Makefile"
    assert "uv sync --frozen --no-dev --no-install-project" in text
    assert re.search(r"^USER (?!root)\S+", text, re.M), "run as a non-root user"
    assert re.search(r"^HEALTHCHECK .*", text, re.M) and "/healthz" in text and "INTERNAL_PORT" in text
    assert re.search(r"^EXPOSE ", text, re.M)
    assert "services.${SERVICE}" in text


def test_dockerignore():
    entries = {line.strip().rstrip("/") for line in DOCKERIGNORE.read_text().splitlines()}
    for entry in (".git", ".venv", ".cache"):
        assert entry in entries, f".dockerignore should exclude {entry}"
