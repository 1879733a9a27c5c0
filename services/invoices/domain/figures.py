"""How an invoice shows in lists and reports: the flags shown besides its status (docs/design.md,
"Invoice lifecycle"), and what it counts for in totals."""

from datetime import date

# Past due: open and its due date passed. An uncollectible invoice is written off, not late.
PAST_DUE_STATUS = "open"


def is_past_due(status: str, due_date: date | None, today: date) -> bool:
    return status == PAST_DUE_STATUS and due_date is not None and due_date < today


def is_partially_paid(status: str, amount_paid: int, amount_remaining: int) -> bool:
    return status in ("open", "uncollectible") and amount_paid > 0 and amount_remaining > 0


def counted_total(status: str, total: int) -> int:
    """A void invoice stays on record with its amounts, and counts as zero in totals."""
    return 0 if status == "void" else total
