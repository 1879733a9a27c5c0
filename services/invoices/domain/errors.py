class RuleViolation(Exception):
    """A business rule refuses the action. `reason` is the stable code the rejection carries."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
