"""Amounts as the terminal's locale writes them (LC_ALL, LC_MONETARY, LANG; English when none is
set, or the C and POSIX locales of a bare container), by the documents' own Babel formatting:
"€1,473.50" in English, "1.473,50 €" in German. Every table and answer line of the CLI writes
amounts through `money`."""

from babel import default_locale

from documents.locale import money as formatted


def _terminal_language() -> str:
    found = default_locale("LC_MONETARY")
    return "en" if not found or "POSIX" in found else found.replace("_", "-")


LANGUAGE = _terminal_language()


def money(amount: int, currency: str) -> str:
    return formatted(amount, currency, LANGUAGE)
