"""The one way a business rule says no, shared by every service's domain and by the chassis."""


class Refusal(Exception):
    """A rule refuses the action. `reason` is the stable snake_case code a rejection carries.

    Raised while handling a command, the chassis answers it with the service's rejection event;
    raised while handling an event, the event has no effect and the refusal is logged.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
