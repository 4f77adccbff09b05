"""The generation family: grounded prompts, Gemini shot plans and the plan_scene prompt; Veo jobs,
images and cost. It uses every other family, and no family uses it."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Annotated, Any

import anyio
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, TextContent
from pydantic import Field

from core import BackgroundTask, StudioError, pricing
from core.annotations import APPENDS, PAID, READ_ONLY, REPLACES
from core.context import StudioContext
from core.state import Migration
from tools.consent import ConsentService
from tools.continuity import LedgerService, PromptChecker
from tools.generation.images import ImageGenerator
from tools.generation.models import (
    GroundedPrompt,
    ImageResult,
    ImageSettlement,
    JobStatus,
    PlanResult,
    Resolution,
    VideoAspect,
    VideoJob,
    VideoJobList,
)
from tools.generation.planning import MAX_COUNT, ShotPlanner
from tools.generation.prompting import PromptBuilder
from tools.generation.video import MAX_WAIT_S, MIGRATIONS, VideoJobs
from tools.production import ProductionService, asset_link
from tools.review import ReviewService
from tools.style import StyleService

PLAN_SCENE_PROMPT = """\
Plan scene {scene} of production {production}, then build a grounded prompt for each shot.

1. Read the brief: call production_get(production="{production}"). Note the latest brief version, \
its logline and tone, every `must` and every `must_not`, the kit, and any shots scene {scene} \
already has.
2. Search the style kit: call style_search(query=..., kit=<the production's kit>) for the scene's \
look (lighting, palette, director notes), and once per character and location with \
entities=[<name>] for how they must look.
3. Check continuity: call continuity_get(production="{production}", scene="{scene}") for the \
facts that hold in this scene (wardrobe, marks, props, time of day, screen direction). Use the \
ledger's entity names for characters, props and locations in the shots.
4. Plan the shots:
   - with Gemini: shots_plan(production="{production}", scene="{scene}", count=<how many>, \
guidance=<anything the brief, kit or ledger made you want to stress>); or
   - yourself (no credentials needed): shots_save(production="{production}", scene="{scene}", \
shots=[{{"number": 1, "description": ..., "characters": [...], "location": ..., "time_of_day": ..., \
"framing": ..., "lens": ..., "camera_move": ..., "duration_s": 8}}, ...]).
   Every shot must honour every `must` and contain nothing from `must_not`; keep each 4-8 s.
5. For each saved shot, call prompt_build(production="{production}", shot="{scene}/<number>") and \
check its injections: every must, every must_not (in the negative prompt and the Avoid line), the \
continuity facts and the style passages it drew on. If something is missing or wrong, fix the \
shot (shots_save) or the ledger (continuity_set) and build again; do not hand-edit the prompt.
"""


class GenerationFamily:
    name = "generation"
    migrations: Sequence[Migration] = MIGRATIONS

    def __init__(
        self,
        context: StudioContext,
        *,
        productions: ProductionService,
        kits: StyleService,
        ledger: LedgerService,
        preflight: PromptChecker,
        consent: ConsentService,
        reviews: ReviewService,
    ) -> None:
        self.productions = productions
        self.prompts = PromptBuilder(kits, ledger, reviews)
        self.planner = ShotPlanner(context, productions, kits, ledger)
        self.images = ImageGenerator(context, productions, self.prompts, consent)
        self.videos = VideoJobs(context, productions, self.prompts, ledger, preflight, consent)

    @property
    def background(self) -> Sequence[BackgroundTask]:
        return [self.videos.poller.run]

    def register(self, server: MCPServer[Any]) -> None:
        register_tools(server, self)
        register_media(server, self)


def register_tools(server: MCPServer[Any], family: GenerationFamily) -> None:
    async def logged_failure(production: str, tool: str, inputs: dict[str, Any], error: StudioError) -> None:
        """A refused change is still logged on its production (when it exists), like the production tools."""
        await anyio.to_thread.run_sync(partial(family.productions.record_failure, production, tool, inputs, error))

    # -- grounded prompts and shot plans -------------------------------------------------------

    @server.tool(annotations=READ_ONLY)
    async def prompt_build(
        production: Annotated[str, Field(description="Production id (or name).")],
        shot: Annotated[str, Field(description="Shot ref '<scene>/<number>', e.g. '3/2'.")],
    ) -> GroundedPrompt:
        """The generation prompt and negative prompt for a shot, grounded in the latest brief (musts
        included, must-nots avoided), the continuity facts of its entities as of its scene, and the
        kit's top style passages; with a record of every injected piece and where it sits.

        Deterministic: the same shot, brief, ledger and kit give byte-identical prompts."""
        prod = await anyio.to_thread.run_sync(family.productions.get, production)
        return await family.prompts.build(prod, prod.find_shot(shot))

    @server.tool(annotations=PAID)
    async def shots_plan(
        production: Annotated[str, Field(description="Production id (or name).")],
        scene: Annotated[str, Field(description="Scene name, e.g. '3' or '12a'.")],
        count: Annotated[int, Field(ge=1, le=MAX_COUNT, description=f"How many shots, 1-{MAX_COUNT}.")] = 5,
        guidance: Annotated[
            str | None, Field(description="Direction for this scene, e.g. 'open wide, end on Mara's hands'.")
        ] = None,
    ) -> PlanResult:
        """Gemini plans the scene's shots from the brief, the style kit and the continuity ledger, and
        saves them (replacing the scene's list). An invalid answer is asked for again once; nothing
        is saved unless a whole valid plan came back. Needs Gemini credentials; shots_save does not."""
        try:
            return await family.planner.plan(production, scene, count, guidance)
        except StudioError as exc:
            inputs = {"production": production, "scene": scene, "count": count, "guidance": guidance}
            await logged_failure(production, "shots_plan", inputs, exc)
            raise

    @server.prompt(name="plan_scene", title="Plan a scene")
    def plan_scene_prompt(production: str, scene: str) -> str:
        """Walk through planning a scene: brief, style, continuity, shots, then grounded prompts."""
        return PLAN_SCENE_PROMPT.format(production=production, scene=scene)


# -- Veo jobs, images and cost -----------------------------------------------------------------


def register_media(server: MCPServer[Any], family: GenerationFamily) -> None:
    """cost_estimate, video_generate, video_job, video_jobs, video_cancel, image_generate and image_settle."""
    service = family.videos

    def with_link(model: VideoJob | ImageResult) -> CallToolResult:
        """Structured result plus, when there is an asset, an MCP resource link to its bytes."""
        content: list[Any] = [TextContent(type="text", text=model.model_dump_json(indent=2))]
        if model.asset is not None:
            content.append(asset_link(model.asset))
        return CallToolResult(content=content, structured_content=model.model_dump(mode="json"))

    @server.tool(annotations=READ_ONLY)
    async def cost_estimate(
        model: Annotated[
            str,
            Field(
                description="e.g. veo-3.1-generate-001, veo-3.1-fast-generate-001, "
                "gemini-2.5-flash-image, imagen-4.0-generate-001."
            ),
        ],
        duration_s: Annotated[float, Field(description="Seconds per video (ignored for image models).")] = 8,
        count: Annotated[int, Field(ge=1, description="How many videos or images.")] = 1,
        resolution: Annotated[Resolution, Field(description="720p or 1080p (video).")] = "720p",
        audio: Annotated[bool, Field(description="With generated audio (Veo 3.x bills it higher).")] = True,
    ) -> pricing.CostEstimate:
        """What a generation would cost, from the studio's one price table (its source and date included;
        STUDIO_PRICES_JSON overrides it). Free: calls nothing paid."""
        return pricing.estimate(model, duration_s, count, resolution, audio)

    @server.tool(annotations=PAID)
    async def video_generate(
        production: Annotated[str, Field(description="Production id (or name).")],
        shot: Annotated[str, Field(description="Shot ref '<scene>/<number>', e.g. '3/2'.")],
        model: Annotated[str | None, Field(description="Veo model; default veo-3.1-fast-generate-001.")] = None,
        duration_s: Annotated[
            float | None,
            Field(
                description="4, 6 or 8 on Veo 3.1; default: nearest to the shot's duration (8 with reference images)."
            ),
        ] = None,
        aspect_ratio: Annotated[VideoAspect, Field(description="16:9 or 9:16.")] = "16:9",
        resolution: Annotated[Resolution, Field(description="720p or 1080p.")] = "720p",
        seed: Annotated[int | None, Field(description="A new seed makes a new take of the same shot.")] = None,
        negative_prompt: Annotated[str | None, Field(description="Added to the brief's must-nots.")] = None,
        reference_assets: Annotated[
            list[str], Field(description="Up to 3 image asset ids, sent as ASSET references (8 s, 16:9 only).")
        ] = [],  # noqa: B006
        audio: Annotated[bool, Field(description="Generate audio (Veo 3.x).")] = True,
        dry_run: Annotated[
            bool,
            Field(description="Validate, ground, preflight, estimate and check the budget; record and submit nothing."),
        ] = False,
        retake: Annotated[
            bool,
            Field(
                description="Make a new take even though this exact request already has a "
                "job (its previous video becomes the parent)."
            ),
        ] = False,
        override_preflight: Annotated[
            bool, Field(description="Generate despite continuity errors in the prompt (recorded on the job).")
        ] = False,
        first_frame_asset: Annotated[
            str | None, Field(description="An image asset (e.g. a storyboard frame) to start the video from.")
        ] = None,
    ) -> VideoJob:
        """Start a Veo video for a shot and return at once with the job id, the estimate and the exact prompt.

        The prompt is grounded (brief, continuity ledger, style kit) and preflighted; the request is checked
        against the model's limits and the budget before anything is paid for. The same request again
        returns the same job (never a second charge); follow it with video_job(job, wait_s=...)."""
        return await service.generate(
            production,
            shot,
            model,
            duration_s,
            aspect_ratio,
            resolution,
            seed,
            negative_prompt,
            reference_assets,
            audio,
            dry_run,
            retake,
            override_preflight,
            first_frame_asset,
        )

    @server.tool(annotations=READ_ONLY)
    async def video_job(
        job: Annotated[str, Field(description="Job id from video_generate, e.g. 'vj_0123456789abcdef'.")],
        ctx: Context,
        wait_s: Annotated[
            float,
            Field(
                ge=0,
                description=f"Wait up to this long (longer waits are cut to {MAX_WAIT_S:g} s) for the "
                "job to finish, with progress notifications.",
            ),
        ] = 0,
    ) -> Annotated[CallToolResult, VideoJob]:
        """A video job's status and progress, and its asset (with a resource link) once done."""

        async def report(progress: float, total: float, message: str) -> None:
            await ctx.report_progress(progress, total, message)

        view = await (service.wait(job, wait_s, report) if wait_s > 0 else service.job(job))
        return with_link(view)

    @server.tool(annotations=READ_ONLY)
    async def video_jobs(
        production: Annotated[str, Field(description="Production id (or name).")],
        status: Annotated[JobStatus | None, Field(description="Only jobs in this status.")] = None,
    ) -> VideoJobList:
        """A production's video jobs, oldest first."""
        return await service.list_jobs(production, status)

    @server.tool(annotations=REPLACES)
    async def video_cancel(
        job: Annotated[str, Field(description="Job id.")],
    ) -> VideoJob:
        """Stop following a job: polling stops, it is marked cancelled and its estimate is released from
        committed spend. Veo offers no remote cancel: a submitted operation runs on (see the message)."""
        return await service.cancel(job)

    @server.tool(annotations=PAID)
    async def image_generate(
        production: Annotated[str, Field(description="Production id (or name).")],
        shot: Annotated[str | None, Field(description="Shot ref; without prompt, its grounded prompt is used.")] = None,
        prompt: Annotated[str | None, Field(description="What to draw; default the shot's grounded prompt.")] = None,
        reference_assets: Annotated[
            list[str], Field(description="Up to 3 image asset ids to draw from (Gemini native images only).")
        ] = [],  # noqa: B006
        aspect_ratio: Annotated[str, Field(description="e.g. 16:9, 9:16, 1:1.")] = "16:9",
    ) -> Annotated[CallToolResult, ImageResult]:
        """Generate one still (Gemini native image output, or Imagen on Vertex) and save it as an asset,
        estimated and budget-checked first. The result links to the image."""
        return with_link(await family.images.generate(production, shot, prompt, reference_assets, aspect_ratio))

    @server.tool(annotations=APPENDS)
    async def image_settle(
        production: Annotated[str, Field(description="Production id (or name).")],
        job: Annotated[str, Field(description="The img_... job named in the lost-answer error.")],
        billed: Annotated[bool, Field(description="Whether the billing export shows the call was charged.")],
    ) -> ImageSettlement:
        """Settle the held estimate of an image call whose answer was lost: billed=true counts it as
        spent, billed=false releases it. Nothing is sent to any API."""
        return await anyio.to_thread.run_sync(family.images.settle_lost, production, job, billed)
