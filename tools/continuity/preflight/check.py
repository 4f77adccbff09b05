"""The whole check: every rule over one text, deduplicated and sorted (errors first, then by position)."""

from __future__ import annotations

from collections.abc import Sequence

from tools.continuity.ledger import Ledger
from tools.continuity.mentions import Doc
from tools.continuity.models import PromptFinding
from tools.continuity.preflight.brief import Similar, brief_findings
from tools.continuity.preflight.common import Check
from tools.continuity.preflight.facts import fact_findings
from tools.continuity.preflight.scene import ShotView, scene_findings
from tools.production import Shot


def check_text(
    ledger: Ledger,
    scene: str | None,
    text: str,
    field: str,
    *,
    shot: Shot | None = None,
    scene_shots: Sequence[Shot] = (),
    must: Sequence[str] = (),
    must_not: Sequence[str] = (),
    similar: Similar | None = None,
) -> list[PromptFinding]:
    """Every rule over one text: a prompt (field='prompt') or a shot's description. `similar` (texts ->
    unit vectors) lets the must-not rule also catch near-synonyms no lexicon lists."""
    c = Check(ledger=ledger, scene=scene, doc=Doc.of(text), field=field)
    sole = None
    if shot is not None and len(shot.characters) == 1:
        sole = ledger.name(shot.characters[0])
    findings = fact_findings(c, sole)
    findings += brief_findings(c, must, must_not, similar)
    # A built prompt also carries the brief, the ledger and style passages: a shot's own time, weather,
    # direction and cast come from its fields and description, not from that material.
    view = None
    if shot is not None:
        view = (
            ShotView(shot, c.doc, field)
            if field != "prompt"
            else ShotView(shot, Doc.of(shot.description), "description")
        )
    views = []
    if shot is not None:
        others = sorted(scene_shots, key=lambda s: s.number)
        if not any(s.number == shot.number for s in others):
            others = sorted([*others, shot], key=lambda s: s.number)
        views = [view if s.number == shot.number else ShotView(s, Doc.of(s.description), "description") for s in others]
    findings += scene_findings(c, view, [w for w in views if w is not None], scene_shots)
    seen, out = set(), []
    for f in findings:
        key = (f.rule, (f.entity or "").lower(), f.expected, f.found)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return sorted(out, key=lambda f: (f.severity != "error", f.evidence.start if f.evidence else 1 << 30))
