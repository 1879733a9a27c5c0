"""The invoices service's time.

It is UTC now, except for accounts given an offset in INVOICES_CLOCK_OFFSETS_FILE, a JSON object
of account id -> seconds: like Stripe's test clocks, tests move one account's time forward
instead of waiting for due dates, and leave every other account alone. The file is read at every
run of the invoice clock, so offsets also hold across restarts and for every instance. Leave it
unset in production.
"""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path


class Clock:
    def __init__(self, offsets_file: str = "") -> None:
        self.offsets_file = Path(offsets_file) if offsets_file else None
        self.offsets: dict[str, timedelta] = {}

    def now(self, account_id: str | None = None) -> datetime:
        return datetime.now(UTC) + self.offsets.get(account_id, timedelta())

    def reload(self) -> None:
        if self.offsets_file is None:
            return
        try:
            seconds = json.loads(self.offsets_file.read_text())
        except FileNotFoundError:
            seconds = {}
        self.offsets = {account_id: timedelta(seconds=offset) for account_id, offset in seconds.items()}

    def accounts_ahead(self) -> dict[str, datetime]:
        """The accounts whose time is not the service's, with their now."""
        return {account_id: self.now(account_id) for account_id in self.offsets}
