"""The `invoicing` CLI against the real stack: what the README tells a newcomer to type."""

import asyncio
import json
import os
import subprocess
import sys

from contracts.example_data import examples


async def invoicing(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    """In a thread, from async tests: the session's event log keeps heartbeating to its Kafka
    group meanwhile (a sync test of more than its 10-second session timeout drops it from the
    group, and the tests after it see nothing)."""
    return await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "cli", *args], input=stdin, capture_output=True, text=True, timeout=60,
        env=os.environ,
    )


async def test_publish_validates_then_shows_the_answer(services, account_id):
    configure = examples()["account.configure"].model_dump(mode="json") | {"account_id": account_id}
    result = await invoicing("publish", "account.configure", "-", "--account", account_id, "--wait", "8", stdin=json.dumps(configure))
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["type"] for a in answers] == ["account.configure", "account.configured"]
    assert answers[1]["data"]["settings"]["payee_iban"] == "DE89370400440532013000"


async def test_publish_refuses_invalid_data_with_a_clear_message(services):
    result = await invoicing("publish", "invoice.create", "-", stdin='{"invoice_id": "inv 1"}')
    assert result.returncode == 2
    assert "invalid invoice.create" in result.stderr and "currency" in result.stderr


async def test_types_and_examples_are_listed():
    result = await invoicing("types")
    assert "invoices.commands" in result.stdout and "invoice.finalize" in result.stdout
    assert json.loads((await invoicing("example", "payment.record")).stdout)["method"] == "cash"
