"""`invoicing invoices send` against the real stack: the list's filters select the invoices, each
gets one mail, the summary tells what became of every one, and running it again sends nothing."""

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx

from cli.exit_codes import ExitCode
from contracts.messages import MessageData
from contracts.messages.common import Customer
from contracts.messages.invoices import FinalizeInvoice, SendInvoice
from tests.integration.factories import CUSTOMER_ADDRESS, configure_account, create_invoice
from tests.integration.harness import env
from tests.integration.test_read_api import accepted_everywhere, invoicing, new_key

# Due on the day they are issued; the account's clock then moves two days on, and they are past due
# (a due date before the issue date is refused).
PAST = date.today()
LATER = date(2030, 6, 30)


async def send(key: str, account: str, *args: str, exits: int = ExitCode.PARTLY_FAILED) -> dict:
    """The run's summary; a run with an invoice that did not end sent exits with 9."""
    result = await invoicing("invoices", "send", "--account", account, "--status", "open", "--past-due", "--json",
                             "--bootstrap", env("KAFKA_BOOTSTRAP_SERVERS"), *args, api_key=key)
    assert result.returncode == exits, result.stderr
    return json.loads(result.stdout)


def mails_to(catcher: str, domain: str) -> list[str]:
    messages = httpx.get(f"{catcher}/messages", timeout=10).json()
    return sorted(r for m in messages for r in m["rcpt_tos"] if r.endswith(f"@{domain}"))


async def test_bulk_send_of_the_past_due_invoices_reports_every_outcome_and_never_sends_twice(
        services, producer, event_log, account_id, smtp_catcher_url, monkeypatch, tmp_path, test_clock):
    monkeypatch.setenv("INVOICING_STATE_DIR", str(tmp_path))  # where the CLI remembers today's runs
    domain = f"{uuid.uuid4().hex[:8]}.example"

    async def ask(message: MessageData, answer_type: str) -> None:
        sent = await producer.send(message, account_id=account_id)
        await event_log.wait_for(lambda r: r.type == answer_type
                                 and r.headers.get("ce_correlationid") == str(sent.correlationid), timeout=30)

    async def invoice(name: str, email: list[str], due_date: date, finalize: bool = True) -> str:
        invoice_id = f"inv_{name}_{uuid.uuid4().hex[:8]}"
        customer = Customer(name=f"Customer {name}", email=email, language="en", address=CUSTOMER_ADDRESS)
        await ask(create_invoice(invoice_id, customer=customer, due_date=due_date), "invoice.created")
        if finalize:
            await ask(FinalizeInvoice(invoice_id=invoice_id), "invoice.finalized")
        return invoice_id

    await ask(configure_account(account_id), "account.configured")
    key = (await new_key(account_id))["key"]
    gone = f"bounce-gone@{domain}"
    # An earlier mail bounced at this address, so the account's mails to it are dropped from now on.
    earlier = await invoice("earlier", [gone], LATER)
    await ask(SendInvoice(invoice_id=earlier), "invoice.command_rejected")
    past_due = {
        "paid_1": await invoice("one", [f"ap-one@{domain}"], PAST),
        "paid_2": await invoice("two", [f"ap-two@{domain}"], PAST),
        "bounce": await invoice("bounce", [f"bounce-new@{domain}"], PAST),
        "suppressed": await invoice("suppressed", [gone], PAST),
        "no_email": await invoice("noemail", [], PAST),
    }
    await invoice("not_due", [f"later@{domain}"], LATER)
    await invoice("draft", [f"draft@{domain}"], PAST, finalize=False)
    test_clock.move_to(account_id, datetime.now(UTC) + timedelta(days=2))
    for invoice_id in past_due.values():
        await event_log.wait_for_type("invoice.past_due", invoice_id)  # announced by its clock
    await accepted_everywhere(key)

    listed = await invoicing("invoices", "list", "--status", "open", "--past-due", "--json", api_key=key)
    dry = await send(key, account_id, "--dry-run", exits=ExitCode.OK)
    assert {i["id"] for i in dry["invoices"]} == {i["id"] for i in json.loads(listed.stdout)["data"]} \
        == set(past_due.values())
    assert mails_to(smtp_catcher_url, domain) == []

    summary = await send(key, account_id, "--yes", "--timeout", "60")
    assert summary["run_id"] == dry["run_id"]
    assert (summary["selected"], summary["queued"], summary["sent"], summary["bounced"], summary["dropped"],
            summary["rejected"], summary["no_outcome"]) == (5, 3, 2, 1, 1, {"no_recipient": 1}, 0)
    outcomes = summary["invoices"]
    assert outcomes[past_due["bounce"]]["outcomes"] == ["bounced"]
    assert outcomes[past_due["suppressed"]]["outcomes"] == ["dropped"]
    assert outcomes[past_due["no_email"]]["rejected"] == "no_recipient"
    assert mails_to(smtp_catcher_url, domain) == [f"ap-one@{domain}", f"ap-two@{domain}"]
    # Every invoice that did not end sent is named, with why.
    not_sent = summary["not_sent"]
    assert set(not_sent) == {past_due["bounce"], past_due["suppressed"], past_due["no_email"]}
    assert not_sent[past_due["bounce"]].startswith("bounced; delivery_failed: The email bounced")
    assert not_sent[past_due["suppressed"]].startswith("dropped")
    assert not_sent[past_due["no_email"]].startswith("rejected no_recipient: ")

    again = await send(key, account_id, "--yes", "--timeout", "30")
    assert again["run_id"] == summary["run_id"]  # the same command again resumes today's run
    assert (again["sent"], again["bounced"], again["dropped"], again["rejected_before"], again["no_outcome"]) \
        == (2, 1, 1, 1, 0)
    assert mails_to(smtp_catcher_url, domain) == [f"ap-one@{domain}", f"ap-two@{domain}"]

    # From another machine (nothing remembered), the run is run again by its id, and sends nothing either.
    monkeypatch.setenv("INVOICING_STATE_DIR", str(tmp_path / "elsewhere"))
    assert (await send(key, account_id, "--dry-run", exits=ExitCode.OK))["run_id"] != summary["run_id"]  # a new run's nonce
    resumed = await send(key, account_id, "--yes", "--timeout", "30", "--resume", summary["run_id"])
    assert (resumed["run_id"], resumed["sent"], resumed["no_outcome"]) == (summary["run_id"], 2, 0)
    assert mails_to(smtp_catcher_url, domain) == [f"ap-one@{domain}", f"ap-two@{domain}"]
