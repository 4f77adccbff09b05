"""`shots_plan`: Gemini plans a scene's shots from the brief, the kit and the continuity ledger.

The answer is structured output (`ShotPlan`), checked here (count, unique numbers, durations) and
saved through the production service only when the whole list is valid. An answer that does not
validate is refused with the reason and asked for once more; two refusals save nothing.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from functools import partial
from typing import Any

import anyio
from pydantic import ValidationError

from core import StudioError
from core.context import StudioContext
from core.genai import GenerationError, generate_structured
from tools.continuity import EntityState, LedgerService
from tools.generation.models import PlanResult, ShotPlan
from tools.generation.prompting import ledger_entries, ledger_line, one_line, style_passages
from tools.production import SCENE_NAME, Production, ProductionService, ShotSpec
from tools.style import StyleHit, StyleKind, StyleService

log = logging.getLogger(__name__)

MAX_COUNT = 30
MAX_GUIDANCE = 2000
# One shot is one generated clip: Veo renders 4-8 s (3.x: 4, 6 or 8 s; 2.0: 5-8 s).
MIN_DURATION_S, MAX_DURATION_S = 2.0, 8.0
PLAN_KINDS: list[StyleKind] = ["guide", "tone", "director_note", "character", "location", "palette", "approved_shot"]
PLAN_STYLE_K = 6
PLAN_STYLE_BUDGET = 3000
PLAN_LEDGER_KINDS = {"character", "wardrobe", "makeup_hair", "location", "prop", "vehicle", "set_dressing"}
TEMPERATURE = 0.4

SYSTEM_INSTRUCTION = """\
You are the first assistant director of an animation studio. You break a scene into shots for an AI
video generator: each shot is one continuous clip. Honour the brief's musts, never include anything
it forbids, keep every continuity fact exactly (wardrobe, marks, props, time of day), and follow the
studio's style material. Name characters, props and locations exactly as the continuity ledger names
them. Answer only with the JSON the schema asks for."""


class PlanRejected(Exception):
    """Gemini's plan failed validation; the message says how."""


def check_inputs(scene: str, count: int, guidance: str | None) -> tuple[str, str | None]:
    scene = (scene or "").strip()
    if not SCENE_NAME.match(scene):
        raise StudioError(
            f"Scene {scene!r} is not a valid scene name: use 1-32 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (e.g. '3' or '12a')."
        )
    if not 1 <= count <= MAX_COUNT:
        raise StudioError(f"count={count} is out of range: ask for 1 to {MAX_COUNT} shots per scene.")
    text = (guidance or "").strip() or None
    if text is not None and len(text) > MAX_GUIDANCE:
        raise StudioError(f"guidance is {len(text)} characters: keep it to {MAX_GUIDANCE}.")
    return scene, text


def validate_plan(plan: ShotPlan, count: int) -> list[ShotSpec]:
    """The plan's shots in number order, or PlanRejected listing every problem."""
    problems: list[str] = []
    if len(plan.shots) != count:
        problems.append(f"it has {len(plan.shots)} shots, {count} were asked for")
    duplicates = sorted(n for n, c in Counter(s.number for s in plan.shots).items() if c > 1)
    if duplicates:
        problems.append(f"shot number(s) {', '.join(map(str, duplicates))} appear more than once")
    bad = [
        f"shot {s.number}: {s.duration_s:g} s"
        for s in plan.shots
        if not MIN_DURATION_S <= s.duration_s <= MAX_DURATION_S
    ]
    if bad:
        problems.append(f"durations outside {MIN_DURATION_S:g}-{MAX_DURATION_S:g} s ({', '.join(bad)})")
    specs: list[ShotSpec] = []
    for shot in plan.shots:
        try:
            specs.append(ShotSpec.model_validate(shot.model_dump()))
        except ValidationError as exc:
            problems.extend(f"shot {shot.number}: {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    if problems:
        raise PlanRejected("; ".join(problems))
    return sorted(specs, key=lambda s: s.number)


def plan_prompt(
    production: Production,
    scene: str,
    count: int,
    guidance: str | None,
    existing: Sequence[ShotSpec],
    ledger: Sequence[EntityState],
    style: Sequence[StyleHit],
    rejected: str | None = None,
) -> str:
    brief = production.brief
    lines = [
        f"Plan scene {scene} of the production {production.name!r} as exactly {count} shots, numbered 1 to {count}.",
        f"Each shot lasts {MIN_DURATION_S:g} to {MAX_DURATION_S:g} seconds (prefer 4, 6 or 8).",
        "",
        f"Logline: {one_line(brief.logline)}",
        f"Tone: {one_line(brief.tone)}",
    ]
    if brief.must:
        lines += ["Every shot must honour:", *(f"- {one_line(m)}" for m in brief.must)]
    if brief.must_not:
        lines += ["No shot may contain:", *(f"- {one_line(m)}" for m in brief.must_not)]
    if ledger:
        lines += [
            "",
            f"Continuity facts as of scene {scene} (keep them exactly):",
            *(f"- {ledger_line(e)}" for e in ledger),
        ]
    if style:
        lines += ["", "The studio's style material:", *(f"- [{h.kind}] {one_line(h.text)}" for h in style)]
    if existing:
        lines += [
            "",
            "The scene's current shots (replan them):",
            *(f"- {s.number}. {one_line(s.description)}" for s in existing),
        ]
    if guidance:
        lines += ["", f"Director's guidance: {guidance}"]
    if rejected:
        lines += ["", f"Your previous answer was refused because {rejected}. Answer again, fixing that."]
    return "\n".join(lines)


def fit_style(style: Sequence[StyleHit], budget: int = PLAN_STYLE_BUDGET) -> list[StyleHit]:
    """The passages that fit the character budget, in order."""
    kept: list[StyleHit] = []
    used = 0
    for hit in style:
        size = len(one_line(hit.text))
        if used + size <= budget:
            used += size
            kept.append(hit)
    return kept


def _grounding_entities(ledger: Sequence[EntityState], scene: str) -> list[EntityState]:
    return [e for e in ledger if e.kind in PLAN_LEDGER_KINDS or (e.kind == "scene" and e.entity == scene)]


def _generation_error(error: GenerationError, model: str) -> StudioError:
    """The client's message is already actionable and scrubbed of keys; say the plan was not saved."""
    return StudioError(f"shots_plan could not plan the scene with {model}: {error.message} Nothing was saved.")


class ShotPlanner:
    def __init__(
        self, context: StudioContext, productions: ProductionService, kits: StyleService, ledger: LedgerService
    ) -> None:
        self._context = context
        self._productions = productions
        self._kits = kits
        self._ledger = ledger

    async def plan(self, production: str, scene: str, count: int = 5, guidance: str | None = None) -> PlanResult:
        scene, guidance = check_inputs(scene, count, guidance)
        service = self._productions
        found = await anyio.to_thread.run_sync(partial(service.get, production))
        if self._context.genai.text_backend() is None:
            raise StudioError(
                "shots_plan needs Gemini, and no credentials are set. Set GEMINI_API_KEY (or GOOGLE_API_KEY), or "
                "GOOGLE_GENAI_USE_VERTEXAI=true with GOOGLE_CLOUD_PROJECT (and GOOGLE_CLOUD_LOCATION), in the "
                "server's environment and restart it. Without Gemini, write the shots yourself with shots_save."
            )
        existing = found.scenes.get(scene, [])
        ledger = _grounding_entities(ledger_entries(await self._ledger.load(found), scene, None), scene)
        names = list(
            dict.fromkeys(
                [
                    *(e.entity for e in ledger if e.kind in ("character", "location")),
                    *(c for s in existing for c in s.characters),
                ]
            )
        )
        query = " ".join([f"scene {scene}", found.brief.logline, found.brief.tone, guidance or "", *names])
        found_style, _ = await style_passages(self._kits, found.kit, [(query, PLAN_KINDS, [], PLAN_STYLE_K)])
        style = fit_style(found_style)

        model = self._context.settings.plan_model
        rejected: list[str] = []
        specs: list[ShotSpec] | None = None
        for _attempt in range(2):
            prompt = plan_prompt(
                found, scene, count, guidance, existing, ledger, style, rejected[-1] if rejected else None
            )
            try:
                plan = await generate_structured(
                    self._context.genai,
                    model,
                    prompt,
                    ShotPlan,
                    system_instruction=SYSTEM_INSTRUCTION,
                    temperature=TEMPERATURE,
                )
                specs = validate_plan(plan, count)
                break
            except PlanRejected as exc:
                reason = str(exc)
            except GenerationError as exc:
                if exc.kind != "malformed_response":
                    raise _generation_error(exc, model) from None
                reason = exc.message
            log.warning("shots_plan: %s's plan for %s/%s was refused: %s", model, found.id, scene, reason)
            rejected.append(reason)
        if specs is None:
            raise StudioError(
                f"{model}'s shot plan for scene {scene!r} did not validate twice, so nothing was saved. "
                f"First answer: {rejected[0].rstrip('.')}. Second answer: {rejected[-1].rstrip('.')}. "
                "Try again, add guidance, ask for fewer shots, or write the shots yourself with shots_save."
            )

        inputs: dict[str, Any] = {
            "production": production,
            "scene": scene,
            "count": count,
            "guidance": guidance,
            "model": model,
        }
        saved = await anyio.to_thread.run_sync(
            lambda: service.save_scene(found.id, scene, specs, "gemini", tool="shots_plan", inputs=inputs)
        )
        return PlanResult(
            production=saved.production,
            scene=saved.scene,
            model=model,
            brief_version=found.brief.version,
            attempts=len(rejected) + 1,
            rejected=rejected,
            shots=saved.shots,
            added=saved.added,
            changed=saved.changed,
            unchanged=saved.unchanged,
            removed=saved.removed,
            style_chunks=[h.id for h in style],
            ledger_entities=[e.entity for e in ledger],
        )
