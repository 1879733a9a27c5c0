import fcntl
import os
import uuid
from pathlib import Path

import pytest

from chassis.storage import open_store
from services.payments.adapters.invoices import InvoiceReadModel
from tests.integration.harness import SERVICES, ClockOffsets, EventLog, Producer, ServiceProcesses, database_url, env


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def services():
    """The services under test, as processes. TEST_SERVICES=a,b narrows the set while developing.

    A file lock serialises test sessions that share one test stack: two sets of services in the
    same consumer groups would split the partitions between them.
    """
    stack_dir = Path(env("STACK_DIR"))
    stack_dir.mkdir(parents=True, exist_ok=True)
    with open(stack_dir / "integration.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        processes = ServiceProcesses(stack_dir / "test-services")
        names = os.environ.get("TEST_SERVICES")
        processes.start_all(names.split(",") if names else SERVICES)
        yield processes
        processes.stop_all()


@pytest.fixture(scope="session")
async def event_log(services):
    log = EventLog(env("KAFKA_BOOTSTRAP_SERVERS"))
    await log.start()
    yield log
    await log.stop()


@pytest.fixture(scope="session")
async def producer():
    producer = Producer(env("KAFKA_BOOTSTRAP_SERVERS"))
    await producer.start()
    yield producer
    await producer.stop()


@pytest.fixture
def account_id() -> str:
    """A fresh tenant per test, so tests never see each other's invoices or numbers."""
    return f"acct_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def test_clock(account_id):
    """The test account's time in the invoices service, to move forward (and back when the test ends)."""
    clock = ClockOffsets(Path(env("INVOICES_CLOCK_OFFSETS_FILE")))
    yield clock
    clock.forget(account_id)


@pytest.fixture(scope="session")
def smtp_catcher_url() -> str:
    return f"http://127.0.0.1:{env('SMTP_CATCHER_HTTP_PORT')}"


@pytest.fixture(scope="session")
async def payments_invoices(services):
    """payments' read model of invoices, read through payments' own store."""
    store = open_store(database_url("payments"), "payments")
    await store.open()
    yield InvoiceReadModel(store)
    await store.close()
