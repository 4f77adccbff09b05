"""`continuity_check_prompt`, and the preflight `video_generate` runs: the pure rules (preflight/) over
the ledger as of the shot's scene, the brief and the neighbouring shots, with the findings stored.

Callers pass what they already hold (the production, its ledger, the shot): nothing is read twice.
"""

from __future__ import annotations

from core import StudioError
from tools.continuity.judge import Judge
from tools.continuity.ledger import Ledger, LedgerService
from tools.continuity.models import PromptCheck
from tools.continuity.preflight import check_text
from tools.continuity.report import FindingStore
from tools.production import Production, Shot

MAX_PROMPT = 20_000


class PromptChecker:
    """Preflight of shots and prompts; handed to the generation family as `preflight`."""

    def __init__(self, findings: FindingStore, judge: Judge) -> None:
        self._findings = findings
        self._judge = judge

    def validate(self, shot: str | None, prompt: str | None, judge: bool) -> None:
        """Refuse a request that cannot be checked, before anything is read."""
        if shot is None and prompt is None:
            raise StudioError("Nothing to check: pass shot='<scene>/<number>' (its description is checked) or prompt.")
        if prompt is not None and not prompt.strip():
            raise StudioError("prompt is empty: pass the prompt text to check, or leave it out to check the shot.")
        if prompt is not None and len(prompt) > MAX_PROMPT:
            raise StudioError(f"prompt is {len(prompt)} characters; check at most {MAX_PROMPT}.")
        if judge:
            self._judge.require("continuity_check_prompt")

    async def check(
        self,
        prod: Production,
        ledger: Ledger,
        shot: Shot | None,
        prompt: str | None,
        *,
        scene: str | None = None,
        record: bool = True,
        judge: bool = False,
    ) -> PromptCheck:
        """Check a shot (its description, or `prompt` when given) or a raw prompt against the ledger as of its
        scene, the brief and the neighbouring shots. Stores the findings of a shot for continuity_report.
        `judge`: add Gemini's judgment (tools.continuity.judge), its findings marked source 'gemini'."""
        self.validate(shot.ref if shot else None, prompt, judge)
        notes: list[str] = []
        if shot is not None:
            scene = shot.scene
        elif scene is not None:
            scene = LedgerService.check_scene(prod, ledger, scene, "scene")
        else:
            notes.append(
                "No shot or scene given: facts that change by scene were accepted at any of their values, "
                "and the neighbouring-shot rules were skipped."
            )
        text = prompt if prompt is not None else (shot.description if shot else "")
        field = "prompt" if prompt is not None else "description"
        scene_shots = prod.scenes.get(scene, []) if scene else []
        findings = check_text(
            ledger,
            scene,
            text,
            field,
            shot=shot,
            scene_shots=scene_shots,
            must=prod.brief.must,
            must_not=prod.brief.must_not,
        )
        if not judge and self._judge.available:
            notes.append("Gemini is configured: pass judge=true to add its judgment to the deterministic rules.")
        record_as = shot.ref if record and shot is not None else None
        if record_as is not None:
            await self._findings.record(
                prod.id, [f.to_finding_in() for f in findings], source="preflight", shot=record_as
            )
        if judge:
            judged = await self._judge.judge_prompt(
                prod, ledger, scene, shot, scene_shots, text, field, findings, record_as=record_as
            )
            findings, notes = [*findings, *judged.findings], [*notes, *judged.notes]
        errors = sum(f.severity == "error" for f in findings)
        return PromptCheck(
            production=prod.id,
            shot=shot.ref if shot else None,
            scene=scene,
            findings=findings,
            has_errors=errors > 0,
            errors=errors,
            warnings=len(findings) - errors,
            recorded=record_as is not None,
            notes=notes,
        )
