"""Checks for the native local stack (deploy/stack.sh) and the deploy scripts.

Integration tests run against the running *test* stack: deploy/run-tests.sh exports deploy/env/test.env
and starts it. When run by hand (`STACK_NAME=test deploy/stack.sh up` first), the env is read from
deploy/env/test.env instead.
"""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import re
import shutil
import smtplib
import subprocess
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"
COMPONENTS = ("kafka", "ferretdb", "postgres", "smtp", "prometheus")
SERVICE_DATABASES = {"invoices", "numbering", "payments", "mailer"}
# The PostgreSQL major the stack pins; its client comes with the server package.
POSTGRES_MAJOR = re.search(r"^POSTGRES_MAJOR=(\d+)$", (DEPLOY / "stack.sh").read_text(), re.M).group(1)
PSQL = Path("/usr/lib/postgresql") / POSTGRES_MAJOR / "bin" / "psql"
# The throwaway stack's port: below the ephemeral range, and used by neither deploy/env file.
THROWAWAY_POSTGRES_PORT = 15434


def _source_env(env_file: Path) -> dict[str, str]:
    # Sourcing through bash keeps one source of truth for ports (the env file computes STACK_DIR). A bare
    # environment keeps variables exported by the caller (run-tests.sh exports test.env) out of the result.
    out = subprocess.run(
        ["bash", "-c", f'source "{env_file}" && env -0'],
        env={"PATH": os.environ["PATH"]},
        check=True,
        capture_output=True,
    ).stdout.decode()
    return dict(line.split("=", 1) for line in out.split("\0") if "=" in line)


def _test_env() -> dict[str, str]:
    if os.environ.get("STACK_NAME") == "test" and os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        return dict(os.environ)
    return _source_env(DEPLOY / "env" / "test.env")


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    return _test_env()


def _http(method: str, url: str) -> tuple[int, bytes]:
    req = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(req, timeout=5) as resp:
        return resp.status, resp.read()


def _stack(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DEPLOY / "stack.sh"), *args],
        env={**env, "STACK_NAME": "test"},
        capture_output=True,
        text=True,
        timeout=180,
    )


def _password(stack_dir: Path, role: str) -> str:
    return (stack_dir / "postgres" / "credentials" / f"{role}.password").read_text().strip()


def _psql_run(env: dict[str, str], sql: str, database: str = "postgres", role: str = "postgres",
              password: str | None = None) -> subprocess.CompletedProcess[str]:
    """psql over TCP as `role`, with its password from the stack's credentials unless one is given."""
    if password is None:
        password = _password(Path(env["STACK_DIR"]), role)
    return subprocess.run(
        [str(PSQL), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", env["POSTGRES_PORT"],
         "-U", role, "-d", database, "-c", sql],
        env={"PATH": os.environ["PATH"], "PGCONNECT_TIMEOUT": "5", "PGPASSWORD": password},
        capture_output=True,
        text=True,
        timeout=30,
    )


def _psql(env: dict[str, str], sql: str, database: str = "postgres", role: str = "postgres") -> list[str]:
    result = _psql_run(env, sql, database, role)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def _process_user(pid: int) -> str:
    # The real uid, from the first field of the Uid line.
    uid = next(line.split()[1] for line in Path(f"/proc/{pid}/status").read_text().splitlines()
               if line.startswith("Uid:"))
    return pwd.getpwuid(int(uid)).pw_name


def _postgres_pid(stack_dir: Path) -> int:
    return int((stack_dir / "postgres" / "postgres.pid").read_text())


# As root the stack runs PostgreSQL as the OS user postgres (it refuses to run as root); otherwise as us.
EXPECTED_POSTGRES_USER = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name


# ---------------------------------------------------------------- plain checks


@pytest.mark.parametrize("script", sorted(DEPLOY.glob("*.sh")), ids=lambda p: p.name)
def test_deploy_scripts_parse(script: Path) -> None:
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_env_files_do_not_collide() -> None:
    dev, test = _source_env(DEPLOY / "env" / "dev.env"), _source_env(DEPLOY / "env" / "test.env")
    ports = [k for k in dev if k.endswith("_PORT")]
    assert ports
    assert not {dev[k] for k in ports} & {test[k] for k in ports}
    assert dev["STACK_DIR"] != test["STACK_DIR"] and Path(test["STACK_DIR"]).is_absolute()


def _ephemeral_ranges() -> dict[str, range]:
    low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    return {"this machine's": range(low, high + 1), "Linux's default": range(32768, 61000)}


@pytest.mark.parametrize("env_file", sorted((DEPLOY / "env").glob("*.env")), ids=lambda p: p.name)
def test_local_ports_lie_outside_the_ephemeral_range(env_file: Path) -> None:
    # A client retrying a port inside the range can be given that very port as its source and connect
    # to itself, which then holds the port against our server (see ensure_port_free in deploy/lib.sh).
    ports = {k: int(v) for k, v in _source_env(env_file).items() if k.endswith("_PORT")}
    assert ports
    for name, ephemeral in _ephemeral_ranges().items():
        inside = {k: p for k, p in ports.items() if p in ephemeral}
        assert not inside, f"inside {name} ephemeral range {ephemeral.start}-{ephemeral.stop - 1}: {inside}"


# ---------------------------------------------------------------- against the running test stack


@pytest.mark.integration
def test_all_topics_exist(env: dict[str, str]) -> None:
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.errors import KafkaError

    from contracts.topics import all_with_dead_letters

    async def list_topics() -> set[str]:
        # Bootstrap is retried briefly: on a loaded 2-core machine the first metadata request right
        # after `up` has been seen to fail once; a broker that stays unreachable still fails the test.
        for attempt in range(5):
            password = (Path(env["KAFKA_CREDENTIALS_DIR"]) / "admin.password").read_text().strip()
            admin = AIOKafkaAdminClient(bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"], request_timeout_ms=10000,
                                        security_protocol="SASL_PLAINTEXT", sasl_mechanism="SCRAM-SHA-512",
                                        sasl_plain_username="admin", sasl_plain_password=password)
            try:
                await admin.start()
                return set(await admin.list_topics())
            except KafkaError:
                if attempt == 4:
                    raise
                await asyncio.sleep(1)
            finally:
                await admin.close()
        raise AssertionError("unreachable")

    topics = asyncio.run(list_topics())
    missing = set(all_with_dead_letters()) - topics
    assert not missing, f"missing topics: {sorted(missing)}"


@pytest.mark.integration
def test_ferretdb_ping_and_round_trip(env: dict[str, str]) -> None:
    import pymongo

    client = pymongo.MongoClient(env["MONGODB_URL"], serverSelectionTimeoutMS=3000)
    try:
        assert client.admin.command("ping")["ok"] == 1
        coll = client["stack_selftest"]["items"]
        key = uuid.uuid4().hex
        coll.insert_one({"_id": key, "amount": 42})
        assert coll.find_one({"_id": key}) == {"_id": key, "amount": 42}
        coll.delete_one({"_id": key})
    finally:
        client.close()


@pytest.mark.integration
def test_smtp_catcher_stores_mail(env: dict[str, str]) -> None:
    api = f"http://127.0.0.1:{env['SMTP_CATCHER_HTTP_PORT']}"
    subject = f"stack self-test {uuid.uuid4().hex}"
    msg = EmailMessage()
    msg["From"] = "billing@example.com"
    msg["To"] = "customer@example.com"
    msg["Subject"] = subject
    msg.set_content("Your invoice is attached.")
    with smtplib.SMTP(env["SMTP_HOST"], int(env["SMTP_PORT"]), timeout=5) as smtp:
        smtp.send_message(msg)

    status, body = _http("GET", f"{api}/messages")
    assert status == 200
    matching = [m for m in json.loads(body) if m["subject"] == subject]
    assert len(matching) == 1
    stored = matching[0]
    assert stored["mail_from"] == "billing@example.com"
    assert stored["rcpt_tos"] == ["customer@example.com"]
    assert json.loads(body)[-1]["id"] == stored["id"], "newest message must be last"

    status, raw = _http("GET", f"{api}/messages/{stored['id']}")
    assert status == 200
    assert subject.encode() in raw


@pytest.mark.integration
def test_smtp_catcher_simulated_failures(env: dict[str, str]) -> None:
    with smtplib.SMTP(env["SMTP_HOST"], int(env["SMTP_PORT"]), timeout=5) as smtp:
        smtp.ehlo()
        smtp.mail("billing@example.com")
        code, reply = smtp.rcpt("bounce-1@example.com")
        assert code == 550 and b"5.1.1" in reply
        code, reply = smtp.rcpt("tempfail-1@example.com")
        assert code == 451 and b"4.3.0" in reply
        smtp.rset()

    with pytest.raises(smtplib.SMTPRecipientsRefused) as exc_info:
        with smtplib.SMTP(env["SMTP_HOST"], int(env["SMTP_PORT"]), timeout=5) as smtp:
            smtp.sendmail("billing@example.com", ["bounce.me@example.com"], b"Subject: x\r\n\r\nx\r\n")
    assert exc_info.value.recipients["bounce.me@example.com"][0] == 550


@pytest.mark.integration
def test_second_up_is_a_quick_no_op(env: dict[str, str]) -> None:
    stack_dir = Path(env["STACK_DIR"])
    pids_before = {c: (stack_dir / c / f"{c}.pid").read_text() for c in COMPONENTS}
    started = time.monotonic()
    result = _stack(env, "up")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    for c in COMPONENTS:
        assert f"{c}: already running" in result.stdout
    assert "starting" not in result.stdout
    assert {c: (stack_dir / c / f"{c}.pid").read_text() for c in COMPONENTS} == pids_before
    assert elapsed < 20, f"warm `up` took {elapsed:.1f}s"


@pytest.mark.integration
def test_status_reports_all_running(env: dict[str, str]) -> None:
    result = _stack(env, "status")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(COMPONENTS)
    for c, line in zip(COMPONENTS, lines, strict=True):
        assert line.split()[:2] == [c, "running"], line


@pytest.mark.integration
def test_postgres_serves_the_service_databases(env: dict[str, str]) -> None:
    port = env["POSTGRES_PORT"]
    assert env["POSTGRES_URL"] == f"postgresql://127.0.0.1:{port}/"
    assert _psql(env, "select current_user") == ["postgres"]
    assert SERVICE_DATABASES <= set(_psql(env, "select datname from pg_database"))
    for database in SERVICE_DATABASES:
        assert _psql(env, "select current_user, current_database()", database, role=database) == [
            f"{database}|{database}"]
    assert _psql(env, "show server_version_num")[0].startswith(POSTGRES_MAJOR)
    # The test stack's data is throwaway: no flushes to disk.
    assert _psql(env, "select setting from pg_settings where name in"
                 " ('fsync', 'synchronous_commit', 'full_page_writes')") == ["off"] * 3
    assert int(_psql(env, "show max_connections")[0]) >= 200
    assert _process_user(_postgres_pid(Path(env["STACK_DIR"]))) == EXPECTED_POSTGRES_USER


@pytest.mark.integration
def test_each_service_role_owns_its_database_alone_and_is_no_superuser(env: dict[str, str]) -> None:
    stack_dir = Path(env["STACK_DIR"])
    credentials = stack_dir / "postgres" / "credentials"
    assert credentials.stat().st_mode & 0o777 == 0o700
    for role in (*SERVICE_DATABASES, "postgres"):
        assert (credentials / f"{role}.password").stat().st_mode & 0o777 == 0o600
    rights = _psql(env, "select rolname, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls"
                        " from pg_roles where rolname in ('invoices', 'numbering', 'payments', 'mailer')")
    assert sorted(rights) == sorted(f"{role}|f|f|f|f|f" for role in SERVICE_DATABASES)
    for database in SERVICE_DATABASES:
        owner = _psql(env, f"select pg_get_userbyid(datdba) from pg_database where datname = '{database}'")
        assert owner == [database]
    # Passwords, SCRAM: no trust left, and a wrong password gets nowhere.
    assert _psql(env, "select count(*) from pg_authid where rolname in ('invoices', 'numbering', 'payments',"
                      " 'mailer', 'postgres') and rolpassword like 'SCRAM-SHA-256$%'") == ["5"]
    wrong = _psql_run(env, "select 1", "invoices", "invoices", password="not-the-password")
    assert wrong.returncode != 0 and "password authentication failed" in wrong.stderr
    # No role reaches another service's database, nor the maintenance ones.
    for role in SERVICE_DATABASES:
        for database in (*(SERVICE_DATABASES - {role}), "postgres", "template1"):
            refused = _psql_run(env, "select 1", database, role)
            assert refused.returncode != 0 and "permission denied" in refused.stderr, (role, database)
        refused = _psql_run(env, "create database another", role, role)
        assert refused.returncode != 0 and "permission denied" in refused.stderr
        refused = _psql_run(env, "create role another", role, role)
        assert refused.returncode != 0 and "permission denied" in refused.stderr
    # The services run as their roles: every table of a service's database is its role's.
    for database in SERVICE_DATABASES:
        assert _psql(env, "select count(*) from pg_tables where schemaname = 'public' and tableowner <> current_user",
                     database, role=database) == ["0"]


# ---------------------------------------------------------------- on a throwaway stack


def _throwaway(env: dict[str, str], stack_dir: Path) -> Iterator[dict[str, str]]:
    ports = {v for f in ("dev.env", "test.env") for k, v in _source_env(DEPLOY / "env" / f).items()
             if k.endswith("_PORT")}
    assert str(THROWAWAY_POSTGRES_PORT) not in ports
    stack_dir.mkdir(parents=True)
    env_file = stack_dir / "stack.env"
    env_file.write_text(
        f'source "{DEPLOY / "env" / "test.env"}"\n'
        "export STACK_NAME=throwaway\n"
        f'export STACK_DIR="{stack_dir}"\n'
        f"export POSTGRES_PORT={THROWAWAY_POSTGRES_PORT}\n"
        'export POSTGRES_URL="postgresql://127.0.0.1:$POSTGRES_PORT/"\n'
        # The dev stack's durable settings, the side the test stack does not show.
        "export POSTGRES_DURABLE=1\n"
    )
    stack_env = {**env, "STACK_ENV_FILE": str(env_file)}
    try:
        yield {**_source_env(env_file), "STACK_ENV_FILE": str(env_file)}
    finally:
        _stack(stack_env, "down", "postgres")
        data = stack_dir / "postgres" / "data"
        if data.is_symlink():  # as root the server's files live outside the stack dir (deploy/stack.sh, pg_home)
            shutil.rmtree(Path(os.path.realpath(data)).parent, ignore_errors=True)
        shutil.rmtree(stack_dir)


@pytest.fixture
def throwaway_stack(env: dict[str, str]) -> Iterator[dict[str, str]]:
    """An env for deploy/stack.sh whose state dir and ports are its own: the test env with another STACK_DIR
    and POSTGRES_PORT, so `down` never stops a component of the test stack."""
    yield from _throwaway(env, REPO_ROOT / ".cache" / f"stack-throwaway-{uuid.uuid4().hex[:8]}")


@pytest.mark.integration
def test_postgres_component_lifecycle(throwaway_stack: dict[str, str]) -> None:
    env = throwaway_stack
    stack_dir = Path(env["STACK_DIR"])

    first = _stack(env, "up", "postgres")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "postgres: initdb" in first.stdout and "postgres: healthy after" in first.stdout
    pid = _postgres_pid(stack_dir)
    assert _process_user(pid) == EXPECTED_POSTGRES_USER
    data = os.path.realpath(stack_dir / "postgres" / "data")
    assert f"-D {data} " in Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    assert _psql(env, "select current_user") == ["postgres"]
    assert SERVICE_DATABASES <= set(_psql(env, "select datname from pg_database"))
    assert _psql(env, "show fsync") == ["on"]
    _psql(env, "create table kept (id int); insert into kept values (7)", "invoices")

    again = _stack(env, "up", "postgres")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "postgres: already running" in again.stdout and "starting" not in again.stdout
    assert _postgres_pid(stack_dir) == pid

    status = _stack(env, "status", "postgres")
    assert status.returncode == 0 and status.stdout.split()[:2] == ["postgres", "running"], status.stdout

    down = _stack(env, "down", "postgres")
    assert down.returncode == 0, down.stdout + down.stderr
    assert "postgres: stopped" in down.stdout
    assert not Path(f"/proc/{pid}").exists()
    assert not (stack_dir / "postgres" / "postgres.pid").exists()
    assert _stack(env, "status", "postgres").returncode != 0

    # Warm start: the data dir is kept, so no initdb and the data is still there.
    warm = _stack(env, "up", "postgres")
    assert warm.returncode == 0, warm.stdout + warm.stderr
    assert "initdb" not in warm.stdout
    assert _psql(env, "select id from kept", "invoices") == ["7"]

    # What run-tests.sh asks for when it owns the stack: every service database empty again.
    reset = _stack({**env, "POSTGRES_RESET_DATABASES": "1"}, "up", "postgres")
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert _psql(env, "select count(*) from pg_tables where tablename = 'kept'", "invoices") == ["0"]


@pytest.mark.integration
def test_postgres_refuses_a_data_dir_of_another_major(throwaway_stack: dict[str, str]) -> None:
    data = Path(throwaway_stack["STACK_DIR"]) / "postgres" / "data"
    data.mkdir(parents=True)
    (data / "PG_VERSION").write_text("9\n")
    result = _stack(throwaway_stack, "up", "postgres")
    assert result.returncode != 0
    assert f"was initialised by PostgreSQL 9, the stack runs {POSTGRES_MAJOR}" in result.stderr
    assert (data / "PG_VERSION").read_text() == "9\n", "a data dir of another major must be left alone"


@pytest.mark.integration
@pytest.mark.skipif(os.geteuid() != 0, reason="as root only: otherwise the server runs as ourselves")
def test_postgres_starts_from_a_stack_dir_in_a_private_home_folder(env: dict[str, str]) -> None:
    """As root in a folder nobody else may enter (a mode-700 home, or a checkout in /root): the OS user
    postgres cannot reach the stack dir, so the server's data and socket live in a directory of the
    stack's own under the postgres user's home, named after the stack dir's path."""
    private = Path(tempfile.mkdtemp(prefix="private-", dir=Path.home()))
    try:
        private.chmod(0o700)
        stacks = _throwaway(env, private / "checkout" / ".cache" / "stack-private")
        stack = next(stacks)
        try:
            up = _stack(stack, "up", "postgres")
            assert up.returncode == 0, up.stdout + up.stderr
            stack_dir = Path(stack["STACK_DIR"])
            data = Path(os.path.realpath(stack_dir / "postgres" / "data"))
            assert not data.is_relative_to(private) and data.owner() == "postgres"
            assert data.parent.stat().st_mode & 0o777 == 0o700
            assert _process_user(_postgres_pid(stack_dir)) == "postgres"
            assert _psql(stack, "select current_user", "mailer", role="mailer") == ["mailer"]
            assert (data.parent / "run" / f".s.PGSQL.{stack['POSTGRES_PORT']}").is_socket()
            # Deleting the stack dir is a clean slate for its server's files too.
            assert _stack(stack, "down", "postgres").returncode == 0
            shutil.rmtree(stack_dir / "postgres")
            again = _stack(stack, "up", "postgres")
            assert again.returncode == 0 and "postgres: initdb" in again.stdout, again.stdout + again.stderr
            assert _psql(stack, "select current_user", "mailer", role="mailer") == ["mailer"]
        finally:
            stacks.close()
    finally:
        shutil.rmtree(private, ignore_errors=True)
