"""What `invoicing` exits with: one list, so scripts can rely on the numbers and the main --help
states them (cli/main.py prints `described()`). The numbers are stable: a new outcome gets a
new number, an old one is never reused."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    NOT_FOUND = 1  # also `audit`: the services differ
    BAD_INPUT = 2  # also a command line that does not parse
    KEY_REFUSED = 3
    UNREACHABLE = 4
    CONTINUITY_BROKEN = 5
    KAFKA_REFUSED = 6
    REJECTED = 7
    NO_ANSWER = 8
    PARTLY_FAILED = 9
    INTERNAL = 70  # sysexits' EX_SOFTWARE: a fault of the CLI itself
    INTERRUPTED = 130  # the shells' 128 + SIGINT


_MEANING = {
    ExitCode.OK: "done",
    ExitCode.NOT_FOUND: "not found (also `keys revoke` of no such key; `audit`: differences)",
    ExitCode.BAD_INPUT: "refused input (invalid data, unreadable file, no account)",
    ExitCode.KEY_REFUSED: "the API key was refused, or none was given",
    ExitCode.UNREACHABLE: "a service or Kafka did not answer",
    ExitCode.CONTINUITY_BROKEN: "`numbering continuity` flags numbers",
    ExitCode.KAFKA_REFUSED: "Kafka refused the login or an ACL",
    ExitCode.REJECTED: "rejected: the flow answered *.command_rejected or *.rejected",
    ExitCode.NO_ANSWER: "published, but nothing answered within --wait",
    ExitCode.PARTLY_FAILED: "partly failed: a bulk send's invoice did not end sent",
    ExitCode.INTERNAL: "a fault of the CLI itself (INVOICING_DEBUG=1: traceback)",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
}


def described() -> str:
    """Every exit code with its meaning, one per line."""
    return "\n".join(f"{code.value:>3}  {_MEANING[code]}" for code in ExitCode)
