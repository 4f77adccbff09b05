"""The generation family's public models: grounded prompts, their injection record, shot plans.

Shared by prompt assembly, shot planning and the Veo/image tools; add models, do not reshape these.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from tools.production import Asset, IntExt, Shot, Spend

InjectionKind = Literal["shot", "brief_intent", "brief_must", "brief_must_not", "ledger", "style", "review"]
PromptTarget = Literal["prompt", "negative_prompt"]


class Span(BaseModel):
    """Where an injected text sits: `target[start:end] == text`."""

    target: PromptTarget
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class Injection(BaseModel):
    """One piece of grounding placed into a prompt, and where it came from."""

    kind: InjectionKind
    ref: str = Field(
        description="Where it came from: 'shot:3/2#lens', 'brief:v3#must[0]', 'ledger:character:mara', "
        "'review:rv_…' (a reviewer's notes on the previous take), or a style chunk id."
    )
    text: str = Field(description="Exactly the characters placed in the target.")
    span: Span
    sources: list[str] = Field(
        default_factory=list, description="Ledger fact ids behind a ledger injection; the style source file for style."
    )


class GroundedPrompt(BaseModel):
    """A generation prompt grounded in the shot, the latest brief, the continuity ledger and the kit.

    The same shot, brief, ledger and kit always give byte-identical prompt and negative prompt."""

    production: str
    shot: str = Field(description="The shot ref, '<scene>/<number>'.")
    scene: str
    prompt: str
    negative_prompt: str
    brief_version: int
    duration_s: float
    injections: list[Injection]
    style_chunks: list[str] = Field(description="Ids of the style passages injected, in prompt order.")
    ledger_entities: list[str] = Field(description="Entities whose continuity facts were injected.")
    references: list[str] = Field(
        default_factory=list, description="Reference assets the ledger holds for the shot's entities."
    )
    sha256: str = Field(description="sha256 of prompt + NUL + negative_prompt: equal digests, equal prompts.")
    warnings: list[str] = Field(default_factory=list)


class PlannedShot(BaseModel):
    """ShotSpec as a Gemini response schema: the same fields, with only the constraints Gemini's
    Schema type accepts (minimum/maximum, no exclusiveMinimum). Converted to ShotSpec before saving."""

    number: int = Field(ge=1, le=999, description="Position in the scene, 1-based, unique in the scene.")
    description: str = Field(description="What happens in the shot, concretely and visually.")
    characters: list[str] = Field(default_factory=list, description="Ledger entity names of characters in frame.")
    props: list[str] = Field(default_factory=list, description="Ledger entity names of props/vehicles in frame.")
    location: str | None = Field(None, description="Ledger entity name of the location.")
    time_of_day: str | None = Field(None, description="e.g. dawn, day, dusk, night.")
    int_ext: IntExt | None = None
    lens: str | None = Field(None, description="e.g. 35mm.")
    camera_move: str | None = Field(None, description="e.g. static, slow push-in, handheld.")
    framing: str | None = Field(None, description="e.g. wide, medium, close-up.")
    duration_s: float = Field(ge=1, le=60, description="Seconds; one generated clip, 4-8.")
    emotional_beat: str | None = None
    screen_direction: str | None = Field(None, description="e.g. left-to-right, right-to-left, toward camera.")
    weather: str | None = None
    notes: str | None = Field(None, description="Anything else: an entrance, a reason for a direction change.")


class ShotPlan(BaseModel):
    """Gemini's response schema for `shots_plan`: the scene's shots, in order."""

    shots: list[PlannedShot]


class PlanResult(BaseModel):
    """What `shots_plan` saved."""

    production: str
    scene: str
    model: str
    brief_version: int
    attempts: int = Field(description="1, or 2 when the first answer did not validate.")
    rejected: list[str] = Field(
        default_factory=list, description="Why an earlier answer was refused (then it was asked again)."
    )
    shots: list[Shot] = Field(description="The scene's shots as saved.")
    added: list[str]
    changed: list[str]
    unchanged: list[str]
    removed: list[str]
    style_chunks: list[str] = Field(description="Style passages the plan was grounded in.")
    ledger_entities: list[str] = Field(description="Entities whose continuity facts were given to the model.")


# -- Veo jobs, images and cost (video_generate, video_job, video_jobs, video_cancel, image_generate) --

JobStatus = Literal["submitting", "pending", "done", "failed", "cancelled", "unknown_submission"]
Resolution = Literal["720p", "1080p"]
VideoAspect = Literal["16:9", "9:16"]
TERMINAL_STATUSES: frozenset[str] = frozenset({"done", "failed", "cancelled"})


class VideoJob(BaseModel):
    """A Veo job as stored: what was asked, what it cost, where it stands."""

    id: str | None = Field(description="Job id (None only for a dry run).")
    production: str
    shot: str
    stand_in: bool = Field(
        False, description="Made by the local generation stand-in (STUDIO_GENERATION=standin): a test clip, free."
    )
    status: JobStatus | Literal["dry_run"] = Field(
        description="submitting -> pending -> done | failed | cancelled; unknown_submission: the submit's "
        "outcome is unknown (see message); dry_run: nothing was recorded or submitted."
    )
    model: str
    prompt: str = Field(description="Exactly the prompt sent.")
    negative_prompt: str
    settings: dict[str, Any] = Field(description="duration_s, aspect_ratio, resolution, audio, seed, reference assets.")
    brief_version: int
    estimate_usd: float
    actual_usd: float | None = None
    price_source: str
    progress: float = Field(ge=0, le=1, description="0-1; an estimate from elapsed time until done (Veo reports none).")
    operation: str | None = Field(None, description="The Vertex operation name once the submit returned.")
    asset: Asset | None = None
    output_uri: str | None = Field(None, description="gs:// URI when Veo wrote the video to Cloud Storage.")
    parent_asset: str | None = Field(None, description="The shot's previous video, for a re-take.")
    error: str | None = None
    error_kind: str | None = None
    preflight_errors: list[str] = Field(default_factory=list, description="Continuity errors the prompt had.")
    preflight_overridden: bool = False
    polls: int = 0
    created_at: str | None = None
    submitted_at: str | None = None
    finished_at: str | None = None
    deadline_at: str | None = None
    reused: bool = Field(False, description="True when this call returned an existing job for the same request.")
    message: str = Field("", description="What happened and what to do next.")


class VideoJobList(BaseModel):
    production: str
    status: str | None
    jobs: list[VideoJob]


class ImageSettlement(BaseModel):
    production: str
    job: str
    billed: bool
    estimate_usd: float
    spend: Spend = Field(description="The production's spend after settling.")
    message: str


class ImageResult(BaseModel):
    production: str
    shot: str | None
    asset: Asset
    model: str
    backend: Literal["developer", "vertex", "standin"]
    prompt: str
    negative_prompt: str | None
    estimate_usd: float
    price_source: str
    brief_version: int | None
