"""`invoicing statements import FILE...`: bank statements into `bank_transaction.received`, and the
pending credits they announce (camt status PDNG) into `bank_transaction.pending`.

Every file is read whole before anything is published: one malformed file refuses the import
(exit 2), and nothing of any file is published. The account (tenant) the transactions belong to
is `--account` (or INVOICING_ACCOUNT), required: whoever imports a statement acts for one account, as with `publish`.
The statement's IBAN is the credited IBAN of its transactions; payments matches them against the
account's payee IBANs and queues a transfer to another IBAN as unmatched (`unknown_iban`).
"""

import asyncio
import json
import sys
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from cli.account import Account
from cli.kafka import broker as kafka_broker
from cli.kafka import run
from cli.options import ACTOR, Actor, Bootstrap
from cli.statements import MalformedStatement, read_statements
from cli.statements.transactions import Reported, classify
from contracts.envelope import Envelope
from contracts.messages.payments import BankCredit, BankTransactionPending

app = typer.Typer(help="Import bank statement files (camt.053, camt.052, camt.054, MT940).", no_args_is_help=True)


@app.command("import")
def import_statements(
    files: Annotated[list[Path], typer.Argument(help="camt.053, camt.052 or camt.054 (XML) or MT940 files", exists=True, dir_okay=False)],
    account: Account = "",
    actor: Actor = ACTOR,
    dry_run: Annotated[bool, typer.Option(help="Read and report only; publish nothing")] = False,
    bootstrap: Bootstrap = "127.0.0.1:9092",
) -> None:
    """Publish one bank_transaction.received per booked credit of each statement, and one
    bank_transaction.pending per pending credit (camt status PDNG); report the rest.

    Prints one JSON line per booking that is not published (reason and detail), then one summary
    line per file (`pending`: how many of those published are pending credits). Importing a file twice publishes the same transaction ids, which payments
    takes once.
    """
    read = {}
    with typer.progressbar(files, label="reading", file=sys.stderr) as progress:
        for path in progress:
            try:
                read[path] = read_statements(path)
            except MalformedStatement as error:
                typer.secho(f"refused {error.where}: {error.reason}", fg="red", err=True)
                raise typer.Exit(2) from None
    outcomes = {path: [outcome for statement in statements for outcome in classify(statement)]
                for path, statements in read.items()}
    transactions = [o for found in outcomes.values() for o in found if isinstance(o, BankCredit)]
    if not dry_run:
        run(publish_transactions(bootstrap, transactions, account, actor), bootstrap)
    for path, found in outcomes.items():
        reported = [o for o in found if isinstance(o, Reported)]
        for item in reported:
            typer.echo(json.dumps({"file": str(path), **asdict(item)}))
        summary = {"file": str(path), "statements": len(read[path]), "bookings": len(found),
                   "published": 0 if dry_run else len(found) - len(reported), "reported": len(reported),
                   "pending": 0 if dry_run else sum(isinstance(o, BankTransactionPending) for o in found)}
        typer.echo(json.dumps(summary))


async def publish_transactions(bootstrap: str, transactions: list[BankCredit], account: str, actor: str) -> None:
    """All of the import's transactions are one flow (one correlation id), sent without waiting
    per message and confirmed at the end: the command exits 0 only once Kafka has them all."""
    correlation_id = str(uuid.uuid4())
    async with kafka_broker(bootstrap) as broker:
        deliveries = []
        with typer.progressbar(transactions, label="publishing", file=sys.stderr) as progress:
            for transaction in progress:
                envelope = Envelope.originate(
                    source="cli", type=transaction.type_name, subject=transaction.aggregate_id(),
                    accountid=account, actor=actor,
                ).model_copy(update={"correlationid": correlation_id})
                deliveries.append(await broker.publish(
                    transaction.model_dump_json().encode(), topic=transaction.topic, key=envelope.subject.encode(),
                    headers=envelope.to_headers(), correlation_id=correlation_id, no_confirm=True,
                ))
        await asyncio.gather(*deliveries)
    pending = sum(isinstance(transaction, BankTransactionPending) for transaction in transactions)
    typer.secho(f"published {len(transactions) - pending} bank_transaction.received and {pending} "
                f"bank_transaction.pending to {BankTransactionPending.topic}", fg="green", err=True)
