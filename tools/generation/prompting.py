"""Grounded prompt assembly: the shot, the latest brief, the continuity ledger and the kit, in one
deterministic prompt with a record of where every injected piece sits and where it came from.

Determinism: the same shot, brief, ledger and kit give byte-identical output (style passages are
ordered by score then id; ledger attributes by name), so a prompt's sha256 identifies its grounding.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

import anyio

from core import StudioError
from tools.continuity import EntityState, Ledger, LedgerService
from tools.generation.models import GroundedPrompt, Injection, InjectionKind, PromptTarget, Span
from tools.production import BriefVersion, Production, Shot
from tools.review import ReviewService, ShotFeedback
from tools.style import StyleHit, StyleKind, StyleService

log = logging.getLogger(__name__)

STYLE_CHAR_BUDGET = 2400  # all style passages together; more dilutes the shot in Veo's prompt
PASSAGE_MAX_CHARS = 600
ENTITY_K = 2  # passages per character/prop/location
GENERAL_K = 4  # look-and-feel passages per shot
# Entity material: anything about the entity except shots the studio rejected.
ENTITY_KINDS: list[StyleKind] = [
    "character",
    "location",
    "prop",
    "reference_image",
    "approved_shot",
    "director_note",
    "guide",
    "palette",
]
GENERAL_KINDS: list[StyleKind] = ["guide", "palette", "tone", "director_note", "location", "approved_shot"]


def ledger_line(state: EntityState) -> str:
    """'Mara (character): coat: red wool; scar: left cheek' (attributes by name, for determinism)."""
    facts = "; ".join(f"{k}: {v}" for k, v in sorted(state.attributes.items()) if v)
    return f"{state.entity} ({state.kind}): {facts}"


# ---------------------------------------------------------------------------------------------
# Gathering the grounding


def shot_entities(shot: Shot) -> list[str]:
    """Every ledger entity a shot touches: characters, props, location, and the scene itself."""
    names = [*shot.characters, *shot.props, *([shot.location] if shot.location else []), shot.scene]
    return list(dict.fromkeys(n for n in names if n))


def ledger_entries(ledger: Ledger, scene: str, entities: Sequence[str] | None) -> list[EntityState]:
    """Continuity facts as of `scene` for `entities` (all when None); entities with no facts are left out."""
    states = ledger.states(scene, list(entities) if entities is not None else None)
    return [s for s in states if any(v for v in s.attributes.values())]


async def style_passages(
    kits: StyleService, kit: str, queries: Sequence[tuple[str, Sequence[StyleKind], Sequence[str], int]]
) -> tuple[list[StyleHit], list[str]]:
    """Run (query, kinds, entities, k) searches in order, dedupe by chunk id, keep query order.

    A kit with no material (or retrieval refusing the kit) is a warning, not a failure: a prompt
    without style grounding is still a usable prompt."""
    hits: list[StyleHit] = []
    seen: set[str] = set()
    for query, kinds, entities, k in queries:
        try:
            found = await kits.search(query[:1900], kit, list(kinds), list(entities), k)
        except StudioError as exc:
            return hits, [f"No style passages from kit {kit!r}: {exc}"]
        ranked = sorted(found.hits, key=lambda h: (-h.score, h.id))
        for hit in ranked:
            if hit.id not in seen and hit.kind != "rejected_shot":
                seen.add(hit.id)
                hits.append(hit)
    return hits, []


def style_queries(shot: Shot, brief: BriefVersion) -> list[tuple[str, Sequence[StyleKind], Sequence[str], int]]:
    """Entity material first (its look must hold), then the kit's general look for this shot."""
    queries: list[tuple[str, Sequence[StyleKind], Sequence[str], int]] = []
    for name in shot.characters:
        query = f"{name}: face, hair, wardrobe, distinguishing marks. {shot.description}"
        queries.append((query, ENTITY_KINDS, [name], ENTITY_K))
    for name in shot.props:
        queries.append((f"{name}: look, material, colour. {shot.description}", ENTITY_KINDS, [name], ENTITY_K))
    if shot.location:
        queries.append(
            (
                f"{shot.location}: layout, lighting, set dressing. {shot.time_of_day or ''}",
                ENTITY_KINDS,
                [shot.location],
                ENTITY_K,
            )
        )
    looks = [
        shot.description,
        shot.framing,
        shot.camera_move,
        shot.time_of_day,
        shot.int_ext,
        shot.location,
        shot.weather,
        shot.emotional_beat,
        brief.tone,
    ]
    queries.append((" ".join(x for x in looks if x), GENERAL_KINDS, [], GENERAL_K))
    return queries


# ---------------------------------------------------------------------------------------------
# Assembly


class _Text:
    """A growing text that records a span for every injected piece."""

    def __init__(self, target: PromptTarget) -> None:
        self.target: PromptTarget = target
        self._parts: list[str] = []
        self._length = 0
        self.injections: list[Injection] = []

    def add(self, text: str) -> None:
        self._parts.append(text)
        self._length += len(text)

    def inject(self, kind: InjectionKind, ref: str, text: str, sources: Sequence[str] = ()) -> None:
        start = self._length
        self.add(text)
        span = Span(target=self.target, start=start, end=self._length)
        self.injections.append(Injection(kind=kind, ref=ref, text=text, span=span, sources=list(sources)))

    def labelled(self, label: str, kind: InjectionKind, ref: str, text: str) -> None:
        self.add(f"{label}: ")
        self.inject(kind, ref, text)
        self.add("\n")

    def fields(self, label: str, ref: str, fields: Sequence[tuple[str, str, str | None]]) -> None:
        """'Label: a; prefix b; ...' on one line, each present shot field injected; nothing if none is."""
        present = [(name, prefix, value) for name, prefix, value in fields if value]
        if not present:
            return
        self.add(f"{label}: ")
        for i, (name, prefix, value) in enumerate(present):
            self.add(("; " if i else "") + prefix)
            self.inject("shot", f"shot:{ref}#{name}", one_line(value))
        self.add("\n")

    @property
    def text(self) -> str:
        return "".join(self._parts)


def one_line(text: str) -> str:
    return " ".join(text.split())


def _clip(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.")
    return cut + "…"


def assemble(
    production: Production,
    shot: Shot,
    ledger: Sequence[EntityState],
    style: Sequence[StyleHit],
    warnings: Sequence[str] = (),
    feedback: ShotFeedback | None = None,
) -> GroundedPrompt:
    """The prompt and negative prompt. Pure: everything it uses is in its arguments."""
    brief = production.brief
    ref = shot.ref
    p = _Text("prompt")

    p.inject("shot", f"shot:{ref}#description", one_line(shot.description))
    p.add("\n")
    p.fields(
        "Camera",
        ref,
        [("framing", "", shot.framing), ("lens", "lens ", shot.lens), ("camera_move", "move: ", shot.camera_move)],
    )
    p.labelled("Duration", "shot", f"shot:{ref}#duration_s", f"{shot.duration_s:g} seconds")
    p.fields(
        "Setting",
        ref,
        [
            ("int_ext", "", shot.int_ext),
            ("location", "", shot.location),
            ("time_of_day", "time of day: ", shot.time_of_day),
            ("weather", "weather: ", shot.weather),
        ],
    )
    if shot.characters:
        p.labelled("Characters", "shot", f"shot:{ref}#characters", ", ".join(shot.characters))
    if shot.props:
        p.labelled("Props", "shot", f"shot:{ref}#props", ", ".join(shot.props))
    for name, value in [
        ("emotional_beat", shot.emotional_beat),
        ("screen_direction", shot.screen_direction),
        ("notes", shot.notes),
    ]:
        if value:
            p.labelled(name.replace("_", " ").capitalize(), "shot", f"shot:{ref}#{name}", one_line(value))
    if feedback is not None and feedback.decision != "approve":
        # The reviewer's words about the last take, so this one fixes what they saw.
        verdict = "rejected" if feedback.decision == "reject" else "sent back for revision"
        p.add(f"Review of the previous take ({feedback.asset}, {verdict}): ")
        p.inject("review", f"review:{feedback.review}", one_line(feedback.notes), [feedback.review])
        p.add("\n")

    version = f"brief:v{brief.version}"
    p.labelled("Intent", "brief_intent", f"{version}#logline", one_line(brief.logline))
    p.labelled("Tone", "brief_intent", f"{version}#tone", one_line(brief.tone))
    if brief.must:
        p.add("Must:\n")
        for i, item in enumerate(brief.must):
            p.add("- ")
            p.inject("brief_must", f"{version}#must[{i}]", one_line(item))
            p.add("\n")

    if ledger:
        p.add(f"Continuity (as of scene {shot.scene}):\n")
        for entry in ledger:
            p.add("- ")
            p.inject("ledger", f"ledger:{entry.kind}:{entry.entity}", one_line(ledger_line(entry)), entry.fact_ids)
            p.add("\n")

    style_ids: list[str] = []
    if style:
        p.add("Style:\n")
        used = 0
        for hit in style:
            text = _clip(one_line(hit.text), PASSAGE_MAX_CHARS)
            if used + len(text) > STYLE_CHAR_BUDGET:
                continue
            used += len(text)
            style_ids.append(hit.id)
            p.add("- ")
            p.inject("style", hit.id, text, [hit.source])
            p.add("\n")

    n = _Text("negative_prompt")
    if brief.must_not:
        p.add("Avoid: ")
        for i, item in enumerate(brief.must_not):
            if i:
                p.add("; ")
                n.add(", ")
            p.inject("brief_must_not", f"{version}#must_not[{i}]", one_line(item))
            n.inject("brief_must_not", f"{version}#must_not[{i}]", one_line(item))
        p.add(".\n")

    prompt, negative = p.text.rstrip("\n"), n.text
    digest = hashlib.sha256(f"{prompt}\0{negative}".encode()).hexdigest()
    references = list(dict.fromkeys(r for entry in ledger for r in entry.references))
    return GroundedPrompt(
        production=production.id,
        shot=ref,
        scene=shot.scene,
        prompt=prompt,
        negative_prompt=negative,
        brief_version=brief.version,
        duration_s=shot.duration_s,
        injections=[*p.injections, *n.injections],
        style_chunks=style_ids,
        ledger_entities=[e.entity for e in ledger],
        references=references,
        sha256=digest,
        warnings=list(warnings),
    )


class PromptBuilder:
    """Grounded prompts from what the generation family was handed: the kit, the ledger and the
    review verdicts."""

    def __init__(self, kits: StyleService, ledger: LedgerService, reviews: ReviewService) -> None:
        self._kits = kits
        self._ledger = ledger
        self._reviews = reviews

    async def build(self, production: Production, shot: Shot, ledger: Ledger | None = None) -> GroundedPrompt:
        """The grounded prompt for one shot, from the production's latest brief as the caller read it;
        pass the ledger when the caller has already loaded it (the preflight must judge the same one)."""
        if ledger is None:
            ledger = await self._ledger.load(production)
        entries = ledger_entries(ledger, shot.scene, shot_entities(shot))
        style, warnings = await style_passages(self._kits, production.kit, style_queries(shot, production.brief))
        feedback = await anyio.to_thread.run_sync(self._reviews.feedback, production.id, shot.ref)
        return assemble(production, shot, entries, style, warnings, feedback)


def without_review_notes(grounded: GroundedPrompt) -> str:
    """The prompt with the reviewer's quoted notes blanked (same length, so spans still hold): the
    notes describe the rejected take, and the preflight must judge what this take is asked to be."""
    text = grounded.prompt
    for injection in grounded.injections:
        if injection.kind == "review" and injection.span.target == "prompt":
            start, end = injection.span.start, injection.span.end
            text = text[:start] + " " * (end - start) + text[end:]
    return text
