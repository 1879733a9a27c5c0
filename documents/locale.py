"""Numbers, dates and amounts as the customer's locale writes them, by Babel (CLDR data).

`de` gives "1.428,00 €", `fr` "1 428,00 €", `en` "€1,428.00". A regional language keeps its
region's conventions (de-CH -> "EUR 1’428.00"); one Babel does not know falls back to English.
"""

from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent

from contracts.money import minor_unit_exponent


@lru_cache(maxsize=64)
def locale_for(language: str) -> Locale:
    try:
        return Locale.parse(language, sep="-")
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def major_units(amount: int, currency: str) -> Decimal:
    return Decimal(amount).scaleb(-minor_unit_exponent(currency))


def money(amount: int, currency: str, language: str) -> str:
    # The currency's own number of decimals (JPY 0, KWD 3), not the locale's default of 2.
    return format_currency(major_units(amount, currency), currency, locale=locale_for(language),
                           currency_digits=True)


def quantity(value: Decimal, language: str) -> str:
    return format_decimal(value, format="#,##0.####", locale=locale_for(language))


def percentage(rate: Decimal, language: str) -> str:
    # The locale's pattern ("20 %" in German, "20%" in English) with the rate's own decimals (5.5).
    return format_percent(rate / 100, locale=locale_for(language), decimal_quantization=False)


def long_date(value: date, language: str) -> str:
    return format_date(value, format="medium", locale=locale_for(language))
