"""`invoicing`: publish commands and watch what the platform answers, from a terminal.

Every command is registered here by name and summary and imported only when it runs
(cli/lazy.py): `invoicing --help` loads typer alone, and a read command its own module.
"""

import os
import sys
import traceback

import typer
from typer._click.exceptions import Abort, ClickException, Exit

from cli.exit_codes import ExitCode, described
from cli.lazy import Lazy, LazyGroup, lazy_group

EXAMPLES = (("invoicing types", "the message types"),
            ("invoicing example invoice.create > inv.json", "a document to start from"),
            ("invoicing publish invoice.create inv.json", "publish it, show the answers"),
            ("invoicing invoices list --status open", "the account's invoices"))
# Click's plain help (typer's rich help imports rich and markdown-it: 0.4 s); \b keeps a block's lines.
HELP = "\n\n".join([
    "Publish commands to the invoicing platform and watch what it answers.",
    "\b\n" + "\n".join(f"  {command:46}{what}" for command, what in EXAMPLES),
    "The account is --account or INVOICING_ACCOUNT (there is no default). Kafka settings come from the environment "
    "like the services' (KAFKA_BOOTSTRAP_SERVERS, KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, "
    "KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE, KAFKA_SSL_CAFILE); the read APIs' key is --api-key or "
    "INVOICING_API_KEY.",
    "Exit codes (stable, for scripts):",
    "\b\n" + described(),
])

COMMANDS = (
    Lazy("types", "cli.catalog:list_types", "List every message type with its topic, kind and Kafka key field."),
    Lazy("example", "cli.catalog:example", "Print a valid example data document for TYPE_NAME."),
    Lazy("publish", "cli.publish:publish", "Validate a data document as TYPE_NAME, publish it as a CloudEvent of "
                                           "ACCOUNT and show the answers, a line each."),
    Lazy("watch", "cli.publish:watch", "Print messages as they arrive, a line each (--json: headers, key and data)."),
    Lazy("invoices", "cli.invoices:app", "Read the account's invoices (needs an API key), download their PDFs, "
                                         "send them in bulk."),
    Lazy("credit-note", "cli.credit_notes:app", "Credit finalized invoices, mail credit notes, read them."),
    Lazy("payments", "cli.payments:app", "Read the account's payments (needs an API key)."),
    Lazy("balance", "cli.balance:app", "A customer's balances, and refunds paid out of them."),
    Lazy("mail", "cli.mail:app", "Lift the account's suppression of an address."),
    Lazy("statements", "cli.statements.command:app", "Import bank statement files (camt.053, camt.052, camt.054, MT940)."),
    Lazy("numbering", "cli.numbering:app", "Check the account's invoice numbers (needs an API key)."),
    Lazy("audit", "cli.audit:audit", "Compare each invoice's amount paid with payments' records and the invoices' "
                                     "numbers with numbering's ledger."),
    Lazy("keys", "cli.keys:app", "Create and revoke API keys (per account)."),
    Lazy("integrators", "cli.integrators:app", "Grant integrators the accounts they may act for; revoke and list "
                                               "grants."),
)


class Invoicing(lazy_group(*COMMANDS)):
    """The top-level group, and its handler of the unforeseen: whatever a command did not say
    itself ends as one sentence (exit 70, with the traceback only under INVOICING_DEBUG=1), a
    file that cannot be read as refused input (exit 2), Ctrl-C as exit 130, a closed pipe
    (`| head`) as the end of the output."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (Exit, Abort, ClickException):
            raise
        except KeyboardInterrupt:
            raise Exit(ExitCode.INTERRUPTED) from None
        except BrokenPipeError:
            # The reader went away (`| head`): what is left to print has nobody to read it.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise Exit(ExitCode.OK) from None
        except OSError as error:
            if error.filename is None:
                _fail_unforeseen(error)
            typer.secho(f"cannot read {error.filename}: {error.strerror}", fg="red", err=True)
            raise Exit(ExitCode.BAD_INPUT) from None
        except Exception as error:
            _fail_unforeseen(error)


def _fail_unforeseen(error: Exception):
    if os.environ.get("INVOICING_DEBUG"):
        traceback.print_exc()
    typer.secho(f"invoicing failed: {type(error).__name__}: {error} (INVOICING_DEBUG=1 shows where)", fg="red",
                err=True)
    raise Exit(ExitCode.INTERNAL) from None


app = typer.Typer(cls=Invoicing, help=HELP, no_args_is_help=True, add_completion=False, rich_markup_mode=None,
                  pretty_exceptions_enable=False)


@app.callback()
def invoicing() -> None:
    """Every command is a subcommand (COMMANDS)."""


__all__ = ["COMMANDS", "LazyGroup", "app"]
