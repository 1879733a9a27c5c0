"""Line amounts and invoice totals in minor units.

Amounts are integers in the currency's minor unit, so the only rounding happens here, once per
line: a line's net amount is quantity x unit price rounded half-up, its tax is that amount x
rate rounded half-up. Totals are plain sums of the rounded line figures, which makes them stable
across re-renders and equal to what the document prints line by line.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from contracts.messages.common import LineItem, PricedLine


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def price_line(line: LineItem) -> PricedLine:
    amount = _round(line.quantity * line.unit_amount)
    tax_amount = _round(Decimal(amount) * line.tax_rate / 100)
    return PricedLine(**line.model_dump(), amount=amount, tax_amount=tax_amount)


@dataclass(frozen=True)
class Totals:
    subtotal: int
    tax: int

    @property
    def total(self) -> int:
        return self.subtotal + self.tax


def totals(lines: list[PricedLine]) -> Totals:
    return Totals(subtotal=sum(line.amount for line in lines), tax=sum(line.tax_amount for line in lines))
