"""CPU per mail of what the mailer's own process does to a mail with its document, step by step,
on one core and without the stack.

    .venv/bin/python -m bench.composing [--mails N]

An invoice mail as bench/mail.py queues it (the example `mail.send_invoice`, its PDF rendered
once beforehand, as the renderer's workers do): the transfer QR code of a new invoice, with the
mask fixed (documents.epc_qr) and with the one segno would choose; the mail composed
(domain.composition, its QR code remembered); serialized once for SMTP (adapters.wire) next to
aiosmtplib's send_message flattening, which the mailer used before; and the two line-ending
scans and the dot-stuffing aiosmtplib's sendmail still does on the serialized bytes. CPU time
(process time) per mail, the best of a few runs. Prints its figures; asserts nothing.
"""

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime

import segno
from aiosmtplib.email import flatten_message
from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings

from contracts.example_data import examples
from documents.document import render_document
from documents.epc_qr import TransferRequest, _payload, epc_qr
from services.mailer.adapters.wire import wire_bytes
from services.mailer.delivery import compose
from services.mailer.domain.mail_job import MailJob


def best_ms(step: Callable[[int], object], count: int, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        for n in range(count):
            step(n)
        best = min(best, (time.process_time() - started) / count)
    return best * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mails", type=int, default=200, help="mails per run (default 200)")
    args = parser.parse_args()
    example = examples()["mail.send_invoice"]
    now = datetime.now(UTC)
    job = MailJob.queue(mail_id=example.mail_id, account_id="acct_bench", invoice_id=example.invoice_id,
                        kind=example.kind, language=example.language, attach_pdf=True, document=example.invoice,
                        to=example.to, cc=example.cc, suppressed=set(), cause={}, now=now)
    pdf = render_document(job.document, job.document.issuer, job.language)
    message, _ = compose(job, now, pdf)
    wire = wire_bytes(message)

    def request(n: int) -> TransferRequest:  # a new invoice's: not remembered by epc_qr
        return TransferRequest(payee="Acme Tooling GmbH", iban="DE89370400440532013000", bic=None,
                               amount=100_000 + n, reference=f"RF76INV{time.monotonic_ns() % 10**9:09d}")

    figures = {
        "QR code, mask fixed": best_ms(lambda n: epc_qr(request(n)), args.mails),
        "QR code, mask chosen by segno": best_ms(
            lambda n: segno.make_qr(_payload(request(n)), error="m", boost_error=False), args.mails),
        "composing": best_ms(lambda n: compose(job, now, pdf), args.mails),
        "serializing (adapters.wire)": best_ms(lambda n: wire_bytes(message), args.mails),
        "send_message's flattening, before": best_ms(lambda n: flatten_message(message), args.mails),
        "sendmail's line-ending scans and dot-stuffing": best_ms(
            lambda n: PERIOD_REGEX.sub(b"..", normalize_message_line_endings(normalize_message_line_endings(wire))),
            args.mails),
        "rendering the document (a worker's)": best_ms(
            lambda n: render_document(job.document.model_copy(update={"number": f"INV-{n}"}), job.document.issuer,
                                      job.language), max(args.mails // 10, 5)),
    }
    print(f"one invoice mail, {len(wire) / 1024:.0f} KiB with its PDF of {len(pdf) / 1024:.0f} KiB; CPU per mail:")
    for step, milliseconds in figures.items():
        print(f"  {step}: {milliseconds:.2f} ms")


if __name__ == "__main__":
    main()
