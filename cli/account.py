"""The account (tenant) a command acts for, named once: `--account`, or INVOICING_ACCOUNT.

There is no default account: a command without one is refused (exit 2) before anything is
published. A data document names an account only where its message has one (`account_id`, as
account.configure): missing there, it is taken from `--account`; naming another, it is refused
before publishing, with both values (the services would reject it as `account_mismatch`).
"""

from typing import Annotated, Any

import typer

from cli.exit_codes import ExitCode


def _required(value: str) -> str:
    if not value:
        typer.secho("no account: pass --account or set INVOICING_ACCOUNT", fg="red", err=True)
        raise typer.Exit(ExitCode.BAD_INPUT)
    return value


Account = Annotated[str, typer.Option(
    "--account", "-a", envvar="INVOICING_ACCOUNT", show_envvar=True, show_default=False, callback=_required,
    help="The account (tenant) this acts for")]


def with_account(data: Any, account: str, names_account: bool) -> Any:
    """The data document (parsed JSON) with its `account_id` filled in from `account` where its
    message names one (`names_account`) and the document does not; refused (exit 2) when it
    names another."""
    if not (names_account and isinstance(data, dict)):
        return data
    named = data.setdefault("account_id", account)
    if named != account:
        typer.secho(f"the data names account {named} but --account is {account}: name one account", fg="red",
                    err=True)
        raise typer.Exit(ExitCode.BAD_INPUT)
    return data
