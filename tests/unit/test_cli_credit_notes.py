"""`invoicing credit-note`: refused input and unreachable services, with their exit codes, no server."""

from typer.testing import CliRunner

from cli.credit_notes import credited_line
from cli.main import app


def test_a_command_the_contract_refuses_is_not_published_and_exits_2():
    bad_id = CliRunner().invoke(app, ["credit-note", "create", "inv_1", "cn 1", "-a", "acct_1", "--bootstrap", "127.0.0.1:9"])
    assert bad_id.exit_code == 2 and "credit_note_id" in bad_id.output
    both = CliRunner().invoke(app, ["credit-note", "create", "inv_1", "cn_1", "--line", "0", "--amount", "100",
                                    "-a", "acct_1", "--bootstrap", "127.0.0.1:9"])
    assert both.exit_code == 2 and "not both" in both.output
    bad_line = CliRunner().invoke(app, ["credit-note", "create", "inv_1", "cn_1", "--line", "first", "-a", "acct_1"])
    assert bad_line.exit_code == 2 and "POSITION:QUANTITY" in bad_line.output


def test_lines_are_positions_with_an_optional_quantity():
    assert (credited_line("1:2.5").line, str(credited_line("1:2.5").quantity)) == (1, "2.5")
    assert credited_line("0").quantity is None


def test_reads_say_when_the_key_or_the_service_is_missing(monkeypatch):
    monkeypatch.delenv("INVOICING_API_KEY", raising=False)
    assert CliRunner().invoke(app, ["credit-note", "list"]).exit_code == 3
    monkeypatch.setenv("INVOICES_API_URL", "http://127.0.0.1:9")
    away = CliRunner().invoke(app, ["credit-note", "show", "cn_1", "--api-key", "key_0.x"])
    assert away.exit_code == 4 and "did not answer" in away.output
