"""The continuity family: the ledger, the preflight check, the media check, the report and its review
prompt. Other families get its `ledger` (LedgerService) and `preflight` (PromptChecker).

`continuity_check_media` runs the weight-free media engine; its findings go through the
findings store like everyone else's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from mcp.server import MCPServer
from pydantic import Field

from core import BackgroundTask, ClientRoots, root_paths
from core.annotations import APPENDS, CHECKS, READ_ONLY
from core.context import StudioContext
from core.state import Migration
from tools.consent import ConsentService
from tools.continuity.judge import Judge
from tools.continuity.ledger import LedgerService
from tools.continuity.media_check import MediaChecker, MediaCheckResult
from tools.continuity.models import (
    ContinuityGetResult,
    ContinuityReport,
    ContinuitySetResult,
    EntityKind,
    PromptCheck,
)
from tools.continuity.prompt_check import PromptChecker, TextEmbedder
from tools.continuity.report import FindingStore
from tools.continuity.schema import MIGRATIONS
from tools.production import ProductionService
from tools.style import StyleService, make_embedder

REVIEW_PROMPT = """\
Review the continuity of production {production!r}.

1. Call continuity_report(production={production!r}). Read `counts` first: open errors block paid
   generation (video_generate refuses a shot whose preflight has errors unless overridden).
2. Go shot by shot in the order given (`shots` summarises each). For each open finding:
   - source 'preflight' (rules on the prompt/shot text): compare `expected` with `found` and read the
     `evidence` span. If the shot text is wrong, rewrite the shot (shots_save) using the `suggestion`
     (the corrected phrase), then re-run continuity_check_prompt(production, shot) — fixed findings
     are marked resolved by the re-check. If the ledger is wrong (the story changed), fix the fact with
     continuity_set(..., from_scene=...) instead — never by deleting history.
   - source 'gemini' without an asset (continuity_check_prompt with judge=true): a model's reading of
     the shot text; treat it like a preflight finding, but verify it against the ledger first.
   - source 'media' or 'gemini' (checks of a generated asset): `time_s` says where in the clip; look
     at that moment (asset_get) before deciding to regenerate, revise the prompt, or accept.
   - warnings (must_missing, weather_jump, screen_direction_flip, unannounced_entrance) may be
     intentional: if so, say why in the shot's notes (e.g. 'crosses the line', 'Ode enters') and
     re-check, so the reason is on record.
3. Check facts with continuity_get(production={production!r}, scene=<the shot's scene>) when a
   finding is surprising: it answers as of that scene, with history when you name the entity.
4. Finish with a short summary: shots clear to generate, shots that need rewriting (with the
   corrected phrases), ledger facts you changed and why, and what remains for a human decision.
"""


def offline_embedder(context: StudioContext, kits: StyleService) -> TextEmbedder:
    """The embedder for must-not near-synonyms: the kits' own when it is the offline MiniLM (one model in
    memory), else a MiniLM of our own (never a paid embedding call per preflight). Loaded on first use."""
    if kits.embedder.name.startswith(("minilm/", "chroma-onnx/")):
        return kits.embedder
    return make_embedder("minilm", context.genai, "")


class ContinuityFamily:
    name = "continuity"
    migrations: Sequence[Migration] = MIGRATIONS
    background: Sequence[BackgroundTask] = ()

    def __init__(
        self, context: StudioContext, *, productions: ProductionService, kits: StyleService, consent: ConsentService
    ) -> None:
        self._context = context
        self.ledger = LedgerService(context, productions)
        self.findings = FindingStore(context)
        judge = Judge(context, self.findings)
        self.preflight = PromptChecker(self.findings, judge, offline_embedder(context, kits))
        self.media = MediaChecker(productions, kits, self.ledger, self.findings, judge, consent)

    def register(self, server: MCPServer[Any]) -> None:
        register_tools(server, self._context, self)


def register_tools(server: MCPServer[Any], context: StudioContext, family: ContinuityFamily) -> None:
    service = family.ledger

    @server.tool(annotations=APPENDS)
    async def continuity_set(
        production: Annotated[str, Field(description="Production id or name.")],
        entity: Annotated[
            str, Field(description="Entity name, e.g. 'Mara', 'lantern'; for kind='scene' the scene, e.g. '12'.")
        ],
        kind: Annotated[EntityKind, Field(description="What the entity is. An entity keeps its kind.")],
        attributes: Annotated[
            dict[str, str],
            Field(
                description="Facts as free keys with string values, e.g. {'jacket': 'red wool', 'scar': 'left cheek'}; "
                "for scenes: story_day, time_of_day, int_ext, weather, lighting, screen_direction, location. "
                "'' ends a fact from from_scene on."
            ),
        ] = {},  # noqa: B006
        from_scene: Annotated[
            str | None,
            Field(description="The facts hold from this scene on (e.g. torn from '12'); default from the start."),
        ] = None,
        note: Annotated[str | None, Field(description="Why, for the history.")] = None,
        references: Annotated[
            list[str], Field(description="Asset ids of reference material (character sheets, approved frames).")
        ] = [],  # noqa: B006
        aliases: Annotated[
            list[str],
            Field(
                description="Other names the text may use for the entity, e.g. ['the skipper', 'Tom']; added, never "
                "removed. A character's first name and surname count by default."
            ),
        ] = [],  # noqa: B006
    ) -> ContinuitySetResult:
        """Record continuity facts about an entity. Append-only: earlier facts stay in the history."""
        return await service.set(production, entity, kind, attributes, from_scene, note, references, aliases)

    @server.tool(annotations=READ_ONLY)
    async def continuity_get(
        production: Annotated[str, Field(description="Production id or name.")],
        entity: Annotated[str | None, Field(description="Only this entity (its full history is included).")] = None,
        scene: Annotated[str | None, Field(description="Answer as of this scene; default the latest facts.")] = None,
        history: Annotated[bool, Field(description="Include every entity's full history.")] = False,
    ) -> ContinuityGetResult:
        """The continuity ledger as of a scene: each entity's current facts and reference assets."""
        return await service.get(production, entity, scene, history)

    @server.tool(annotations=CHECKS)
    async def continuity_check_prompt(
        production: Annotated[str, Field(description="Production id or name.")],
        shot: Annotated[
            str | None,
            Field(
                description="Shot '<scene>/<number>': checks its description (or "
                "`prompt`) against its scene and neighbours."
            ),
        ] = None,
        prompt: Annotated[str | None, Field(description="A prompt to check instead of the shot's description.")] = None,
        scene: Annotated[str | None, Field(description="For a prompt without a shot: check as of this scene.")] = None,
        judge: Annotated[
            bool,
            Field(
                description="Also ask Gemini (needs GEMINI_API_KEY or Vertex; a paid call) for a structured judgment; "
                "its findings have source 'gemini'. Default false: offline and deterministic."
            ),
        ] = False,
    ) -> PromptCheck:
        """Preflight before generation: ledger facts as of the scene, the brief's must/must-not, and the
        neighbouring shots. Offline and deterministic; each finding has evidence and a suggested fix. With
        judge=true Gemini's judgment adds findings (source 'gemini'); if it fails, a note says why."""
        family.preflight.validate(shot, prompt, judge)
        prod = await service.production(production)
        ledger = await service.load(prod)
        the_shot = prod.find_shot(shot) if shot is not None else None
        return await family.preflight.check(prod, ledger, the_shot, prompt, scene=scene, judge=judge)

    @server.tool(annotations=CHECKS)
    async def continuity_check_media(
        production: Annotated[str, Field(description="Production id or name.")],
        offered_roots: ClientRoots,
        asset: Annotated[str | None, Field(description="Asset id of the clip or image to check.")] = None,
        path: Annotated[str | None, Field(description="Or a video/image file (imported as an asset).")] = None,
        shot: Annotated[str | None, Field(description="Shot '<scene>/<number>' (default: the asset's shot).")] = None,
        against: Annotated[
            list[str], Field(description="Extra references: image asset ids or paths; one video = the previous clip.")
        ] = [],  # noqa: B006
        judge: Annotated[
            bool,
            Field(
                description="Also send the clip (at most 20 MB) to Gemini (needs GEMINI_API_KEY or Vertex; a paid "
                "call) to judge each entity against the ledger facts; see `judgment`. Default false."
            ),
        ] = False,
    ) -> MediaCheckResult:
        """Check a clip after generation: a timeline of similarity with the times of cuts, subject drift,
        palette shifts and flicker; the kit's brand palette; the shot's entity reference images; and the
        transition from the previous approved shot. Weight-free (PyAV, scikit-image); judge=true adds
        Gemini's multimodal judgment (findings with source 'gemini')."""
        roots = [*context.roots, *root_paths(offered_roots)]
        return await family.media.check(production, asset, path, shot, against, roots, judge=judge)

    @server.tool(annotations=READ_ONLY)
    async def continuity_report(
        production: Annotated[str, Field(description="Production id or name.")],
    ) -> ContinuityReport:
        """Every continuity finding (preflight, media, gemini) across shots and assets, by shot then severity."""
        prod = await service.production(production)
        return await family.findings.report(prod.id)

    @server.prompt()
    def continuity_review(production: str) -> str:
        """Walk through a production's continuity report and resolve or explain each finding."""
        return REVIEW_PROMPT.format(production=production)
