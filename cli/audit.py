"""`invoicing audit`: do the services agree about an account's money and numbers?

Each service keeps its own records, fed by the others' events; after any command or crash they
must agree. The audit reads each one's read API (as any client does, with the account's API key)
and lists every difference:

- `amount_paid`: an invoice's amount paid is not the sum of the payments payments counts for it;
- `payments_of_unknown_invoice`: payments counts payments for an invoice invoices does not know;
- `number_not_in_ledger`: an invoice's number, or an issued credit note's, is not held for it in
  numbering's ledger;
- `held_number_without_invoice`: the ledger holds a number for an invoice (or a credit note) that
  does not exist (a deleted invoice's number is a gap) or carries another number;
- `gap_of_existing_invoice`: the ledger calls a number a gap while its invoice still carries it;
- `balance_applied`: what an invoice says the customer's balance paid of it is not what that
  balance's movements say it paid (taken for the invoice, less what the invoice gave back).

Documents are named `<invoice id>` or, for a credit note, `<invoice id>/<credit note id>`.

Exit codes: 0 no difference, 1 differences (listed); 2, 3, 4 as every read command (cli/http.py).

With `--every SECONDS` it runs until stopped and serves the gauge `invoicing_audit_differences`
(label `kind`, the list above) on `--metrics-port` for Prometheus: the audit compares three
services, so it belongs to none of them (none reads its peers' records), and runs as a job of its
own beside them.
"""

import time
from collections import Counter
from typing import Annotated, Any

import typer
from prometheus_client import CollectorRegistry, Gauge, start_http_server
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from cli.account import Account
from cli.exit_codes import ExitCode
from cli.http import ApiKey, AsJson, get, print_json

KINDS = ("amount_paid", "payments_of_unknown_invoice", "number_not_in_ledger", "held_number_without_invoice",
         "gap_of_existing_invoice", "balance_applied")
# How a balance movement counts towards what the balance paid of the invoice it names.
_PAID_FROM_BALANCE = {"invoice_payment": 1, "invoice_returned": -1}

console = Console()


class Difference(BaseModel):
    kind: str
    invoice_id: str
    invoices: str  # what invoices says
    other: str  # what payments or numbering says


def differences(invoices: list[dict], paid: list[dict], numbers: list[dict],
                balances: list[dict] = ()) -> list[Difference]:
    """Where invoices' summaries (GET /v1/invoices), payments' sums per invoice (/v1/payments/paid),
    numbering's ledger (/v1/numbering/numbers) and the customer balances (/v1/customer_balances)
    disagree. Pure."""
    return [*_payments_differences(invoices, paid), *_number_differences(invoices, numbers),
            *_balance_differences(invoices, balances)]


def _payments_differences(invoices: list[dict], paid: list[dict]) -> list[Difference]:
    found = []
    by_id = {invoice["id"]: invoice for invoice in invoices}
    counted = {entry["invoice_id"]: entry for entry in paid}
    for invoice in invoices:
        entry = counted.get(invoice["id"], {"amount_paid": 0, "currency": invoice["currency"]})
        if (invoice["amount_paid"], invoice["currency"]) != (entry["amount_paid"], entry["currency"]):
            found.append(Difference(kind="amount_paid", invoice_id=invoice["id"],
                                    invoices=f"{invoice['amount_paid']} {invoice['currency']} paid",
                                    other=f"payments counts {entry['amount_paid']} {entry['currency']}"))
    for invoice_id in sorted(set(counted) - set(by_id)):
        entry = counted[invoice_id]
        found.append(Difference(kind="payments_of_unknown_invoice", invoice_id=invoice_id, invoices="no such invoice",
                                other=f"payments counts {entry['amount_paid']} {entry['currency']}"))
    return found


def _document(invoice_id: str, credit_note_id: str | None) -> str:
    return f"{invoice_id}/{credit_note_id}" if credit_note_id else invoice_id


def _number_differences(invoices: list[dict], numbers: list[dict]) -> list[Difference]:
    found = []
    # Every number invoices says it carries, by document: each invoice's, each issued credit note's.
    carried = {invoice["id"]: invoice["number"] for invoice in invoices}
    carried |= {_document(invoice["id"], note["id"]): note["number"]
                for invoice in invoices for note in invoice.get("credit_notes", [])}
    held = {(_document(entry["invoice_id"], entry.get("credit_note_id")), entry["number"])
            for entry in numbers if entry["status"] == "held"}
    for document, number in carried.items():
        if number is not None and (document, number) not in held:
            found.append(Difference(kind="number_not_in_ledger", invoice_id=document,
                                    invoices=f"number {number}", other="not held for it in the ledger"))
    for entry in numbers:
        document = _document(entry["invoice_id"], entry.get("credit_note_id"))
        carries = carried.get(document) == entry["number"]
        if entry["status"] == "held" and not carries:
            found.append(Difference(
                kind="held_number_without_invoice", invoice_id=document,
                invoices="no such document" if carried.get(document) is None else f"number {carried[document]}",
                other=f"the ledger holds {entry['number']} for it"))
        elif entry["status"] == "gap" and carries:
            found.append(Difference(kind="gap_of_existing_invoice", invoice_id=document,
                                    invoices=f"number {entry['number']}", other="a gap in the ledger"))
    return found


def _balance_differences(invoices: list[dict], balances: list[dict]) -> list[Difference]:
    paid_from_balance: Counter[str] = Counter()
    for balance in balances:
        for movement in balance["movements"]:
            if movement.get("invoice_id") and movement["kind"] in _PAID_FROM_BALANCE:
                paid_from_balance[movement["invoice_id"]] += _PAID_FROM_BALANCE[movement["kind"]] * movement["amount"]
    known = {invoice["id"] for invoice in invoices}
    found = [Difference(kind="balance_applied", invoice_id=invoice["id"],
                        invoices=f"{invoice.get('applied_balance', 0)} paid from the customer's balance",
                        other=f"the balance paid {paid_from_balance[invoice['id']]}")
             for invoice in invoices if invoice.get("applied_balance", 0) != paid_from_balance[invoice["id"]]]
    found += [Difference(kind="balance_applied", invoice_id=invoice_id, invoices="no such invoice",
                         other=f"the balance paid {amount}")
              for invoice_id, amount in sorted(paid_from_balance.items()) if invoice_id not in known and amount]
    return found


class Audit(BaseModel):
    invoices: int  # how many each service showed
    invoices_paid: int
    numbers: int
    balances: int
    differences: list[Difference]


def read_account(api_key: str) -> Audit:
    """Every invoice (a page at a time), payments' sums, the ledger and the customer balances (the
    first 100: the route's most), then their differences."""
    invoices: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = get("invoices", "/v1/invoices", api_key, {"limit": 100, "cursor": cursor}, what="invoices")
        invoices += page["data"]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    paid = get("payments", "/v1/payments/paid", api_key, what="payments per invoice")
    numbers = get("numbering", "/v1/numbering/numbers", api_key, what="ledger numbers")
    balances = get("invoices", "/v1/customer_balances", api_key, {"limit": 100}, what="customer balances")
    return Audit(invoices=len(invoices), invoices_paid=len(paid), numbers=len(numbers), balances=len(balances),
                 differences=differences(invoices, paid, numbers, balances))


def audit(account: Account = "", api_key: ApiKey = "", as_json: AsJson = False,
          every: Annotated[float | None, typer.Option(help="Audit again every this many seconds, until stopped, "
                                                           "serving the gauge")] = None,
          metrics_port: Annotated[int, typer.Option(help="Where --every serves /metrics")] = 9109) -> None:
    """Compare each invoice's amount paid with payments' records and the invoices' numbers with
    numbering's ledger. Exits with 1 when they differ."""
    if every is not None:
        _serve_gauge(api_key, every, metrics_port)
    report = read_account(api_key)
    found = report.differences
    if as_json:
        print_json({"account_id": account, **report.model_dump()})
    elif found:
        table = Table("kind", "invoice", "invoices says", "the other says")
        for difference in found:
            table.add_row(difference.kind, difference.invoice_id, difference.invoices, difference.other)
        console.print(table)
    else:
        console.print(f"{account}: invoices, payments and numbering agree ({report.invoices} invoices, "
                      f"{report.invoices_paid} with payments, {report.numbers} numbers)")
    if found:
        raise typer.Exit(ExitCode.NOT_FOUND)  # 1: differences


def _serve_gauge(api_key: str, every: float, port: int) -> None:
    registry = CollectorRegistry()
    gauge = Gauge("invoicing_audit_differences", "Differences the last audit found between invoices, payments "
                  "and numbering, by kind (invoicing audit)", ["kind"], registry=registry)
    start_http_server(port, registry=registry)
    while True:
        try:
            counts = Counter(difference.kind for difference in read_account(api_key).differences)
        except typer.Exit:
            pass  # a service did not answer (said on stderr): the gauge keeps the last audit's figures
        else:
            for kind in KINDS:
                gauge.labels(kind).set(counts[kind])
        time.sleep(every)
