"""The `invoicing` CLI against the real stack: what the README tells a newcomer to type, the
answers a person reads, and the exit codes a script relies on (cli/exit_codes.py)."""

import asyncio
import json
import os
import subprocess
import sys
import uuid

from cli.exit_codes import ExitCode
from contracts.example_data import examples
from contracts.messages.invoices import FinalizeInvoice
from tests.integration.factories import CUSTOMER_ADDRESS, configure_account, create_invoice
from tests.integration.harness import env


async def invoicing(*args: str, stdin: str = "", api_key: str | None = None,
                    account: str | None = None) -> subprocess.CompletedProcess:
    """In a thread, from async tests: the session's event log keeps heartbeating to its Kafka
    group meanwhile (a sync test of more than its 10-second session timeout drops it from the
    group, and the tests after it see nothing)."""
    environment = {**os.environ, "COLUMNS": "250", "LC_ALL": "C.UTF-8",
                   **({"INVOICING_API_KEY": api_key} if api_key else {})}
    environment.pop("INVOICING_ACCOUNT", None)
    if account:
        environment["INVOICING_ACCOUNT"] = account
    return await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "cli", *args], input=stdin, capture_output=True, text=True, timeout=60,
        env=environment,
    )


async def publish(type_name: str, data: dict | str, *args: str, account: str | None = None) -> subprocess.CompletedProcess:
    return await invoicing("publish", type_name, "-", "--bootstrap", env("KAFKA_BOOTSTRAP_SERVERS"), *args,
                           stdin=data if isinstance(data, str) else json.dumps(data), account=account)


async def test_publish_validates_then_shows_the_answer(services, account_id):
    configure = examples()["account.configure"].model_dump(mode="json") | {"account_id": account_id}
    result = await publish("account.configure", configure, "--account", account_id, "--wait", "8", "--json")
    assert result.returncode == ExitCode.OK, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["type"] for a in answers] == ["account.configure", "account.configured"]
    assert answers[1]["data"]["settings"]["payee_iban"] == "DE89370400440532013000"
    # A person reads one line; the account comes from INVOICING_ACCOUNT and fills the document.
    del configure["account_id"]
    again = await publish("account.configure", configure, "--wait", "8", account=account_id)
    assert again.returncode == ExitCode.OK, again.stderr
    assert again.stdout.splitlines() == [f"account.configured {account_id}"]


async def test_a_rejected_command_exits_7_and_says_why(services, account_id):
    result = await publish("invoice.finalize", {"invoice_id": "inv_nobody_made"}, "--account", account_id)
    assert result.returncode == ExitCode.REJECTED, result.stdout + result.stderr
    assert result.stdout.startswith("rejected: unknown_invoice — ")
    assert len(result.stdout.splitlines()) == 1 and "Traceback" not in result.stderr


async def test_a_finalized_invoice_is_said_in_one_line(services, account_id):
    assert (await publish("account.configure", configure_account(account_id).model_dump(mode="json"),
                          "-a", account_id)).returncode == ExitCode.OK
    invoice_id = f"inv_{uuid.uuid4().hex[:10]}"
    created = await publish("invoice.create", create_invoice(invoice_id).model_dump(mode="json"), "-a", account_id)
    assert created.returncode == ExitCode.OK and created.stdout.startswith(f"invoice.created {invoice_id}: draft")
    finalized = await publish("invoice.finalize", FinalizeInvoice(invoice_id=invoice_id).model_dump(mode="json"),
                              "-a", account_id)
    assert finalized.returncode == ExitCode.OK, finalized.stderr
    said = [line for line in finalized.stdout.splitlines() if line.startswith("invoice.finalized")]
    assert len(said) == 1 and f"invoice.finalized {invoice_id}: open, " in said[0] and " due " in said[0]


async def test_nothing_answering_exits_8(services, account_id):
    # Every reading service takes a key's revocation in silence: nothing of its flow answers.
    revoked = {"key_id": f"key_{uuid.uuid4().hex[:16]}", "account_id": account_id,
               "revoked_at": "2026-12-01T10:00:00Z"}
    result = await publish("api_key.revoked", revoked, "-a", account_id, "--wait", "3")
    assert result.returncode == ExitCode.NO_ANSWER, result.stdout + result.stderr
    assert "no answer within 3 s" in result.stderr


async def test_the_account_is_named_once_and_a_mismatch_is_refused_before_publishing(services, account_id):
    configure = configure_account(account_id).model_dump(mode="json")
    mismatch = await publish("account.configure", configure, "--account", "acct_someone_else")
    assert mismatch.returncode == ExitCode.BAD_INPUT
    assert f"the data names account {account_id} but --account is acct_someone_else" in mismatch.stderr
    missing = await publish("account.configure", configure)
    assert missing.returncode == ExitCode.BAD_INPUT
    assert missing.stderr.strip() == "no account: pass --account or set INVOICING_ACCOUNT"


async def test_publish_refuses_invalid_data_and_unreadable_files_in_one_sentence(services):
    result = await publish("invoice.create", '{"invoice_id": "inv 1"}', "-a", "acct_1")
    assert result.returncode == ExitCode.BAD_INPUT
    assert "invalid invoice.create" in result.stderr and "currency" in result.stderr
    for broken, said in ((await invoicing("publish", "invoice.create", "no-such.json", "-a", "acct_1"),
                          "cannot read no-such.json: No such file or directory"),
                         (await publish("invoice.create", "{not json", "-a", "acct_1"),
                          "standard input is no JSON document")):
        assert broken.returncode == ExitCode.BAD_INPUT and said in broken.stderr
        assert "Traceback" not in broken.stderr and len(broken.stderr.strip().splitlines()) == 1


async def test_kafka_away_is_one_sentence_and_exit_4():
    result = await invoicing("publish", "invoice.finalize", "-", "-a", "acct_1", "--bootstrap", "127.0.0.1:9",
                             stdin='{"invoice_id": "inv_1"}')
    assert result.returncode == ExitCode.UNREACHABLE
    assert "Kafka at 127.0.0.1:9 did not answer" in result.stderr and "Traceback" not in result.stderr


async def test_types_and_examples_are_listed():
    result = await invoicing("types")
    assert "invoices.commands" in result.stdout and "invoice.finalize" in result.stdout
    assert json.loads((await invoicing("example", "payment.record")).stdout)["method"] == "cash"


# Needs parts 1 and 4 of issue 17 merged (the PDF route and hosted_url of the read API; the
# mailer's mail.unsuppress): written against the contract.


async def test_show_names_the_hosted_page_and_pdf_downloads_the_document(services, account_id, tmp_path):
    from tests.integration.test_read_api import accepted_everywhere, new_key

    assert (await publish("account.configure", configure_account(account_id).model_dump(mode="json"),
                          "-a", account_id)).returncode == ExitCode.OK
    invoice_id, draft_id = f"inv_{uuid.uuid4().hex[:10]}", f"inv_{uuid.uuid4().hex[:10]}"
    for made in (invoice_id, draft_id):
        assert (await publish("invoice.create", create_invoice(made).model_dump(mode="json"),
                              "-a", account_id)).returncode == ExitCode.OK
    assert (await publish("invoice.finalize", {"invoice_id": invoice_id}, "-a", account_id)).returncode == ExitCode.OK
    key = (await new_key(account_id))["key"]
    await accepted_everywhere(key)
    shown = await invoicing("invoices", "show", invoice_id, api_key=key)
    assert shown.returncode == ExitCode.OK, shown.stderr
    assert shown.stdout.splitlines()[-1].startswith("hosted page: http") and f"/i/{invoice_id}/" in shown.stdout
    target = tmp_path / "invoice.pdf"
    downloaded = await invoicing("invoices", "pdf", invoice_id, "-o", str(target), api_key=key)
    assert downloaded.returncode == ExitCode.OK, downloaded.stderr
    assert target.read_bytes().startswith(b"%PDF")
    assert (await invoicing("invoices", "pdf", invoice_id, "-o", str(target), api_key=key)).returncode \
        == ExitCode.BAD_INPUT  # exists: --force
    draft = await invoicing("invoices", "pdf", draft_id, "-o", str(tmp_path / "draft.pdf"), api_key=key)
    assert draft.returncode == ExitCode.BAD_INPUT and f"invoice {draft_id}: " in draft.stderr
    unknown = await invoicing("invoices", "pdf", "inv_nobody_made", "-o", str(tmp_path / "no.pdf"), api_key=key)
    assert unknown.returncode == ExitCode.NOT_FOUND


async def test_unsuppress_lifts_a_bounced_address_and_refuses_one_not_suppressed(services, event_log, account_id):
    domain = f"{uuid.uuid4().hex[:8]}.example"
    gone = f"bounce-gone@{domain}"  # the SMTP catcher bounces it
    assert (await publish("account.configure", configure_account(account_id).model_dump(mode="json"),
                          "-a", account_id)).returncode == ExitCode.OK
    invoice_id = f"inv_{uuid.uuid4().hex[:10]}"
    customer = {"name": "Gone Ltd", "email": [gone], "language": "en", "address": CUSTOMER_ADDRESS.model_dump(mode="json")}
    assert (await publish("invoice.create", create_invoice(invoice_id).model_dump(mode="json") | {"customer": customer},
                          "-a", account_id)).returncode == ExitCode.OK
    assert (await publish("invoice.finalize", {"invoice_id": invoice_id}, "-a", account_id)).returncode == ExitCode.OK
    # The bounce comes when the mailer's batch has tried the address: later than publish's --settle.
    assert (await publish("invoice.send", {"invoice_id": invoice_id}, "-a", account_id, "--wait", "0")).returncode \
        == ExitCode.OK
    await event_log.wait_for_type("mail.bounced", invoice_id)
    lifted = await invoicing("mail", "unsuppress", gone, "--reason", "mailbox fixed", "-a", account_id,
                             "--bootstrap", env("KAFKA_BOOTSTRAP_SERVERS"))
    assert lifted.returncode == ExitCode.OK, lifted.stdout + lifted.stderr
    assert lifted.stdout.startswith(f"mail.unsuppressed {gone}")
    again = await invoicing("mail", "unsuppress", gone, "-a", account_id, "--bootstrap", env("KAFKA_BOOTSTRAP_SERVERS"))
    assert again.returncode == ExitCode.REJECTED and again.stdout.startswith("rejected: ")
