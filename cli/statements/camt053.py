"""ISO 20022 camt.053 (BankToCustomerStatement), camt.052 (BankToCustomerAccountReport) and camt.054
(BankToCustomerDebitCreditNotification), versions 001.02 to 001.08, read with lxml.

The elements read here have the same names and nesting in every version from 02 to 08, apart
from the few alternatives handled in place: the entry status is a bare code up to 06 and a choice
(`Sts/Cd`) from 07; a related party's name sits in `Dbtr/Nm` up to 07 and in `Dbtr/Pty/Nm` in 08;
a transaction detail carries its own `Amt` and `CdtDbtInd` from 03 (`AmtDtls/TxAmt/Amt` in 02).
A camt.054 notification (`Ntfctn`) has the entries of a statement and no balances; a camt.052
report (`Rpt`, intraday) has the entries so far and interim balances, which are not checked (they
need not add up to anything the report holds). Entries with status PDNG are pending credits: read
with their value date, published by `transactions.classify` as `bank_transaction.pending`.

What the schema requires of what is read is checked as it is read, with the element's line:
amounts (at most 18 digits, 5 of them decimals), currency codes, the credit/debit indicator,
dates. The rest of the document is not validated. The document's own sums are: a statement
(camt.053) must carry its opening (OPBD, or PRCD: the previous closing) and closing (CLBD)
booked balances, and opening + booked credits - booked debits = closing; where a statement or
notification carries a transactions summary (`TxsSummry`), the entries must add up to its totals
of credits and debits; and a batch entry's details must add up to the entry.
"""

import re
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

from lxml import etree

from cli.statements.model import Booking, MalformedStatement, Statement, check_balance

_NAMESPACE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.05([234])\.001\.0([2-8])")
# The report of each message: a report (camt.052), a statement (camt.053) or a notification (camt.054).
_REPORTS = {"2": ("BkToCstmrAcctRpt", "Rpt"), "3": ("BkToCstmrStmt", "Stmt"), "4": ("BkToCstmrDbtCdtNtfctn", "Ntfctn")}
_OPENING, _CLOSING = ("OPBD", "PRCD"), ("CLBD",)
# ActiveOrHistoricCurrencyAndAmount: fractionDigits 5, totalDigits 18, not negative.
_AMOUNT = re.compile(r"(?=[0-9.]{1,19}$)[0-9]{1,18}(\.[0-9]{1,5})?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_NOT_PROVIDED = "NOTPROVIDED"


def read(content: bytes, name: str) -> list[Statement]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as error:
        raise MalformedStatement(f"{name} line {error.lineno}", f"not well-formed XML: {error.msg}") from None
    document = _Document(root, name)
    message, report = _REPORTS[document.kind]
    return [document.statement(element) for element in document.all(document.required(root, message), report)]


class _Document:
    def __init__(self, root: etree._Element, name: str):
        self.name = name
        namespace = etree.QName(root).namespace or ""
        found = _NAMESPACE.fullmatch(namespace)
        if etree.QName(root).localname != "Document" or not found:
            raise MalformedStatement(
                self.at(root), f"not a camt.052, camt.053 or camt.054 document of version 02 to 08 (root {root.tag!r})"
            )
        self.ns = {"c": namespace}
        self.kind = found.group(1)

    def at(self, element: etree._Element) -> str:
        path = "/".join(etree.QName(e).localname for e in reversed([element, *element.iterancestors()]))
        return f"{self.name} line {element.sourceline} <{path}>"

    def first(self, element: etree._Element, *paths: str) -> etree._Element | None:
        for path in paths:
            found = element.find("c:" + path.replace("/", "/c:"), self.ns)
            if found is not None:
                return found
        return None

    def all(self, element: etree._Element, path: str) -> list[etree._Element]:
        return element.findall("c:" + path.replace("/", "/c:"), self.ns)

    def required(self, element: etree._Element, path: str) -> etree._Element:
        found = self.first(element, path)
        if found is None:
            raise MalformedStatement(self.at(element), f"{path} is missing")
        return found

    def text(self, element: etree._Element, *paths: str) -> str:
        found = self.first(element, *paths)
        return (found.text or "").strip() if found is not None else ""

    def amount(self, element: etree._Element) -> tuple[Decimal, str]:
        value, currency = (element.text or "").strip(), element.get("Ccy", "")
        if not _AMOUNT.fullmatch(value):
            raise MalformedStatement(
                self.at(element), f"amount {value!r} is not a decimal of at most 18 digits, 5 of them decimals"
            )
        if not _CURRENCY.fullmatch(currency):
            raise MalformedStatement(self.at(element), f"currency {currency!r} is not a three-letter code")
        return Decimal(value), currency

    def credit(self, element: etree._Element) -> bool:
        indicator = (element.text or "").strip()
        if indicator not in ("CRDT", "DBIT"):
            raise MalformedStatement(self.at(element), f"CdtDbtInd {indicator!r} is neither CRDT nor DBIT")
        return indicator == "CRDT"

    def day(self, element: etree._Element | None) -> date | None:
        found = self.first(element, "Dt", "DtTm") if element is not None else None
        if found is None:
            return None
        text = (found.text or "").strip()
        try:
            return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text).date()
        except ValueError:
            raise MalformedStatement(self.at(found), f"{text!r} is not an ISO date or date-time") from None

    def statement(self, element: etree._Element) -> Statement:
        account = self.required(element, "Acct")
        identification = self.text(account, "Id/IBAN", "Id/Othr/Id")
        if not identification:
            raise MalformedStatement(self.at(account), "the account has neither Id/IBAN nor Id/Othr/Id")
        entries = self.all(element, "Ntry")
        currency = self.text(account, "Ccy")
        if not currency:
            # The account's currency is optional; the balances (a statement has them) or the entries are in it.
            source = self.first(element, "Bal" if self.kind == "3" else "Ntry")
            source = source if source is not None else self.required(element, "Bal")  # a report without entries
            currency = self.amount(self.required(source, "Amt"))[1]
        bookings = [booking for entry in entries for booking in self.bookings(entry)]
        if self.kind == "3":
            self.check_balances(element, entries, currency)
        self.check_summary(element, entries)
        return Statement(self.at(element), self.text(element, "Id"), identification, currency, bookings)

    def signed(self, element: etree._Element) -> Decimal:
        """An element's `Amt`, negative when its `CdtDbtInd` says DBIT."""
        amount = self.amount(self.required(element, "Amt"))[0]
        return amount if self.credit(self.required(element, "CdtDbtInd")) else -amount

    def check_balances(self, statement: etree._Element, entries: list[etree._Element], currency: str) -> None:
        """Opening + booked credits - booked debits = closing: booked balances move with booked
        entries only (a pending entry is in neither)."""
        balances: dict[str, etree._Element] = {}
        for balance in self.all(statement, "Bal"):
            balances.setdefault(self.text(balance, "Tp/CdOrPrtry/Cd", "Tp/CdOrPrtry/Prtry"), balance)
        opening = next((balances[code] for code in _OPENING if code in balances), None)
        closing = next((balances[code] for code in _CLOSING if code in balances), None)
        if opening is None or closing is None:
            raise MalformedStatement(
                self.at(statement), "the statement lacks its opening (OPBD or PRCD) or closing (CLBD) booked balance"
            )
        # An entry in another currency than the account's cannot be in its balance (it is reported).
        booked = [
            self.signed(entry) for entry in entries
            if self.text(entry, "Sts/Cd", "Sts/Prtry", "Sts") == "BOOK" and self.required(entry, "Amt").get("Ccy") == currency
        ]
        check_balance(self.at(closing), self.signed(opening), booked, self.signed(closing), currency)

    def check_summary(self, report: etree._Element, entries: list[etree._Element]) -> None:
        """The totals of a transactions summary, where the bank gives one, are the entries' totals."""
        summary = self.first(report, "TxsSummry")
        if summary is None:
            return
        signed = [self.signed(entry) for entry in entries]
        for path, found in (("TtlCdtNtries", [a for a in signed if a > 0]), ("TtlDbtNtries", [-a for a in signed if a < 0])):
            total = self.first(summary, path)
            if total is None:
                continue
            count, amount = self.text(total, "NbOfNtries"), self.text(total, "Sum")
            if (count and count != str(len(found))) or (amount and Decimal(amount) != sum(found, Decimal(0))):
                raise MalformedStatement(self.at(total), (
                    f"the summary says {count or '?'} entries of {amount or '?'}, "
                    f"the entries are {len(found)} of {sum(found, Decimal(0))}"
                ))

    def bookings(self, entry: etree._Element) -> list[Booking]:
        amount, currency = self.amount(self.required(entry, "Amt"))
        credit = self.credit(self.required(entry, "CdtDbtInd"))
        status = self.text(entry, "Sts/Cd", "Sts/Prtry", "Sts")
        value_date = self.day(self.first(entry, "ValDt"))
        terms = {
            "booked": status == "BOOK",
            "pending": status == "PDNG",
            "booked_on": self.day(self.first(entry, "BookgDt")) or value_date,
            "value_date": value_date,
            "reversal": self.text(entry, "RvslInd") in ("true", "1"),
        }
        reference = self.text(entry, "AcctSvcrRef") or self.text(entry, "NtryRef") or None
        details = self.all(entry, "NtryDtls/TxDtls")
        if len(details) <= 1:
            described = self.described(details[0]) if details else {}
            reference = reference or (self.text(details[0], "Refs/AcctSvcrRef") if details else "") or None
            return [Booking(self.at(entry), reference, None, amount, currency, credit, **terms, **described)]
        return self.batch(details, reference, amount, currency, credit, terms)

    def batch(self, details: list[etree._Element], reference: str | None, amount: Decimal, currency: str,
              credit: bool, terms: dict) -> list[Booking]:
        """A batch booking: each transaction detail is a booking of its own, named after the entry's
        reference and its position (or after its own reference, when the entry has none)."""
        parts = []
        for position, detail in enumerate(details, start=1):
            amount_element = self.first(detail, "Amt", "AmtDtls/TxAmt/Amt")
            indicator = self.first(detail, "CdtDbtInd")
            part_amount, part_currency = self.amount(amount_element) if amount_element is not None else (None, currency)
            own_reference = self.text(detail, "Refs/AcctSvcrRef") or None
            parts.append(Booking(
                self.at(detail), reference or own_reference, position if reference else None,
                part_amount if part_amount is not None else Decimal(0), part_currency,
                self.credit(indicator) if indicator is not None else credit, **terms, **self.described(detail),
                problem=None if part_amount is not None else "the transaction detail of a batch booking has no amount",
            ))
        signed = sum((p.amount if p.credit else -p.amount) for p in parts)
        if all(p.problem is None for p in parts) and signed != (amount if credit else -amount):
            problem = f"the details add up to {signed}, the entry is {'' if credit else '-'}{amount} {currency}"
            parts = [replace(p, problem=problem) for p in parts]
        return parts

    def described(self, detail: etree._Element) -> dict:
        """Who paid and what the payer wrote: the remittance lines, and a structured creditor
        reference (the RF reference an invoice asks for) as text of its own."""
        remittance = [(e.text or "").strip() for e in self.all(detail, "RmtInf/Ustrd")]
        remittance += [
            (e.text or "").strip()
            for path in ("RmtInf/Strd/CdtrRefInf/Ref", "RmtInf/Strd/CdtrRefInf/CdtrRef")
            for e in self.all(detail, path)
        ]
        end_to_end_id = self.text(detail, "Refs/EndToEndId")
        return {
            "remittance_information": " ".join(line for line in remittance if line),
            "debtor_name": self.text(detail, "RltdPties/Dbtr/Nm", "RltdPties/Dbtr/Pty/Nm"),
            "debtor_iban": self.text(detail, "RltdPties/DbtrAcct/Id/IBAN") or None,
            "end_to_end_id": "" if end_to_end_id == _NOT_PROVIDED else end_to_end_id,
        }
