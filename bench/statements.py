"""Bank statement import on the test stack: bookings per second read from camt.053 and MT940
files (parsed and classified), published to Kafka, and answered by payments.

    make bench-statements                                  (20,000 bookings a file)
    make bench-statements BENCH_ARGS="--bookings 100000"

Writes one camt.053.001.08 file and one MT940 file (German dialect) of as many booked credits as
asked, each naming no invoice, reads both as `invoicing statements import` does, publishes the
camt.053 credits through the command's own publisher under a fresh account, and waits until
payments has answered each (`payment.unmatched`). Asserts nothing; the last line reads
`statements: read <r>/s, published <p>/s, answered by payments <a>/s`.
"""

import argparse
import asyncio
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

from cli.statements import read_statements
from cli.statements.command import publish_transactions
from cli.statements.transactions import classify
from contracts.messages.payments import BankTransactionReceived
from tests.integration.harness import EventLog, ServiceProcesses, env

IBAN = "DE89370400440532013000"


def amount(n: int) -> Decimal:
    return Decimal(10 + n % 1000) + Decimal(n % 100) / 100


def closing(bookings: int) -> Decimal:
    """The closing balance the statements must carry: they open at 0 and take only credits."""
    return sum((amount(n) for n in range(bookings)), Decimal(0))


def camt053(bookings: int) -> str:
    entry = (
        '<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
        "<BookgDt><Dt>2026-11-20</Dt></BookgDt><AcctSvcrRef>BENCH{n:08d}</AcctSvcrRef>"
        "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>"
        "<NtryDtls><TxDtls><Refs><EndToEndId>E2E-{n}</EndToEndId></Refs>"
        "<RltdPties><Dbtr><Pty><Nm>Customer {n}</Nm></Pty></Dbtr></RltdPties>"
        "<RmtInf><Ustrd>Order {n} thank you</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>\n"
    )
    entries = "".join(entry.format(n=n, amount=amount(n)) for n in range(bookings))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">'
        "<BkToCstmrStmt><GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2026-11-20T18:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>BENCH-1</Id><Acct><Id><IBAN>{IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        '<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
        "<Dt><Dt>2026-11-20</Dt></Dt></Bal>"
        f'<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{closing(bookings)}</Amt>'
        f"<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-20</Dt></Dt></Bal>\n{entries}</Stmt></BkToCstmrStmt></Document>\n"
    )


def mt940(bookings: int) -> str:
    lines = [f":20:BENCH\n:25:{IBAN}\n:28C:00001/001\n:60F:C261119EUR0,00\n"]
    for n in range(bookings):
        lines.append(
            f":61:2611201120CR{str(amount(n)).replace('.', ',')}NTRFNONREF//B{n:08d}\n"
            f":86:166?00GUTSCHR. UEBERWEISUNG?109075?20EREF+E2E-{n}?21SVWZ+Order {n} thank you?32Customer {n}\n"
        )
    lines.append(f":62F:C261120EUR{str(closing(bookings)).replace('.', ',')}\n-\n")
    return "".join(lines)


def read(path: Path) -> tuple[list[BankTransactionReceived], float]:
    started = time.perf_counter()
    found = [o for statement in read_statements(path) for o in classify(statement)]
    seconds = time.perf_counter() - started
    return [o for o in found if isinstance(o, BankTransactionReceived)], seconds


async def publish_and_await_answers(transactions: list[BankTransactionReceived]) -> tuple[float, float]:
    account_id = f"acct_bench_{uuid.uuid4().hex[:8]}"
    log = EventLog(env("KAFKA_BOOTSTRAP_SERVERS"))
    await log.start()
    try:
        started = time.perf_counter()
        await publish_transactions(env("KAFKA_BOOTSTRAP_SERVERS"), transactions, account_id, "bench")
        published = time.perf_counter() - started
        while sum(1 for r in log.records if r.type == "payment.unmatched"
                  and r.headers.get("ce_accountid") == account_id) < len(transactions):
            await asyncio.sleep(0.2)
        return published, time.perf_counter() - started
    finally:
        await log.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bookings", type=int, default=20_000, help="booked credits per file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        files = {"camt.053": Path(folder) / "bench.xml", "MT940": Path(folder) / "bench.sta"}
        files["camt.053"].write_text(camt053(args.bookings))
        files["MT940"].write_text(mt940(args.bookings))
        rates, read_transactions = [], {}
        for name, path in files.items():
            read_transactions[name] = (transactions, seconds) = read(path)
            assert len(transactions) == args.bookings, f"{name}: {len(transactions)} of {args.bookings} read"
            rates.append(args.bookings / seconds)
            print(f"{name}: {args.bookings} bookings ({path.stat().st_size / 2**20:.1f} MiB) read in {seconds:.2f} s"
                  f" = {rates[-1]:.0f}/s")
        camt_transactions = read_transactions["camt.053"][0]
    services = ServiceProcesses(Path(env("STACK_DIR")) / "bench-services")
    services.start_all(["payments"])
    try:
        published, answered = asyncio.run(publish_and_await_answers(camt_transactions))
    finally:
        services.stop_all()
    print(f"published {args.bookings} bank_transaction.received in {published:.2f} s = {args.bookings / published:.0f}/s;"
          f" payments answered all {answered:.2f} s after the first = {args.bookings / answered:.0f}/s")
    print(f"statements: read {min(rates):.0f}/s, published {args.bookings / published:.0f}/s, "
          f"answered by payments {args.bookings / answered:.0f}/s")


if __name__ == "__main__":
    main()
