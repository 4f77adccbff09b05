"""`continuity_check_prompt`, and the preflight `video_generate` runs: the pure rules (preflight/) over
the ledger as of the shot's scene, the brief and the neighbouring shots, with the findings stored.

Callers pass what they already hold (the production, its ledger, the shot): nothing is read twice.
With an offline embedder, the brief's must-not items are also matched by meaning (a cellphone for
'mobile phones'): the vectors are computed first, with a timeout, and handed to the pure rules.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from typing import Protocol

import anyio

from core import StudioError
from tools.continuity.judge import Judge
from tools.continuity.ledger import Ledger, LedgerService
from tools.continuity.models import PromptCheck
from tools.continuity.preflight import Similar, check_text, similarity_inputs
from tools.continuity.report import FindingStore
from tools.production import Production, Shot

MAX_PROMPT = 20_000
# The first use loads the model (seconds, more on a busy machine); past this the check goes on without it.
EMBED_TIMEOUT_S = 90.0
_CACHE = 4096  # vectors kept (texts recur: the brief's items, a shot's phrases across re-checks)


class TextEmbedder(Protocol):
    """The style family's offline embedder, as the preflight uses it: texts -> unit vectors."""

    name: str

    async def embed(self, texts: list[str]) -> list[list[float]]: ...


class PromptChecker:
    """Preflight of shots and prompts; handed to the generation family as `preflight`."""

    def __init__(self, findings: FindingStore, judge: Judge, embedder: TextEmbedder | None = None) -> None:
        self._findings = findings
        self._judge = judge
        self._embedder = embedder
        self._vectors: OrderedDict[str, list[float]] = OrderedDict()

    async def _similar(self, text: str, must_not: list[str], notes: list[str]) -> Similar | None:
        """Vectors for the must-not items and the text's noun phrases, as a lookup for the pure rules; None
        (with a note) when there is no embedder or it fails."""
        if self._embedder is None or not must_not:
            return None
        texts = list(dict.fromkeys(similarity_inputs(text, must_not)))
        todo = [t for t in texts if t not in self._vectors]
        try:
            if todo:
                with anyio.fail_after(EMBED_TIMEOUT_S):
                    vectors = await self._embedder.embed(todo)
                for t, vec in zip(todo, vectors, strict=True):
                    self._vectors[t] = vec
                while len(self._vectors) > _CACHE:
                    self._vectors.popitem(last=False)
        except (TimeoutError, StudioError) as exc:
            reason = "it timed out" if isinstance(exc, TimeoutError) else str(exc)
            notes.append(
                f"The must-not items were matched by words only: the offline embedder is unavailable ({reason})."
            )
            return None
        known = dict(self._vectors)

        def similar(batch: list[str]) -> list[list[float]]:
            return [known[t] for t in batch]

        return similar

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
        similar = await self._similar(text, list(prod.brief.must_not), notes)
        # Pure CPU, but the first call builds the lexicons (CIELAB colour families): off the event loop.
        findings = await anyio.to_thread.run_sync(
            functools.partial(
                check_text,
                ledger,
                scene,
                text,
                field,
                shot=shot,
                scene_shots=scene_shots,
                must=prod.brief.must,
                must_not=prod.brief.must_not,
                similar=similar,
            )
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
