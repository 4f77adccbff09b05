"""Continuity family: the ledger, preflight prompt checks, findings and the report.

Public functions other families call (keep them stable):
- `ledger_as_of(studio, production, scene, entities=None) -> list[EntityState]` (prompt_build injects these)
- `check_prompt(studio, production, shot, prompt) -> PromptCheck` (video_generate refuses on `has_errors`)
- `record_findings(studio, production, findings, source=..., shot=..., asset=...)` (media checks store here)
- `resolve_findings(studio, production, ids, note)`, `continuity_report(studio, production)`
"""

from tools.continuity.ledger import ledger_as_of
from tools.continuity.models import (
    ENTITY_KINDS,
    ContinuityReport,
    EntityState,
    FindingIn,
    PromptCheck,
    PromptFinding,
    StoredFinding,
)
from tools.continuity.preflight import check_prompt
from tools.continuity.register import MIGRATIONS, register
from tools.continuity.report import continuity_report, record_findings, resolve_findings

__all__ = [
    "ENTITY_KINDS",
    "MIGRATIONS",
    "ContinuityReport",
    "EntityState",
    "FindingIn",
    "PromptCheck",
    "PromptFinding",
    "StoredFinding",
    "check_prompt",
    "continuity_report",
    "ledger_as_of",
    "record_findings",
    "register",
    "resolve_findings",
]
