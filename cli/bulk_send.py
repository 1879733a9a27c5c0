"""`invoicing invoices send`: email every invoice a filter of the list selects, and report what
became of each mail.

The invoices are read from the list API (the account's API key), a page at a time; one
`invoice.send` is published per invoice; the answers of the run are followed on invoices.events
and mail.* until every invoice has an outcome or the timeout ends the wait. The mailer delivers
the mails in its own batches under its rate limit, so the wait lasts about as long as the
mailer's queue takes.

A run has an id, and each invoice's command id is derived from it: running the same run again
(after an interruption, say) publishes the same command ids, which the invoices service has
handled already, so nothing is sent twice. A new run's id ends in a random nonce (`secrets`), so
nobody can tell a run's command ids before it publishes them; it is printed, and `--run-id`
(`--resume`) runs that run again. This machine remembers the run of an account, filters and day
(UTC) in its state folder (`INVOICING_STATE_DIR`, by default `$XDG_STATE_HOME/invoicing`), so the
same command run again that day resumes it; `--new-run` starts another one, to send the same
selection again on purpose. The commands of a run share its id as their correlation id.
An invoice whose command was handled in an earlier run of the same id is silent now: its outcome
is read from its history once the run has been quiet for a few seconds, and one that the history
does not show was rejected then (`rejected_before`; rejections leave no trace on an invoice).

Every invoice that did not end sent (bounced, dropped, rejected now or before, no outcome) is
named with why, and the run exits with 9 (partly failed; cli/exit_codes.py).
"""

import asyncio
import hashlib
import json
import os
import secrets
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli.account import Account
from cli.amounts import money
from cli.exit_codes import ExitCode
from cli.filters import filtered
from cli.http import ApiKey, AsJson, get
from cli.kafka import Kafka
from cli.kafka import broker as kafka_broker
from cli.kafka import run as run_with_kafka
from contracts import topics
from contracts.envelope import Envelope
from contracts.messages.invoices import SendInvoice

_COMMAND_ID_NAMESPACE = uuid.UUID("2b0f7d0e-5c61-4b7e-9f0e-1d7b3c2a9e44")
PAGE = 100  # invoices per list request, the most the list serves
# The answers that settle an invoice: the event type, or the history action of the same outcome.
_FINAL = {"mail.sent": "sent", "mail.bounced": "bounced", "mail.dropped": "dropped",
          "email_sent": "sent", "email_bounced": "bounced", "email_dropped": "dropped"}
_REJECTED = {"invoice.command_rejected", "mail.rejected"}
# How the invoices service answers a send whose mail bounced or was dropped: counted as such.
_MAIL_FAILED = {"delivery_failed": "bounced", "recipient_suppressed": "dropped"}
_QUIET_SECONDS = 5
_TRAILING_SECONDS = 1  # with no answer this long, silent invoices' outcomes are looked up in their history

stderr = Console(stderr=True)


def selected(api_key: str, filters: dict[str, Any]) -> list[dict]:
    invoices, cursor = [], None
    while True:
        page = get("invoices", "/v1/invoices", api_key, filters | {"limit": PAGE, "cursor": cursor}, what="invoices")
        invoices += page["data"]
        if not page["has_more"]:
            return invoices
        cursor = page["next_cursor"]


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


def selection_name(account: str, filters: dict[str, Any]) -> str:
    """What a run sends: the account, the filters and the day (UTC)."""
    chosen = json.dumps({"account": account, **filters}, sort_keys=True)
    return f"send-{_today()}-{hashlib.sha256(chosen.encode()).hexdigest()[:12]}"


def new_run_id(account: str, filters: dict[str, Any]) -> str:
    """The selection's name and 128 random bits: nobody can name a run's command ids before it runs."""
    return f"{selection_name(account, filters)}-{secrets.token_hex(16)}"


def state_dir() -> Path:
    if folder := os.environ.get("INVOICING_STATE_DIR"):
        return Path(folder)
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "invoicing"


def run_for(account: str, filters: dict[str, Any], *, new: bool = False) -> str:
    """The run of this selection that this machine started today, or a new one (remembered)."""
    name = selection_name(account, filters)
    runs_file = state_dir() / "bulk-send-runs.json"
    try:
        runs = json.loads(runs_file.read_text())
    except (OSError, ValueError):
        runs = {}
    if not new and name in runs:
        return runs[name]
    run_id = runs[name] = new_run_id(account, filters)
    try:
        runs_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Only today's runs are kept: another day's is resumed by its id.
        kept = {key: value for key, value in runs.items() if key.startswith(f"send-{_today()}-")}
        runs_file.write_text(json.dumps(kept, indent=1))
        runs_file.chmod(0o600)
    except OSError as error:
        stderr.print(f"[yellow]could not remember run {run_id} in {runs_file} ({error}): "
                     f"resume it with --run-id {run_id}[/yellow]")
    return run_id


def command_id(run_id: str, invoice_id: str) -> uuid.UUID:
    return uuid.uuid5(_COMMAND_ID_NAMESPACE, f"{run_id}:{invoice_id}")


@dataclass
class Outcome:
    answered: bool = False  # anything of the run seen about the invoice
    queued: bool = False
    final: set[str] = field(default_factory=set)
    rejected: str | None = None  # reason code
    message: str = ""
    why: list[str] = field(default_factory=list)  # what the bounces and drops said
    # Handled in an earlier run of the same id, with nothing in the invoice's history to show
    # for it: the command was rejected then (rejections change no invoice).
    unrecorded: bool = False

    @property
    def settled(self) -> bool:
        # A mail whose recipients were all suppressed is dropped and never queued; one with some
        # suppressed is dropped for those and queued for the others, so it settles when sent.
        return bool(self.rejected or self.unrecorded or self.final - {"dropped"} or (self.final and not self.queued))

    def note(self, kind: str, data: dict) -> None:
        self.answered = True
        if kind in ("mail.queued", "email_queued"):
            self.queued = True
        elif kind in _FINAL:
            self.final.add(_FINAL[kind])
        elif kind in _REJECTED and data.get("reason") in _MAIL_FAILED:
            self.final.add(_MAIL_FAILED[data["reason"]])
            self.why.append(f"{data['reason']}: {data.get('message', '')}")
        elif kind in _REJECTED:
            self.rejected, self.message = data.get("reason", "rejected"), data.get("message", "")

    def failure(self) -> str | None:
        """Why the invoice did not end sent; None when it was sent (to some recipient at least)."""
        if "sent" in self.final:
            return None
        if self.rejected:
            return f"rejected {self.rejected}: {self.message}"
        if self.unrecorded:
            return "rejected in an earlier run of this id (its history shows no send)"
        if self.final:
            return " and ".join(sorted(self.final)) + "".join(f"; {why}" for why in self.why)
        return "no outcome before --timeout" + (" (the mail was queued)" if self.queued else "")


@dataclass
class BulkSend:
    account: str
    actor: str
    run_id: str
    api_key: str
    bootstrap: str
    timeout: float
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    settled: int = 0  # outcomes settled, counted as they settle

    async def run(self, invoices: list[dict]) -> None:
        self.outcomes = {invoice["id"]: Outcome() for invoice in invoices}
        columns = (TextColumn("{task.description:>10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        async with kafka_broker(self.bootstrap) as broker:
            watcher = broker.subscriber(topics.INVOICES_EVENTS, topics.MAIL_EVENTS)
            await watcher.start()
            with Progress(*columns, console=stderr, transient=False) as progress:
                publishing = progress.add_task("published", total=len(invoices))
                deliveries = []
                for invoice in invoices:
                    deliveries.append(await self._publish(broker, invoice["id"]))
                    progress.advance(publishing)
                await asyncio.gather(*deliveries)
                settling = progress.add_task("settled", total=len(invoices))
                await self._follow(watcher, lambda: progress.update(settling, completed=self.settled))
            await watcher.stop()

    def _note(self, outcome: Outcome, kind: str, data: dict, *, unrecorded: bool = False) -> None:
        was = outcome.settled
        outcome.note(kind, data)
        outcome.unrecorded = outcome.unrecorded or unrecorded
        self.settled += outcome.settled - was

    async def _publish(self, broker: Kafka, invoice_id: str):
        envelope = Envelope.originate(id=command_id(self.run_id, invoice_id), source="cli", type=SendInvoice.type_name,
                                      subject=invoice_id, accountid=self.account, correlationid=self.run_id,
                                      actor=self.actor)
        return await broker.publish(
            SendInvoice(invoice_id=invoice_id).model_dump_json().encode(), topic=SendInvoice.topic,
            key=invoice_id.encode(), headers=envelope.to_headers(), correlation_id=self.run_id, no_confirm=True,
        )

    async def _follow(self, watcher, show) -> None:
        deadline = time.monotonic() + self.timeout
        last_answer, looked_up = time.monotonic(), False

        def waiting() -> bool:
            # Once all are settled, a moment more for answers that come with the last ones (a mail
            # dropped for one recipient is queued for the others right after).
            settled = self.settled == len(self.outcomes)
            return time.monotonic() < (min(deadline, last_answer + _TRAILING_SECONDS) if settled else deadline)

        while waiting():
            message = await watcher.get_one(timeout=0.2)
            if message is None:
                if not looked_up and time.monotonic() - last_answer > _QUIET_SECONDS:
                    await asyncio.to_thread(self._look_up_silent)
                    looked_up = True
                    show()
                continue
            headers = message.headers
            outcome = self.outcomes.get(headers.get("ce_subject"))
            if headers.get("ce_correlationid") != self.run_id or outcome is None:
                continue
            last_answer = time.monotonic()
            self._note(outcome, headers.get("ce_type", ""), json.loads(message.body))
            show()

    def _look_up_silent(self) -> None:
        """The outcomes of this run's commands that were handled in an earlier run of it."""
        for invoice_id, outcome in self.outcomes.items():
            if outcome.answered:
                continue
            history = get("invoices", f"/v1/invoices/{invoice_id}/history", self.api_key, what=f"invoice {invoice_id}")
            ours = str(command_id(self.run_id, invoice_id))
            mail_ids = {entry["detail"].get("mail_id") for entry in history["data"]
                        if entry["action"] == "send_requested" and entry["message_id"] == ours}
            for entry in history["data"]:
                if mail_ids and entry["detail"].get("mail_id") in mail_ids:
                    self._note(outcome, entry["action"], entry["detail"])
            self._note(outcome, "", {}, unrecorded=not mail_ids)

    def summary(self) -> dict[str, Any]:
        outcomes = self.outcomes.values()
        rejected = Counter(o.rejected for o in outcomes if o.rejected)
        return {
            "run_id": self.run_id,
            "selected": len(self.outcomes),
            "queued": sum(o.queued for o in outcomes),
            **{kind: sum(kind in o.final for o in outcomes) for kind in ("sent", "bounced", "dropped")},
            "rejected": dict(rejected),
            "rejected_before": sum(o.unrecorded for o in outcomes),
            "no_outcome": sum(not o.settled for o in outcomes),
            "invoices": {invoice_id: {"queued": o.queued, "outcomes": sorted(o.final), "rejected": o.rejected,
                                      "message": o.message} for invoice_id, o in self.outcomes.items()},
            "not_sent": {invoice_id: why for invoice_id, o in self.outcomes.items() if (why := o.failure())},
        }


@filtered
def send(
    filters: dict, account: Account = "", api_key: ApiKey = "",
    run_id: Annotated[str | None, typer.Option(
        "--run-id", "--resume", help="Run the run of this id again (printed by every run); the same id never sends "
        "an invoice twice (default: this machine's run of these filters today, or a new one)")] = None,
    new_run: Annotated[bool, typer.Option(help="Start a new run, also when one of these filters ran today: "
                                               "sends the selection again")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the outcomes at most")] = 300,
    dry_run: Annotated[bool, typer.Option(help="List what would be sent; send nothing")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before sending many")] = False,
    confirm_above: Annotated[int, typer.Option(help="Ask before sending more invoices than this")] = 20,
    actor: Annotated[str, typer.Option(help="Who is asking")] = f"user:{os.environ.get('USER', 'cli')}",
    bootstrap: Annotated[str, typer.Option(envvar="KAFKA_BOOTSTRAP_SERVERS", help="Kafka bootstrap servers")] = "127.0.0.1:9092",
    as_json: AsJson = False,
) -> None:
    """Send every invoice the filters select (as `invoices list` selects them), then summarise:
    how many mails were queued, sent, bounced and dropped, and which commands were rejected why.

    Names every invoice that did not end sent, with why, and then exits with 9 (partly failed)."""
    invoices = selected(api_key, filters)
    run = run_id or run_for(account, filters, new=new_run)
    stderr.print(f"run {run} (run it again with --run-id {run})")
    if dry_run:
        _print_selection(invoices, run, as_json)
        return
    if len(invoices) > confirm_above and not yes:
        typer.confirm(f"send {len(invoices)} invoices (run {run})?", abort=True, err=True)
    bulk = BulkSend(account=account, actor=actor, run_id=run, api_key=api_key, bootstrap=bootstrap, timeout=timeout)
    run_with_kafka(bulk.run(invoices), bootstrap)
    summary = bulk.summary()
    _print_summary(summary, as_json)
    if summary["not_sent"]:
        raise typer.Exit(ExitCode.PARTLY_FAILED)


def _print_selection(invoices: list[dict], run_id: str, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"run_id": run_id, "selected": len(invoices), "invoices": invoices}, indent=2))
        return
    table = Table("id", "number", "status", "customer", "total", "due", title=f"would send {len(invoices)} (run {run_id})")
    for invoice in invoices:
        table.add_row(invoice["id"], invoice["number"] or "", invoice["status"], invoice["customer"],
                      money(invoice["total"], invoice["currency"]), invoice["due_date"] or "")
    Console().print(table)


def _print_summary(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    table = Table("outcome", "invoices", title=f"run {summary['run_id']}: {summary['selected']} selected")
    for kind in ("queued", "sent", "bounced", "dropped", "rejected_before", "no_outcome"):
        table.add_row(kind.replace("_", " "), str(summary[kind]))
    for reason, count in sorted(summary["rejected"].items()):
        table.add_row(f"rejected: {reason}", str(count))
    Console().print(table)
    for invoice_id, why in summary["not_sent"].items():
        typer.echo(f"{invoice_id} not sent: {why}")
