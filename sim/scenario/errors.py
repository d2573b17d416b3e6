"""The one error a scenario that cannot be used raises (every layer catches this one)."""


class ScenarioError(ValueError):
    """A scenario that cannot be used, with a one-line reason naming the field."""
