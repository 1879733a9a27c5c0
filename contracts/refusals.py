"""The one way a business rule says no, shared by every service's domain and by the chassis."""

from contracts.reasons import REASONS


class Refusal(Exception):
    """A rule refuses the action. `reason` is a code from contracts.reasons, stable and documented.

    Raised while handling a command, the chassis answers it with the service's rejection event;
    raised while handling an event, the event has no effect and the refusal is logged.
    """

    def __init__(self, reason: str, message: str) -> None:
        if reason not in REASONS:
            raise ValueError(f"{reason!r} is not a documented reason code; add it to contracts/reasons.py")
        super().__init__(message)
        self.reason = reason
        self.message = message
