"""`invoicing --help` loads typer alone: every command is registered by name and summary and
imported when it runs (cli/lazy.py). Checked by what a fresh interpreter has imported, not by time
(the timings are bench/cli_startup.py's)."""

import subprocess
import sys

import pytest

from cli.exit_codes import ExitCode, described
from cli.main import COMMANDS

HEAVY = ("pydantic", "aiokafka", "faststream", "httpx", "contracts", "documents", "babel", "reportlab", "rich")

_IMPORTED_AFTER = """
import sys
from cli.main import app
try:
    app({argv!r}, standalone_mode=False)
except SystemExit:
    pass
print(" ".join(sorted({{name.split(".")[0] for name in sys.modules}})))
"""


def imported_after(*argv: str) -> set[str]:
    result = subprocess.run([sys.executable, "-c", _IMPORTED_AFTER.format(argv=list(argv))], capture_output=True,
                            text=True, check=True)
    return set(result.stdout.split("\n")[-2].split())


def test_the_help_imports_none_of_the_commands_libraries():
    assert imported_after("--help") & set(HEAVY) == set()


def test_a_commands_help_imports_its_own_module_only():
    loaded = imported_after("mail", "--help")
    assert "aiokafka" not in loaded and "httpx" not in loaded and "contracts" not in loaded


@pytest.mark.parametrize("lazy", COMMANDS, ids=lambda lazy: lazy.name)
def test_each_listed_summary_is_the_commands_own(lazy):
    command = lazy.load()
    assert command.name == lazy.name
    own = (command.help or "").split("\n\n")[0].replace("\n", " ").strip()
    assert own.startswith(lazy.summary)


def test_every_exit_code_is_stated_once_in_the_help():
    lines = described().splitlines()
    assert [int(line.split()[0]) for line in lines] == [code.value for code in ExitCode]
    assert len({code.value for code in ExitCode}) == len(ExitCode)


def test_making_a_key_loads_no_http_framework_and_no_store_driver():
    loaded = imported_after("keys", "create", "--help")
    assert {"fastapi", "starlette", "pymongo", "psycopg"} & loaded == set()
