"""The production family's errors: each a ToolError whose message says what was wrong and the fix.

`kind` is what the event log records as the outcome of a failed call (`error:<kind>`)."""

from __future__ import annotations

from core import NotFound, StudioError


class InvalidInput(StudioError):
    kind = "invalid_input"


class Conflict(StudioError):
    kind = "conflict"


class BudgetExceeded(StudioError):
    kind = "budget_exceeded"


def error_kind(error: BaseException) -> str:
    if isinstance(error, NotFound):
        return "not_found"
    kind = getattr(error, "kind", None)
    return kind if isinstance(kind, str) else "rejected"


__all__ = ["BudgetExceeded", "Conflict", "InvalidInput", "NotFound", "error_kind"]
