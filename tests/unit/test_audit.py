"""`invoicing audit`'s comparison of the three services' records, and its exit codes."""

import pytest
from typer.testing import CliRunner

from cli.audit import differences
from cli.main import app


def invoice(invoice_id: str, number: str | None, amount_paid: int = 0, currency: str = "EUR") -> dict:
    return {"id": invoice_id, "number": number, "amount_paid": amount_paid, "currency": currency}


def paid(invoice_id: str, amount: int, currency: str = "EUR") -> dict:
    return {"invoice_id": invoice_id, "amount_paid": amount, "currency": currency, "payments": 1}


def number(invoice_id: str, value: str, status: str = "held") -> dict:
    return {"invoice_id": invoice_id, "number": value, "status": status, "series_key": "a/INV-{seq:03}"}


AGREEING = (
    [invoice("inv_1", "INV-001", 11900), invoice("inv_2", "INV-003"), invoice("draft", None)],
    [paid("inv_1", 11900)],
    [number("inv_1", "INV-001"), number("gone", "INV-002", "gap"), number("inv_2", "INV-003")],
)


def test_records_that_agree_have_no_difference_deleted_invoices_numbers_being_gaps():
    assert differences(*AGREEING) == []


@pytest.mark.parametrize(("change", "expected"), [
    # the open invoice owing 0.00 after mark_unpaid: invoices counts a payment payments removed
    (lambda i, p, n: i.__setitem__(1, invoice("inv_2", "INV-003", 5000)), [("amount_paid", "inv_2")]),
    # the manual payment gone from the invoice but still counted by payments
    (lambda i, p, n: i.__setitem__(0, invoice("inv_1", "INV-001", 0)), [("amount_paid", "inv_1")]),
    (lambda i, p, n: p.__setitem__(0, paid("inv_1", 11900, "USD")), [("amount_paid", "inv_1")]),
    (lambda i, p, n: p.append(paid("inv_x", 100)), [("payments_of_unknown_invoice", "inv_x")]),
    (lambda i, p, n: n.pop(0), [("number_not_in_ledger", "inv_1")]),
    (lambda i, p, n: i.pop(1), [("held_number_without_invoice", "inv_2")]),
    (lambda i, p, n: n.append(number("inv_1", "INV-004")), [("held_number_without_invoice", "inv_1")]),
    (lambda i, p, n: n.__setitem__(2, number("inv_2", "INV-003", "gap")), [("number_not_in_ledger", "inv_2"),
                                                                 ("gap_of_existing_invoice", "inv_2")]),
])
def test_each_kind_of_difference_is_found(change, expected):
    records = tuple([dict(entry) for entry in part] for part in AGREEING)
    change(*records)
    assert [(d.kind, d.invoice_id) for d in differences(*records)] == expected


def credited(invoice_id: str, number: str, *notes: tuple[str, str], applied_balance: int = 0) -> dict:
    return invoice(invoice_id, number) | {"credit_notes": [{"id": i, "number": n} for i, n in notes],
                                          "applied_balance": applied_balance}


def movement(kind: str, amount: int, invoice_id: str | None) -> dict:
    return {"kind": kind, "amount": amount, "invoice_id": invoice_id}


def test_credit_notes_are_numbered_documents_of_their_own_and_only_their_ledger_entry_matches():
    invoices = [credited("inv_1", "INV-001", ("cn_1", "CN-001"))]
    ledger = [number("inv_1", "INV-001"), number("inv_1", "CN-001") | {"credit_note_id": "cn_1"}]
    assert differences(invoices, [], ledger) == []
    # The credit note's number held for the invoice itself, and the credit note's number not held.
    assert [(d.kind, d.invoice_id) for d in differences(invoices, [], [number("inv_1", "INV-001"),
                                                                       number("inv_1", "CN-001")])] == [
        ("number_not_in_ledger", "inv_1/cn_1"), ("held_number_without_invoice", "inv_1")]
    # A number held for a credit note the invoice does not carry (allocated, never issued).
    ledger.append(number("inv_1", "CN-002") | {"credit_note_id": "cn_2"})
    assert [(d.kind, d.invoice_id) for d in differences(invoices, [], ledger)] == [
        ("held_number_without_invoice", "inv_1/cn_2")]


def test_what_the_balance_paid_of_an_invoice_is_what_the_invoice_says_it_took():
    balance = {"movements": [movement("overpayment", 3000, "inv_0"), movement("invoice_payment", 2000, "inv_1"),
                             movement("invoice_payment", 500, "inv_2"), movement("invoice_returned", 500, "inv_2")]}
    invoices = [credited("inv_1", "INV-001", applied_balance=2000), credited("inv_2", "INV-002")]
    numbers = [number("inv_1", "INV-001"), number("inv_2", "INV-002")]
    assert differences(invoices, [], numbers, [balance]) == []
    # Taken from the balance, never applied to the invoice (or applied and not taken).
    invoices[0]["applied_balance"] = 0
    invoices[1]["applied_balance"] = 500
    assert [(d.kind, d.invoice_id) for d in differences(invoices, [], numbers, [balance])] == [
        ("balance_applied", "inv_1"), ("balance_applied", "inv_2")]
    # For an invoice invoices does not know.
    balance["movements"].append(movement("invoice_payment", 100, "inv_9"))
    assert ("balance_applied", "inv_9") in [(d.kind, d.invoice_id)
                                            for d in differences(invoices, [], numbers, [balance])]


def test_the_cli_exits_0_when_they_agree_and_1_with_the_table_when_they_differ(monkeypatch):
    answers = {"/v1/invoices": {"data": AGREEING[0], "has_more": False, "next_cursor": None},
               "/v1/payments/paid": AGREEING[1], "/v1/numbering/numbers": AGREEING[2], "/v1/customer_balances": []}
    import cli.audit as audit

    monkeypatch.setattr(audit, "get", lambda service, path, api_key, params=None, *, what: answers[path])
    agree = CliRunner().invoke(app, ["audit", "--account", "acct_1", "--api-key", "key_0.x"])
    assert agree.exit_code == 0 and "agree" in agree.output
    answers["/v1/payments/paid"] = [paid("inv_1", 5000)]
    differ = CliRunner().invoke(app, ["audit", "--account", "acct_1", "--api-key", "key_0.x", "--json"])
    assert differ.exit_code == 1
    assert '"kind": "amount_paid"' in differ.output and '"invoice_id": "inv_1"' in differ.output


class _Stop(Exception):
    pass


def test_every_serves_the_count_of_each_kind_and_keeps_it_while_a_service_is_away(monkeypatch):
    import cli.audit as audit

    served, audits = {}, iter([differences(AGREEING[0], [paid("inv_1", 5000), paid("inv_x", 1)], AGREEING[2]), None])

    def read_account(api_key):
        found = next(audits)
        if found is None:
            raise audit.typer.Exit(4)  # the service did not answer
        return audit.Audit(invoices=3, invoices_paid=2, numbers=3, balances=0, differences=found)

    def sleep(seconds):
        gauge = {sample.labels["kind"]: sample.value
                 for metric in served["registry"].collect() for sample in metric.samples}
        served.setdefault("seen", []).append(gauge)
        if len(served["seen"]) == 2:
            raise _Stop

    monkeypatch.setattr(audit, "read_account", read_account)
    monkeypatch.setattr(audit, "start_http_server", lambda port, registry: served.update(registry=registry))
    monkeypatch.setattr(audit.time, "sleep", sleep)
    with pytest.raises(_Stop):
        audit._serve_gauge("key_0.x", 60, 9109)
    expected = dict.fromkeys(audit.KINDS, 0.0) | {"amount_paid": 1.0, "payments_of_unknown_invoice": 1.0}
    assert served["seen"] == [expected, expected]
