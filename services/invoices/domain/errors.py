from contracts.refusals import Refusal


class RuleViolation(Refusal):
    """An invoice rule refuses the action."""
