"""Continuity family: the ledger, preflight prompt checks, media checks, findings and the report.

Other families use the names below, nothing else:
- `LedgerService` (handed to them as `ledger`): `production(name)` reads a production once for a tool
  call, `load(production)` reads its whole `Ledger`; `Ledger.states(scene, entities)` answers as of a scene.
- `PromptChecker` (as `preflight`): `check(production, ledger, shot, prompt)` -> `PromptCheck`
  (`video_generate` refuses on `has_errors`).
- `FindingStore` (as `findings`): `open_for(pid, asset=, shot=)`; a finding with rule `LIKENESS_RULE`
  (a performer on screen without consent) blocks approval.
"""

from tools.continuity.family import ContinuityFamily
from tools.continuity.ledger import Ledger, LedgerService
from tools.continuity.media_check import LIKENESS_RULE
from tools.continuity.models import (
    ENTITY_KINDS,
    ContinuityReport,
    EntityState,
    FindingIn,
    PromptCheck,
    PromptFinding,
    StoredFinding,
)
from tools.continuity.prompt_check import PromptChecker
from tools.continuity.report import FindingStore

__all__ = [
    "ENTITY_KINDS",
    "LIKENESS_RULE",
    "ContinuityFamily",
    "ContinuityReport",
    "EntityState",
    "FindingIn",
    "FindingStore",
    "Ledger",
    "LedgerService",
    "PromptCheck",
    "PromptChecker",
    "PromptFinding",
    "StoredFinding",
]
