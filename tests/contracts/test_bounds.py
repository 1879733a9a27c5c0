"""Every field of every message is bounded (contracts.messages.bounds): the models refuse what is
out of bounds when a message arrives, and the published schemas say so."""

import json
from datetime import date
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from chassis.messaging import UndecodableMessage, decode_data
from contracts.envelope import Envelope
from contracts.export import EXAMPLES, SCHEMAS
from contracts.messages import REGISTRY
from contracts.messages.bounds import MAX_AMOUNT, MAX_LINE_AMOUNT, MAX_LINES, SAFE_INTEGER, QuotedText
from contracts.messages.common import InvoiceSnapshot
from contracts.messages.invoices import ConfigureAccount, CreateInvoice
from contracts.messages.payments import BankTransactionReceived, PaymentCommandRejected


def example(type_name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{type_name}.json").read_text())


def schema(type_name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{type_name}.schema.json").read_text())


def refused(type_name: str, data: dict[str, Any]) -> str:
    """The reason code the consumer would refuse the data with (chassis.messaging.decode_data), once
    the published schema refused it too."""
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema(type_name), cls=jsonschema.Draft202012Validator)
    model = REGISTRY[type_name]
    envelope = Envelope.originate(source="tests", type=type_name, subject=example(type_name)[model.key_field],
                                  accountid="acct", actor="user:test")
    with pytest.raises(UndecodableMessage) as error:
        decode_data(envelope, model, json.dumps(data).encode())
    return error.value.reason


def with_line(**line: Any) -> dict[str, Any]:
    data = example("invoice.create")
    data["lines"] = [{**data["lines"][0], **line}]
    return data


def test_the_money_bounds_fit_postgresql_and_json_integers():
    # Every line's amount and tax are at most MAX_LINE_AMOUNT, so any invoice's total is at most
    # MAX_AMOUNT; what an invoice was paid is at most twice that.
    assert 2 * MAX_LINES * MAX_LINE_AMOUNT <= MAX_AMOUNT
    assert 2 * MAX_AMOUNT <= SAFE_INTEGER < 2**63 - 1


@pytest.mark.parametrize("line", [
    {"unit_amount": 10**20},
    {"unit_amount": -(10**20)},
    {"quantity": "100000000"},
    {"quantity": "1.00001"},
    {"tax_rate": "1000"},
])
def test_a_line_beyond_the_money_bounds_is_invalid_data(line):
    assert refused("invoice.create", with_line(**line)) == "invalid_data"


def test_a_line_whose_amount_is_beyond_the_bound_is_invalid_data():
    # Quantity and unit amount each within their bounds, their product not: the model checks it
    # (a JSON Schema cannot say it; the line's description does).
    with pytest.raises(ValidationError, match="quantity x unit_amount"):
        CreateInvoice.model_validate(with_line(quantity="99999999", unit_amount=100_000))


def test_a_line_at_the_bound_is_accepted():
    CreateInvoice.model_validate(with_line(quantity="1", unit_amount=MAX_LINE_AMOUNT))
    CreateInvoice.model_validate(with_line(quantity="0.5", unit_amount=2 * MAX_LINE_AMOUNT // 2))


def test_more_lines_than_the_maximum_are_invalid_data():
    data = example("invoice.create")
    data["lines"] = data["lines"][:1] * (MAX_LINES + 1)
    assert refused("invoice.create", data) == "invalid_data"


@pytest.mark.parametrize("text", ["Globex\x00", "Globex\r\nBcc: x@evil.example", "Glo\x1bbex", "Glo\tbex",
                                  "Glo\u0085bex", "Globex\uffff"])
def test_a_name_with_control_characters_is_invalid_data(text):
    data = example("invoice.create")
    data["customer"]["name"] = text
    assert refused("invoice.create", data) == "invalid_data"


def test_a_lone_surrogate_is_no_json_text():
    """JSON can write one (`\\ud800`), but it is no character: the parser refuses the document."""
    data = example("invoice.create")
    data["customer"]["name"] = "Glo\ud800bex"
    assert refused("invoice.create", data) == "invalid_json"


def test_free_text_keeps_its_line_breaks_but_no_nul():
    data = example("invoice.create")
    data["memo"] = "Thank you.\r\nPlease pay within 14 days.\n\tAcme"
    assert CreateInvoice.model_validate(data).memo == data["memo"]
    assert refused("invoice.create", {**data, "memo": "Thank you\x00"}) == "invalid_data"
    assert refused("invoice.create", with_line(description="Work\x00")) == "invalid_data"


def test_text_longer_than_its_maximum_is_invalid_data():
    data = example("invoice.create")
    assert refused("invoice.create", {**data, "memo": "x" * 2001}) == "invalid_data"
    assert refused("invoice.create", {**data, "metadata": {"k" * 41: "v"}}) == "invalid_data"
    assert refused("invoice.create", {**data, "metadata": {f"k{i}": "v" for i in range(51)}}) == "invalid_data"


@pytest.mark.parametrize("due_date", ["9999-12-31", "1999-12-31", "2100-01-01"])
def test_a_date_outside_this_century_is_invalid_data(due_date):
    data = {**example("invoice.create"), "days_until_due": None, "due_date": due_date}
    # JSON Schema validators need not check formatMinimum/formatMaximum; the model does.
    with pytest.raises(ValidationError):
        CreateInvoice.model_validate(data)
    assert schema("invoice.create")["properties"]["due_date"]["anyOf"][0]["formatMaximum"] == "2099-12-31"


def test_dates_at_the_edges_of_the_range_are_accepted():
    data = {**example("invoice.create"), "days_until_due": None}
    for day in ("2000-01-01", "2099-12-31"):
        assert CreateInvoice.model_validate({**data, "due_date": day}).due_date == date.fromisoformat(day)


@pytest.mark.parametrize("number_format", ["INV-{seq}-" + "x" * 5000, "INV-" + "x" * 60 + "-{seq}"])
def test_a_number_format_too_long_for_a_series_key_is_invalid_data(number_format):
    data = {**example("account.configure"), "number_format": number_format}
    assert refused("account.configure", data) == "invalid_data"


@pytest.mark.parametrize("number_format", ["INV-{yyyy}", "{seq}-{seq}", "{mm}-{seq}"])
def test_a_number_format_without_one_series_is_refused_with_its_own_reason(number_format):
    data = {**example("account.configure"), "number_format": number_format}
    with pytest.raises(UndecodableMessage) as error:
        decode_data(Envelope.originate(source="tests", type="account.configure", subject=data["account_id"],
                                       accountid="acct", actor="user:test"),
                    ConfigureAccount, json.dumps(data).encode())
    assert error.value.reason == "invalid_number_format"


def test_the_longest_number_format_makes_a_series_key_that_is_a_valid_subject():
    number_format = "I" * (60 - len("{seq:09}")) + "{seq:09}"
    account = "a" * 100
    configured = ConfigureAccount(account_id=account, number_format=number_format)
    Envelope.originate(source="tests", type="number.allocate", subject=f"{account}/{configured.number_format}",
                       accountid=account, actor="service:invoices")


@pytest.mark.parametrize("change", [
    {"amount": 10**30}, {"amount": MAX_AMOUNT + 1}, {"amount": 0},
    {"debtor_name": "Globex\r\nCorporation"}, {"debtor_name": "Globex\x00"},
    {"remittance_information": "INV-2026-00001\x00"}, {"booked_on": "9999-12-31"},
    {"end_to_end_id": "E2E\x00"},
])
def test_a_bank_transaction_out_of_bounds_is_invalid_data(change):
    data = {**example("bank_transaction.received"), **change}
    if "booked_on" in change:
        with pytest.raises(ValidationError):
            BankTransactionReceived.model_validate(data)
    else:
        assert refused("bank_transaction.received", data) == "invalid_data"


def test_remittance_text_keeps_the_line_breaks_banks_send():
    data = {**example("bank_transaction.received"), "remittance_information": "INV-2026-00001\r\nRF76 INV2"}
    assert BankTransactionReceived.model_validate(data).remittance_information == "INV-2026-00001\r\nRF76 INV2"


def test_counts_and_versions_are_bounded():
    snapshot = example("invoice.created")["invoice"]
    for field, value in [("version", 2**53), ("version", -1), ("total", MAX_AMOUNT + 1), ("amount_paid", -1)]:
        with pytest.raises(ValidationError):
            InvoiceSnapshot.model_validate({**snapshot, field: value})


def test_what_the_platform_repeats_of_a_record_is_escaped_and_cut_never_refused():
    """A refusal quotes what it was sent; building it must not fail on what it quotes."""
    rejection = PaymentCommandRejected(command_id="x\x00y", command_type="bank_transaction.received",
                                       reason="invalid_data", message="debtor_name: \x00" + "x" * 5000,
                                       subject_id="tx\r\n1")
    assert rejection.command_id == "x\\x00y"
    assert rejection.subject_id == "tx\\r\\n1"
    assert rejection.message.startswith("debtor_name: \\x00") and len(rejection.message) == 2000
    assert schema("payment.rejected")["properties"]["message"]["maxLength"] == 2000
    assert QuotedText  # the type the rejections' sentences are written with


def _bounded_pattern(pattern: str | None) -> bool:
    return pattern is not None and "*" not in pattern and "+" not in pattern


def _unbounded(node: Any, path: str) -> list[str]:
    """Where a published schema has a string without maxLength (or a pattern, enum or format that
    bounds it), an integer without maximum, or an array without maxItems."""
    problems = []
    if isinstance(node, dict):
        kind = node.get("type")
        if kind == "string" and not ({"maxLength", "enum", "const"} & node.keys()) and node.get("format") not in (
                "date", "date-time", "email") and not _bounded_pattern(node.get("pattern")):
            problems.append(f"{path}: string")
        if kind == "integer" and "maximum" not in node:
            problems.append(f"{path}: integer")
        if kind == "array" and "maxItems" not in node:
            problems.append(f"{path}: array")
        if kind == "object" and "additionalProperties" in node and "maxProperties" not in node \
                and node["additionalProperties"] not in (False, True, {}):
            problems.append(f"{path}: object")
        for key, value in node.items():
            problems += _unbounded(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            problems += _unbounded(value, f"{path}[{index}]")
    return problems


@pytest.mark.parametrize("type_name", sorted(REGISTRY))
def test_every_published_field_is_bounded(type_name):
    assert _unbounded(schema(type_name), type_name) == []
