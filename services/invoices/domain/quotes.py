"""A quote becomes at most one invoice, and the quote system hears when it is invoiced and when
it is free again (docs/design.md, "Quotes").

The link from a quote to its invoice is written just before the invoice, as a store of its own
(no write covers both), so a link may name an invoice that never appeared: its creation was
stopped in between and not completed, or refused when it came again. Which link still holds its
quote is decided here, from the invoice it names as the store has it.
"""

from datetime import datetime, timedelta

from services.invoices.domain.invoice import Invoice

# How long a link whose invoice is not in the store yet counts as a creation under way. A creation
# writes its invoice within milliseconds of its claim; a redelivered one claims again first.
CLAIM_LEASE = timedelta(minutes=10)


def holds_quote(quote_id: str, invoice: Invoice | None, claimed_at: datetime | None, now: datetime) -> bool:
    """Whether a link still holds the quote for the invoice it names (`invoice`, None when the
    store has no such invoice): while that invoice exists, undeleted and made from this quote,
    whatever its status (a void or credited invoice keeps its quote invoiced); while it is being
    created, for CLAIM_LEASE after the claim; never once it is deleted."""
    if invoice is not None:
        return not invoice.deleted and invoice.quote_id == quote_id
    return claimed_at is not None and now - claimed_at < CLAIM_LEASE
