"""Which mails an invoice sends by itself: the account's auto-send settings (account.configure's
send_on_finalize, send_receipts, send_credit_notes), as the invoice's changes read them.

The invoice records each such mail command in the same write as the change that causes it, so a
change delivered again, or recovered after a crash, asks for no second mail (docs/design.md,
"Automatic mails").
"""

from dataclasses import dataclass

from services.invoices.domain.hosted_link import HostedLinks


@dataclass(frozen=True)
class AutoSend:
    on_finalize: bool = False
    receipts: bool = False
    credit_notes: bool = False
    # The deployment's hosted pages, which the mails sent link (None: they go without a link).
    links: HostedLinks | None = None


NOTHING = AutoSend()
