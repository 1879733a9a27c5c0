"""The read commands' answers when they cannot read: clear messages and exit codes, no server."""

from typer.testing import CliRunner

from cli.main import app


def test_without_a_key_or_a_service_the_cli_says_so_with_its_exit_code(monkeypatch):
    monkeypatch.delenv("INVOICING_API_KEY", raising=False)
    no_key = CliRunner().invoke(app, ["invoices", "list"])
    assert no_key.exit_code == 3 and "no API key" in no_key.output
    monkeypatch.setenv("INVOICES_API_URL", "http://127.0.0.1:9")  # nothing listens there
    away = CliRunner().invoke(app, ["invoices", "list", "--api-key", "key_0.x"])
    assert away.exit_code == 4 and "did not answer" in away.output


def test_a_key_id_is_asked_for_when_revoking_never_the_key():
    refused = CliRunner().invoke(app, ["keys", "revoke", "key_ab.secret", "--account", "acct_1"])
    assert refused.exit_code == 2 and "key id" in refused.output


def test_integrators_refuse_a_name_or_account_that_cannot_be_and_say_when_kafka_is_away():
    bad_name = CliRunner().invoke(app, ["integrators", "grant", "CRM Sync", "--account", "acct_1"])
    assert bad_name.exit_code == 2 and "no integrator name" in bad_name.output
    bad_account = CliRunner().invoke(app, ["integrators", "revoke", "crm", "--account", "acct 1"])
    assert bad_account.exit_code == 2 and "no account id" in bad_account.output
    away = CliRunner().invoke(app, ["integrators", "list", "--bootstrap", "127.0.0.1:9"])
    assert away.exit_code == 4 and "did not answer" in away.output
