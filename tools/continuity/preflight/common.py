"""What every preflight rule shares: the rule names and their severities, the text under check
(`Check`) and the finding constructor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tools.continuity import vocabulary as v
from tools.continuity.ledger import Ledger
from tools.continuity.mentions import Doc
from tools.continuity.models import Evidence, PromptFinding

ERROR_RULES = {"attribute_mismatch", "side_flip", "state_too_early", "must_not_present", "time_of_day_jump"}
RULES = (
    "attribute_mismatch",
    "side_flip",
    "state_too_early",
    "must_not_present",
    "must_missing",
    "time_of_day_jump",
    "weather_jump",
    "screen_direction_flip",
    "unannounced_entrance",
)


LIST_LABELS = v.NEGATORS | {"exclude", "negative", "don't", "avoid"}


def on_negative_list(text: str, offset: int) -> bool:
    """Whether `offset` lies on a labelled list of things to leave out ('Avoid: logos; orange coats.',
    'Negative: ...'): nothing on it describes the shot."""
    line_start = text.rfind("\n", 0, offset) + 1
    first = v.tokenize(text[line_start : line_start + 40].lstrip(" -*"))
    return bool(first) and first[0].low in LIST_LABELS and len(first) > 1 and first[1].low == ":"


@dataclass
class Check:
    """One text under check, with what the rules need to know about it."""

    ledger: Ledger
    scene: str | None
    doc: Doc
    field: str

    def evidence(self, a: int, b: int) -> Evidence:
        start, end = self.doc.tokens[a].start, self.doc.tokens[b].end
        return Evidence(field=self.field, text=self.doc.text[start:end], start=start, end=end)


def finding(
    rule: str,
    entity: str | None,
    expected: str | None,
    found: str | None,
    evidence: Evidence | None,
    suggestion: str | None,
    message: str,
) -> PromptFinding:
    severity: Literal["error", "warning"] = "error" if rule in ERROR_RULES else "warning"
    return PromptFinding(
        severity=severity,
        rule=rule,
        entity=entity,
        expected=expected,
        found=found,
        evidence=evidence,
        suggestion=suggestion,
        message=message,
    )
