"""`invoicing mail`: the account's mail suppressions. An address that bounced for good (or whose
mails were dropped) is suppressed: the mailer sends it nothing until the suppression is lifted."""

from typing import Annotated

import typer

from cli.account import Account
from cli.exit_codes import ExitCode
from cli.options import ACTOR, Actor, Bootstrap, Wait

app = typer.Typer(help="Lift the account's suppression of an address.", no_args_is_help=True)


@app.command("unsuppress")
def unsuppress(
    address: Annotated[str, typer.Argument(help="The email address to try again", show_default=False)],
    reason: Annotated[str, typer.Option(help="Why (kept in the suppression's history)")] = "",
    account: Account = "", actor: Actor = ACTOR, wait: Wait = 10.0, bootstrap: Bootstrap = "127.0.0.1:9092",
) -> None:
    """Lift the suppression of ADDRESS: the account's next mails to it are tried again. Exits with
    7 when the account does not suppress it."""
    from pydantic import ValidationError

    from cli.publish import publish_and_watch
    from contracts.envelope import describe_validation_error
    from contracts.messages.mail import UnsuppressAddress

    try:
        command = UnsuppressAddress(address=address, reason=reason)
    except ValidationError as error:
        typer.secho(f"invalid address: {describe_validation_error(error)}", fg="red", err=True)
        raise typer.Exit(ExitCode.BAD_INPUT) from None
    publish_and_watch(bootstrap, command, account=account, actor=actor, wait=wait)
