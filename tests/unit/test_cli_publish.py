"""`invoicing publish` and the commands that publish: the account named once, refusals in one
sentence before anything is published, one line per answer, and exit codes a script can rely on
(7 rejected, 8 no answer). Kafka is replaced by a fake here; tests/integration/test_cli.py
publishes for real."""

import json
from contextlib import asynccontextmanager

import pytest
from typer.testing import CliRunner

from cli import amounts, keys, publish
from cli.answers import line
from cli.exit_codes import ExitCode
from cli.kafka import Record
from cli.main import app
from contracts.example_data import examples
from contracts.messages.access import ApiKeyCreated, ApiKeyRevoked


class FakeKafka:
    """Answers each published record with `answers(envelope headers)`."""

    def __init__(self, answers):
        self.answers = answers
        self.published: list[tuple[str, dict, dict]] = []
        self.queue: list[Record] = []

    async def publish(self, body, *, topic, key, headers, correlation_id=None, no_confirm=False):
        self.published.append((topic, headers, json.loads(body)))
        self.queue += [Record(topic, {"ce_correlationid": headers["ce_correlationid"], "ce_type": type_name,
                                      "ce_subject": headers["ce_subject"], "ce_id": "answer"}, json.dumps(data).encode())
                       for topic, type_name, data in self.answers(headers)]

    def subscriber(self, *topics):
        kafka = self

        class Watcher:
            async def start(self):
                pass

            async def stop(self):
                pass

            async def get_one(self, timeout):
                return kafka.queue.pop(0) if kafka.queue else None

        return Watcher()


@pytest.fixture
def kafka(monkeypatch):
    def install(answers=lambda headers: []):
        fake = FakeKafka(answers)

        @asynccontextmanager
        async def broker(bootstrap):
            yield fake

        monkeypatch.setattr(publish, "kafka_broker", broker)
        return fake

    return install


def invoke(*argv, input=None, env=None):
    return CliRunner().invoke(app, list(argv), input=input, env={"INVOICING_ACCOUNT": None, **(env or {})})


def document(type_name: str) -> str:
    return json.dumps(examples()[type_name].model_dump(mode="json"))


FINALIZED = examples()["invoice.finalized"].model_dump(mode="json")


def test_without_an_account_nothing_is_published(kafka):
    fake = kafka()
    result = invoke("publish", "invoice.finalize", "-", input='{"invoice_id": "inv_1"}')
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "no account: pass --account or set INVOICING_ACCOUNT" in result.output
    assert fake.published == []


def test_the_account_comes_from_the_environment_and_fills_the_document(kafka):
    fake = kafka(lambda headers: [("accounts.events", "account.configured", {"account_id": "acct_9"})])
    data = json.loads(document("account.configure"))
    del data["account_id"]
    result = invoke("publish", "account.configure", "-", "--settle", "0.1", input=json.dumps(data),
                    env={"INVOICING_ACCOUNT": "acct_9"})
    assert result.exit_code == ExitCode.OK, result.output
    [(topic, headers, body)] = fake.published
    assert headers["ce_accountid"] == "acct_9" and body["account_id"] == "acct_9"


def test_a_document_naming_another_account_is_refused_naming_both(kafka):
    fake = kafka()
    data = json.loads(document("account.configure")) | {"account_id": "acct_other"}
    result = invoke("publish", "account.configure", "-", "--account", "acct_mine", input=json.dumps(data))
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "the data names account acct_other but --account is acct_mine" in result.output
    assert fake.published == []


@pytest.mark.parametrize("argv, input, said", [
    (["publish", "invoice.finalize", "no-such-file.json"], None, "cannot read no-such-file.json: No such file"),
    (["publish", "invoice.finalize", "-"], "{not json", "standard input is no JSON document"),
    (["publish", "invoice.finalize", "-"], '{"invoice_id": ""}', "invalid invoice.finalize: invoice_id"),
])
def test_bad_input_is_one_sentence_and_no_traceback(kafka, argv, input, said):
    result = invoke(*argv, "--account", "acct_1", input=input)
    assert result.exit_code == ExitCode.BAD_INPUT
    assert said in result.output and "Traceback" not in result.output


def test_each_answer_is_one_line_and_json_keeps_the_messages_whole(kafka):
    answers = lambda headers: [("invoices.events", "invoice.finalized", FINALIZED)]  # noqa: E731
    kafka(answers)
    short = invoke("publish", "invoice.finalize", "-", "-a", "acct_1", "--settle", "0.1", input='{"invoice_id": "inv_1"}')
    assert short.exit_code == ExitCode.OK, short.output
    assert short.stdout.strip() == line("invoice.finalized", "inv_1", FINALIZED)
    kafka(answers)
    whole = invoke("publish", "invoice.finalize", "-", "-a", "acct_1", "--settle", "0.1", "--json",
                   input='{"invoice_id": "inv_1"}')
    assert [json.loads(row)["data"] for row in whole.stdout.splitlines()] == [FINALIZED]


def test_a_rejected_command_exits_7_with_its_reason(kafka):
    rejected = {"command_id": "c", "command_type": "invoice.finalize", "reason": "invoice_not_finalizable",
                "message": "The invoice has no lines.", "subject_id": "inv_1"}
    kafka(lambda headers: [("invoices.events", "invoice.command_rejected", rejected)])
    result = invoke("publish", "invoice.finalize", "-", "-a", "acct_1", "--settle", "0.1", input='{"invoice_id": "inv_1"}')
    assert result.exit_code == ExitCode.REJECTED
    assert "rejected: invoice_not_finalizable — The invoice has no lines." in result.stdout


def test_nothing_answering_exits_8(kafka):
    kafka()
    result = invoke("publish", "invoice.finalize", "-", "-a", "acct_1", "--wait", "0.3", input='{"invoice_id": "inv_1"}')
    assert result.exit_code == ExitCode.NO_ANSWER
    assert "no answer within 0.3 s" in result.output


def test_an_answer_line_says_the_outcome(monkeypatch):
    monkeypatch.setattr(amounts, "LANGUAGE", "en")
    assert line("invoice.finalized", "inv_1", FINALIZED) == (
        f"invoice.finalized inv_1: open, {FINALIZED['invoice']['number']}, €1,473.50 due 2026-11-16")
    assert line("mail.sent", "inv_1", {"kind": "invoice", "to": ["a@b.example"]}) == \
        "mail.sent inv_1: invoice, a@b.example"


def test_revoking_a_key_the_account_does_not_have_exits_1(monkeypatch):
    created = ApiKeyCreated(key_id="key_live", account_id="acct_1", digest="0" * 64, created_at=FINALIZED["invoice"]
                            ["created_at"])
    revoked = ApiKeyRevoked(key_id="key_gone", account_id="acct_1", revoked_at=created.created_at)
    published = []

    async def read_events(bootstrap, topic, *models):
        return [created, revoked, created.model_copy(update={"key_id": "key_other", "account_id": "acct_2"})], 0

    monkeypatch.setattr(keys, "read_events", read_events)
    async def announce(bootstrap, account, data):
        published.append(data)

    monkeypatch.setattr(keys, "_announce", announce)
    for key_id in ("key_gone", "key_other", "key_never"):
        result = invoke("keys", "revoke", key_id, "-a", "acct_1")
        assert result.exit_code == ExitCode.NOT_FOUND, (key_id, result.output)
    assert published == []
    assert invoke("keys", "revoke", "key_live", "-a", "acct_1").exit_code == ExitCode.OK
    assert [event.key_id for event in published] == ["key_live"]


def test_unsuppressing_publishes_mail_unsuppress_and_says_the_answer(kafka):
    lifted = {"address": "ap@globex.example", "suppressed_at": "2026-11-01T10:00:00Z",
              "unsuppressed_at": "2026-11-02T10:00:00Z", "reason": "mailbox fixed"}
    fake = kafka(lambda headers: [("mail.events", "mail.unsuppressed", lifted)])
    done = invoke("mail", "unsuppress", "ap@globex.example", "--reason", "mailbox fixed", "-a", "acct_1")
    assert done.exit_code == ExitCode.OK, done.output
    assert [(topic, headers["ce_type"], headers["ce_accountid"], data) for topic, headers, data in fake.published] \
        == [("mail.commands", "mail.unsuppress", "acct_1", {"address": "ap@globex.example", "reason": "mailbox fixed"})]
    assert done.stdout.strip() == "mail.unsuppressed ap@globex.example: ap@globex.example, mailbox fixed"

    refused = {"command_id": "c", "command_type": "mail.unsuppress", "reason": "not_suppressed",
               "message": "The account does not suppress ap@globex.example.", "invoice_id": "ap@globex.example"}
    kafka(lambda headers: [("mail.events", "mail.rejected", refused)])
    rejected = invoke("mail", "unsuppress", "ap@globex.example", "-a", "acct_1")
    assert rejected.exit_code == ExitCode.REJECTED
    assert "rejected: not_suppressed — The account does not suppress" in rejected.stdout
    assert invoke("mail", "unsuppress", "not an address", "-a", "acct_1").exit_code == ExitCode.BAD_INPUT


def test_the_published_message_read_back_is_no_answer():
    flow = publish.Flow("flow_1", as_json=False, published_id="msg_1")
    flow.show(Record("api_keys.events", {"ce_correlationid": "flow_1", "ce_id": "msg_1", "ce_type": "api_key.revoked",
                                         "ce_subject": "key_1"}, b"{}"))
    assert flow.answered_at is None
    flow.show(Record("payments.events", {"ce_correlationid": "flow_1", "ce_id": "msg_2", "ce_type": "payment.unmatched",
                                         "ce_subject": "tx_1"}, b"{}"))
    assert flow.answered_at is not None


def test_what_a_command_did_not_foresee_is_one_sentence_and_exit_70(kafka, monkeypatch):
    def broken(bootstrap):
        raise RuntimeError("the broker object is broken")

    monkeypatch.setattr(publish, "kafka_broker", broken)
    result = invoke("publish", "invoice.finalize", "-", "-a", "acct_1", input='{"invoice_id": "inv_1"}')
    assert result.exit_code == ExitCode.INTERNAL
    assert result.output.strip().splitlines()[-1] == ("invoicing failed: RuntimeError: the broker object is broken "
                                                      "(INVOICING_DEBUG=1 shows where)")
    assert "Traceback" not in result.output


def test_kafka_not_answering_is_one_sentence_and_exit_4():
    result = invoke("publish", "invoice.finalize", "-", "-a", "acct_1", "--bootstrap", "127.0.0.1:9",
                    input='{"invoice_id": "inv_1"}')
    assert result.exit_code == ExitCode.UNREACHABLE
    assert "Kafka at 127.0.0.1:9 did not answer" in result.output and "Traceback" not in result.output
