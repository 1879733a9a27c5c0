"""What an invoice asks for and what is left of it, in one place (Stripe's names).

`amount_due` is what the customer must pay: the total less what credit notes took off it before
payment and what the customer's balance paid of it (Stripe's starting balance). `amount_remaining`
is what of that is still unpaid.
"""


def amount_due(total: int, pre_payment_credits: int, applied_balance: int) -> int:
    return max(total - pre_payment_credits - applied_balance, 0)


def amount_remaining(due: int, paid: int) -> int:
    return max(due - paid, 0)
