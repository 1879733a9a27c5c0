"""Bulk send without a server: the list's filters reach the request as the list's query, command
ids are the same for a run and an invoice, and each answer settles an invoice as it should."""

import json

from typer.testing import CliRunner

from cli import bulk_send
from cli.bulk_send import Outcome, command_id, new_run_id, run_for, selection_name
from cli.main import app


def test_send_selects_with_the_lists_filters_and_a_dry_run_publishes_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("INVOICING_STATE_DIR", str(tmp_path))
    asked = []

    def get(service, path, api_key, params=None, *, what):
        asked.append(params)
        return {"data": [{"id": "inv_1", "number": "INV-1", "status": "open", "customer": "Globex", "total": 100,
                          "currency": "EUR", "due_date": "2020-01-31"}], "has_more": False, "next_cursor": None}

    monkeypatch.setattr(bulk_send, "get", get)
    result = CliRunner().invoke(app, ["invoices", "send", "--account", "acct_1", "--api-key", "k.s", "--status",
                                      "open", "--past-due", "--due-to", "2026-01-01", "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    assert asked == [{"status": ["open"], "customer": None, "currency": None, "number": None, "issued_from": None,
                      "issued_to": None, "due_from": None, "due_to": "2026-01-01", "amount_min": None,
                      "amount_max": None, "past_due": "true", "payment_pending": None, "sort": "-issued_on", "limit": 100, "cursor": None}]
    assert '"inv_1"' in result.output


def test_a_run_names_the_same_command_per_invoice_again(monkeypatch, tmp_path):
    monkeypatch.setenv("INVOICING_STATE_DIR", str(tmp_path / "state"))
    filters = {"status": ["open"], "past_due": "true"}
    run = run_for("acct_1", filters)
    assert run == run_for("acct_1", dict(filters)) != run_for("acct_2", filters)
    assert command_id(run, "inv_1") == command_id(run, "inv_1") != command_id(run, "inv_2")
    assert command_id("other", "inv_1") != command_id(run, "inv_1")
    assert (tmp_path / "state" / "bulk-send-runs.json").stat().st_mode & 0o777 == 0o600


def test_a_new_runs_id_has_a_nonce_nobody_can_guess(monkeypatch, tmp_path):
    monkeypatch.setenv("INVOICING_STATE_DIR", str(tmp_path))
    filters = {"status": ["open"]}
    first = run_for("acct_1", filters)
    again = run_for("acct_1", filters, new=True)
    assert first != again and first.rsplit("-", 1)[0] == again.rsplit("-", 1)[0] == selection_name("acct_1", filters)
    assert len(first.rsplit("-", 1)[1]) == 32  # 128 random bits
    assert run_for("acct_1", filters) == again  # the run started last is the one resumed
    assert new_run_id("acct_1", filters) != new_run_id("acct_1", filters)


def test_a_machine_that_cannot_remember_runs_still_sends_with_a_new_run(monkeypatch, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("")
    monkeypatch.setenv("INVOICING_STATE_DIR", str(blocked / "state"))
    assert run_for("acct_1", {}) != run_for("acct_1", {})


def test_a_run_is_run_again_by_its_id_and_sends_the_same_commands(monkeypatch, tmp_path):
    monkeypatch.setenv("INVOICING_STATE_DIR", str(tmp_path))
    runs = []

    def get(service, path, api_key, params=None, *, what):
        return {"data": [{"id": "inv_1", "number": "INV-1", "status": "open", "customer": "Globex", "total": 100,
                          "currency": "EUR", "due_date": "2020-01-31"}], "has_more": False, "next_cursor": None}

    monkeypatch.setattr(bulk_send, "get", get)
    for extra in ([], ["--new-run"], ["--resume", "send-2026-01-01-abc-0123"]):
        result = CliRunner().invoke(app, ["invoices", "send", "--account", "acct_1", "--api-key", "k.s",
                                          "--dry-run", "--json", *extra])
        assert result.exit_code == 0, result.output
        runs.append(json.loads(result.stdout)["run_id"])
    assert runs[0] != runs[1] and runs[2] == "send-2026-01-01-abc-0123"


def test_an_invoice_settles_on_its_mails_outcome_or_its_rejection():
    sent = Outcome()
    sent.note("mail.queued", {})
    assert not sent.settled
    sent.note("mail.sent", {})
    assert sent.settled and sent.final == {"sent"}

    partly_dropped = Outcome()
    partly_dropped.note("mail.dropped", {})
    partly_dropped.note("mail.queued", {})
    assert not partly_dropped.settled  # waits for the mail to its other recipients

    bounced = Outcome()
    bounced.note("invoice.command_rejected", {"reason": "delivery_failed", "message": "550"})
    assert bounced.settled and bounced.final == {"bounced"} and bounced.rejected is None

    refused = Outcome()
    refused.note("invoice.command_rejected", {"reason": "no_recipient", "message": "no address"})
    assert refused.settled and refused.rejected == "no_recipient"


def test_every_invoice_that_did_not_end_sent_is_named_with_why():
    sent, bounced, rejected, silent, before = Outcome(), Outcome(), Outcome(), Outcome(), Outcome()
    sent.note("mail.queued", {})
    sent.note("mail.sent", {})
    bounced.note("invoice.command_rejected", {"reason": "delivery_failed", "message": "The email bounced: 550 gone"})
    rejected.note("invoice.command_rejected", {"reason": "no_recipient", "message": "The customer has no address."})
    silent.note("mail.queued", {})
    before.unrecorded = True
    assert sent.failure() is None
    assert bounced.failure() == "bounced; delivery_failed: The email bounced: 550 gone"
    assert rejected.failure() == "rejected no_recipient: The customer has no address."
    assert silent.failure() == "no outcome before --timeout (the mail was queued)"
    assert before.failure().startswith("rejected in an earlier run")
