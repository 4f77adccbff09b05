"""The optional Gemini judgments of continuity: a prompt/shot, or a clip, against the ledger.

Both are opt-in per call (`judge=True`) and add to the deterministic checks, never replace them:
- `judge_prompt`: structured output over the text, the ledger facts as of the scene, the brief's
  must/must_not and the scene's other shots, with the preflight rules as the rubric. Its findings
  use the preflight's model with source 'gemini' and never repeat a rules finding (rule + entity).
- `judge_media`: the clip (or image) sent inline with the facts of the shot's entities and a
  per-entity rubric (wardrobe, hair, face, props), findings with the time of each change.

A Gemini failure (quota, safety, timeout, an answer that does not fit the schema) is reported and
stores nothing, so the rules' findings and any earlier Gemini findings stand as they were.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import anyio
from pydantic import BaseModel, Field

from core import StudioError
from core.context import StudioContext
from core.genai import GenerationError, generate_structured
from tools.continuity.ledger import Ledger
from tools.continuity.models import EntityState, Evidence, FindingIn, PromptFinding, StoredFinding
from tools.continuity.report import FindingStore
from tools.production import Asset, Production, Shot

log = logging.getLogger(__name__)

MAX_INLINE_BYTES = 20 * 1024 * 1024  # Gemini's inline-data request limit; larger files need the File API
TEMPERATURE = 0.0  # a judgment, not a creative answer
ASPECTS = ("wardrobe", "hair", "face", "props")

PromptRule = Literal[
    "attribute_mismatch",
    "side_flip",
    "state_too_early",
    "must_not_present",
    "must_missing",
    "time_of_day_jump",
    "weather_jump",
    "screen_direction_flip",
    "unannounced_entrance",
    "other",
]
Aspect = Literal["wardrobe", "hair", "face", "props", "setting", "other"]
Verdict = Literal["consistent", "inconsistent", "not_visible", "not_applicable"]

SYSTEM_INSTRUCTION = """\
You are the script supervisor of an animation studio. You check continuity against the studio's
continuity ledger, whose facts are authoritative. Report only real contradictions you can point to,
never style opinions. Answer only with the JSON the schema asks for; an empty list when all is well."""

PROMPT_RUBRIC = """\
Rubric (rule, severity, when):
- attribute_mismatch (error): the text gives an entity an attribute value the ledger contradicts as of
  this scene (a blue jacket where the ledger says red; a shot field contradicting the scene's facts).
- side_flip (error): a mark or prop on the wrong side (scar on the right cheek where the ledger says left).
- state_too_early (error): something in a state the ledger gives it only from a later scene.
- must_not_present (error): the text contains something the brief forbids (and does not negate it).
- must_missing (warning): the text ignores something the brief requires of every shot.
- time_of_day_jump (error) / weather_jump (warning): time of day or weather changes inside the scene
  without a stated reason.
- screen_direction_flip (warning): screen direction reverses across a cut without a reason.
- unannounced_entrance (warning): a character is present who was in no earlier shot and does not enter.
- other (warning): any other contradiction with the ledger, the brief or the neighbouring shots.
For each finding: entity (as the ledger names it, or the scene for scene-level rules; null for the
brief's rules), expected (the ledger/brief value), found (what the text says), evidence (the exact
words of the text under check, copied verbatim), suggestion (the corrected phrase), explanation."""

MEDIA_RUBRIC = """\
Rubric: for each entity listed, judge over the whole clip whether its wardrobe, hair, face and props
are consistent with the ledger facts AND stay the same from the first frame to the last (a jacket
that changes colour or weight, a face that re-renders, hair that changes length, a prop that changes
or vanishes). Give one verdict per entity and aspect: consistent, inconsistent, not_visible (the
entity or that aspect is not seen) or not_applicable. For every inconsistency add an issue: aspect,
entity (as named below), expected (the ledger fact, or how it looked before the change), found (what
is seen), time_s (seconds from the start of the clip where it first appears or changes; null if it
holds from the first frame or for a still image), severity (error for a contradiction of a ledger
fact or a visible change mid-clip, warning when unsure), explanation."""


# -- response schemas (flat enough for Gemini's Schema: no numeric bounds) ------------------------


class JudgedPromptFinding(BaseModel):
    severity: Literal["error", "warning"]
    rule: PromptRule
    entity: str | None = None
    expected: str | None = None
    found: str | None = None
    evidence: str | None = Field(None, description="The exact words of the text under check.")
    suggestion: str | None = None
    explanation: str


class PromptJudgment(BaseModel):
    findings: list[JudgedPromptFinding]


class EntityVerdict(BaseModel):
    entity: str
    wardrobe: Verdict
    hair: Verdict
    face: Verdict
    props: Verdict
    notes: str | None = None


class MediaIssue(BaseModel):
    severity: Literal["error", "warning"]
    aspect: Aspect
    entity: str | None = None
    expected: str | None = None
    found: str
    time_s: float | None = Field(None, description="Seconds from the start of the clip.")
    explanation: str


class ClipJudgment(BaseModel):
    entities: list[EntityVerdict]
    issues: list[MediaIssue]


# -- results ---------------------------------------------------------------------------------------


class PromptJudgmentOutcome(BaseModel):
    """What `judge_prompt` adds to a preflight: its findings (source 'gemini') and notes."""

    findings: list[PromptFinding]
    notes: list[str]


class MediaJudgment(BaseModel):
    """The multimodal judgment of a clip, in `continuity_check_media`'s result."""

    model: str
    status: Literal["ok", "failed", "skipped"] = Field(
        description="ok: judged and stored; failed: Gemini failed (nothing stored); skipped: not sent (see error)."
    )
    error: str | None = Field(None, description="Why it failed or was skipped, and what to do.")
    entities: list[str] = Field(default_factory=list, description="The entities whose ledger facts were sent.")
    verdicts: list[EntityVerdict] = Field(default_factory=list, description="Per entity and aspect.")
    findings: list[StoredFinding] = Field(
        default_factory=list, description="Open 'gemini' findings for this clip after this check."
    )
    dropped: list[str] = Field(default_factory=list, description="Parts of the answer not stored, and why.")


# -- shared ----------------------------------------------------------------------------------------


def _failure(error: BaseException, model: str) -> str:
    if isinstance(error, GenerationError):
        return f"The Gemini judgment ({model}) failed ({error.kind}): {error.message}"
    log.exception("Gemini judgment failed unexpectedly", exc_info=error)
    return f"The Gemini judgment ({model}) failed unexpectedly ({type(error).__name__}: {error})."


def _state_line(state: EntityState) -> str:
    facts = "; ".join(f"{k}: {v}" for k, v in state.attributes.items()) or "no facts"
    return f"- {state.entity} ({state.kind}): {facts}"


def _canonical(name: str | None, names: Sequence[str]) -> str | None:
    if name is None or not name.strip():
        return None
    low = name.strip().lower()
    return next((n for n in names if n.lower() == low), name.strip())


# -- prompts -----------------------------------------------------------------------------------------


def _shot_fields(shot: Shot) -> str:
    fields = {
        k: v
        for k, v in shot.model_dump(
            include={
                "characters",
                "props",
                "location",
                "time_of_day",
                "int_ext",
                "weather",
                "screen_direction",
                "notes",
            }
        ).items()
        if v
    }
    return "; ".join(f"{k}: {', '.join(v) if isinstance(v, list) else v}" for k, v in fields.items()) or "none"


def prompt_request(
    production: Production,
    ledger: Ledger,
    scene: str | None,
    shot: Shot | None,
    scene_shots: Sequence[Shot],
    text: str,
    field: str,
    rules: Sequence[PromptFinding],
) -> str:
    where = f"as of scene {scene}" if scene else "(latest facts; no scene was given)"
    what = f"shot {shot.ref}" if shot else "a prompt"
    lines = [
        f"Judge the continuity of {what} of the production {production.name!r} before it is generated.",
        "",
        f"The text under check ({field}):",
        "<<<",
        text,
        ">>>",
    ]
    if shot is not None:
        lines += [f"The shot's fields: {_shot_fields(shot)}"]
    states = ledger.states(scene)
    lines += ["", f"Continuity ledger {where}:", *([_state_line(s) for s in states] or ["- (empty)"])]
    brief = production.brief
    lines += [
        "",
        "The brief:",
        *(f"- every shot must: {m}" for m in brief.must),
        *(f"- no shot may contain: {m}" for m in brief.must_not),
    ]
    others = [s for s in scene_shots if shot is None or s.number != shot.number]
    if shot is not None and others:
        lines += [
            "",
            f"The other shots of scene {shot.scene}, in order (this is shot {shot.number}):",
            *(f"- {s.ref}: {s.description} [{_shot_fields(s)}]" for s in sorted(others, key=lambda s: s.number)),
        ]
    if rules:
        lines += [
            "",
            "Already found by the deterministic rules (do not repeat these):",
            *(f"- {f.rule} {f.entity or ''}: {f.message}" for f in rules),
        ]
    lines += ["", PROMPT_RUBRIC]
    return "\n".join(lines)


def _locate(text: str, field: str, quote: str | None) -> Evidence | None:
    if not quote or not quote.strip():
        return None
    start = text.lower().find(quote.strip().lower())
    if start < 0:
        return None
    end = start + len(quote.strip())
    return Evidence(field=field, text=text[start:end], start=start, end=end)


def prompt_findings(
    judgment: PromptJudgment, ledger: Ledger, text: str, field: str, rules: Sequence[PromptFinding]
) -> tuple[list[PromptFinding], list[str]]:
    """Gemini's findings in the preflight's model, without repeats of a rules finding (rule + entity)."""
    seen = {(f.rule, (f.entity or "").lower()) for f in rules}
    out: list[PromptFinding] = []
    notes: list[str] = []
    for j in judgment.findings:
        entity = (ledger.name(j.entity) or j.entity.strip() or None) if j.entity else None
        key = (j.rule, (entity or "").lower())
        if key in seen:
            continue
        seen.add(key)
        evidence = _locate(text, field, j.evidence)
        message = j.explanation
        if j.evidence and evidence is None:
            message += f" (Gemini quoted {j.evidence!r}, which is not in the text.)"
        out.append(
            PromptFinding(
                severity=j.severity,
                rule=j.rule,
                entity=entity,
                expected=j.expected,
                found=j.found,
                evidence=evidence,
                suggestion=j.suggestion,
                message=message,
                source="gemini",
            )
        )
    if len(judgment.findings) > len(out):
        notes.append(
            f"{len(judgment.findings) - len(out)} Gemini finding(s) repeated a rules finding (or each "
            "other: same rule and entity) and were left out."
        )
    return out, notes


# -- media ------------------------------------------------------------------------------------------------


def media_entities(states: Sequence[EntityState], names: Sequence[str], scene: str | None) -> list[EntityState]:
    """The shot's entities, what they own ('Mara jacket'), and the scene's own facts."""
    wanted = {n.strip().lower() for n in names}
    keep = []
    for s in states:
        low = s.entity.lower()
        if (
            low in wanted
            or (s.kind == "scene" and scene is not None and low == scene.lower())
            or any(low.startswith(n + " ") for n in wanted)
        ):
            keep.append(s)
    return keep


def media_request(
    kind: str,
    shot_ref: str | None,
    description: str | None,
    scene: str | None,
    states: Sequence[EntityState],
    duration_s: float,
) -> str:
    what = f"{kind} of shot {shot_ref}" if shot_ref else f"{kind} (no shot given)"
    length = f"It lasts {duration_s:.2f} s." if kind == "video" else "It is a still image."
    where = f"as of scene {scene}" if scene else "(latest facts)"
    lines = [f"The attached {what} was generated for an animation. {length}"]
    if description:
        lines += [f"The shot as written: {description}"]
    lines += [
        "",
        f"Continuity ledger facts {where} for the entities in it:",
        *([_state_line(s) for s in states] or ["- (none recorded)"]),
        "",
        MEDIA_RUBRIC,
    ]
    return "\n".join(lines)


def media_findings(
    judgment: ClipJudgment, states: Sequence[EntityState], kind: str, duration_s: float
) -> tuple[list[FindingIn], list[str]]:
    """Gemini's issues (and inconsistent verdicts it gave no issue for) as findings with their times."""
    names = [s.entity for s in states]
    dropped: list[str] = []
    out: list[FindingIn] = []
    covered: set[tuple[str, str]] = set()
    for issue in judgment.issues:
        entity = _canonical(issue.entity, names)
        time_s = issue.time_s
        if time_s is not None and (kind != "video" or not 0 <= time_s <= duration_s + 0.5):
            dropped.append(
                f"time {time_s:g} s of the {issue.aspect} issue ({entity}) is outside the "
                f"{'image' if kind != 'video' else f'{duration_s:.2f} s clip'}: kept without a time."
            )
            time_s = None
        covered.add(((entity or "").lower(), issue.aspect))
        out.append(
            FindingIn(
                severity=issue.severity,
                rule=f"gemini.{issue.aspect}",
                entity=entity,
                expected=issue.expected,
                found=issue.found,
                time_s=time_s,
                suggestion=None,
                evidence=(f"at {time_s:.2f} s: " if time_s is not None else "") + issue.explanation,
            )
        )
    for verdict in judgment.entities:
        entity = _canonical(verdict.entity, names)
        for aspect in ASPECTS:
            if getattr(verdict, aspect) == "inconsistent" and ((entity or "").lower(), aspect) not in covered:
                out.append(
                    FindingIn(
                        severity="warning",
                        rule=f"gemini.{aspect}",
                        entity=entity,
                        found=verdict.notes or f"{aspect} judged inconsistent",
                        evidence="verdict without a described issue",
                    )
                )
    return out, dropped


class Judge:
    """Gemini's judgments, stored (source 'gemini') in the findings store when they worked."""

    def __init__(self, context: StudioContext, findings: FindingStore) -> None:
        self._context = context
        self._findings = findings

    @property
    def available(self) -> bool:
        return self._context.genai.text_backend() is not None

    def require(self, tool: str) -> None:
        """Refuse judge=True up front, before anything is read or stored, when there is no Gemini."""
        if not self.available:
            raise StudioError(
                f"{tool}(judge=true) needs Gemini, and no credentials are configured: set GEMINI_API_KEY (or "
                "GOOGLE_API_KEY) for the Gemini Developer API, or GOOGLE_GENAI_USE_VERTEXAI=true with "
                "GOOGLE_CLOUD_PROJECT (+ Application Default Credentials) for Vertex AI, and restart the server. "
                f"Or call it with judge=false for the offline checks alone."
            )

    async def judge_prompt(
        self,
        production: Production,
        ledger: Ledger,
        scene: str | None,
        shot: Shot | None,
        scene_shots: Sequence[Shot],
        text: str,
        field: str,
        rules: Sequence[PromptFinding],
        *,
        record_as: str | None,
    ) -> PromptJudgmentOutcome:
        """Gemini's judgment of a prompt/shot; stored under `record_as` when given and it worked."""
        model = self._context.settings.judge_model
        request = prompt_request(production, ledger, scene, shot, scene_shots, text, field, rules)
        try:
            judgment = await generate_structured(
                self._context.genai,
                model,
                request,
                PromptJudgment,
                system_instruction=SYSTEM_INSTRUCTION,
                temperature=TEMPERATURE,
            )
        except Exception as exc:  # every failure is reported; the rules findings stand
            return PromptJudgmentOutcome(
                findings=[],
                notes=[f"{_failure(exc, model)} Only the rules' findings are given; no Gemini findings were stored."],
            )
        findings, notes = prompt_findings(judgment, ledger, text, field, rules)
        if record_as is not None:
            await self._findings.record(
                production.id, [f.to_finding_in() for f in findings], source="gemini", shot=record_as
            )
        stored = "stored" if record_as is not None else "not stored (no shot)"
        notes.insert(0, f"Gemini ({model}) judged the text: {len(findings)} finding(s) with source 'gemini', {stored}.")
        return PromptJudgmentOutcome(findings=findings, notes=notes)

    async def judge_media(
        self,
        pid: str,
        ledger: Ledger,
        clip: Asset,
        path: Path,
        shot: Shot | None,
        duration_s: float,
    ) -> MediaJudgment:
        """Gemini's judgment of a clip or image against the facts of its shot's entities as of its scene
        (without a shot: every entity's latest facts)."""
        model = self._context.settings.judge_model
        if shot is not None:
            names = [*shot.characters, *shot.props, *([shot.location] if shot.location else [])]
            states = media_entities(ledger.states(shot.scene), names, shot.scene)
        else:
            states = [s for s in ledger.states(None) if s.kind != "scene"]
        entities = [s.entity for s in states]
        if clip.bytes > MAX_INLINE_BYTES:
            return MediaJudgment(
                model=model,
                status="skipped",
                entities=entities,
                error=(
                    f"The {clip.kind} is {clip.bytes / 2**20:.1f} MB; the Gemini judgment sends it inline, which "
                    f"takes at most {MAX_INLINE_BYTES // 2**20} MB. Trim, downscale or re-encode it and check again. "
                    "Nothing was sent."
                ),
            )
        mime_type = clip.mime_type or ("video/mp4" if clip.kind == "video" else "image/png")
        data = await anyio.to_thread.run_sync(path.read_bytes)
        request = media_request(
            clip.kind,
            shot.ref if shot else None,
            shot.description if shot else None,
            shot.scene if shot else None,
            states,
            duration_s,
        )
        try:
            judgment = await generate_structured(
                self._context.genai,
                model,
                request,
                ClipJudgment,
                system_instruction=SYSTEM_INSTRUCTION,
                temperature=TEMPERATURE,
                media=[(data, mime_type)],
            )
        except Exception as exc:  # reported; the media findings and earlier Gemini findings stand
            return MediaJudgment(
                model=model,
                status="failed",
                entities=entities,
                error=f"{_failure(exc, model)} No Gemini findings were stored.",
            )
        findings, dropped = media_findings(judgment, states, clip.kind, duration_s)
        stored = await self._findings.record(
            pid, findings, source="gemini", shot=shot.ref if shot else None, asset=clip.id
        )
        return MediaJudgment(
            model=model, status="ok", entities=entities, verdicts=judgment.entities, findings=stored, dropped=dropped
        )
