"""How an invoice shows in lists and reports besides its status: whether it is partly paid, and
what it counts for in totals. (Past due is the invoice's own: announced by its clock.)"""


def is_partially_paid(status: str, amount_paid: int, amount_remaining: int) -> bool:
    return status in ("open", "uncollectible") and amount_paid > 0 and amount_remaining > 0


def counted_total(status: str, total: int) -> int:
    """A void invoice stays on record with its amounts, and counts as zero in totals."""
    return 0 if status == "void" else total
