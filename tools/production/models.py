"""The production family's public models: productions, brief versions, shots, assets and events.

Other families import these (and only these, plus the functions in `tools.production`)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from core import NotFound
from tools.production.errors import InvalidInput

SCENE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")


def _scene(value: str) -> str:
    if not SCENE_NAME.match(value):
        raise ValueError(
            f"scene {value!r} is not a valid scene name: use 1-32 letters, digits, '.', '_' or '-' (e.g. '3' or '12a')"
        )
    return value


SceneName = Annotated[str, AfterValidator(_scene)]
IntExt = Literal["INT", "EXT", "INT/EXT"]
ShotStatus = Literal["planned", "generating", "generated", "in_review", "approved", "rejected", "revise"]


def shot_ref(scene: str, number: int) -> str:
    """A shot's public identifier within its production: '<scene>/<number>', e.g. '3/2'."""
    return f"{scene}/{number}"


def parse_shot_ref(ref: str) -> tuple[str, int]:
    """'3/2' -> ('3', 2); raises ValueError with the expected form."""
    scene, sep, number = ref.strip().rpartition("/")
    if not sep or not number.isdigit() or not SCENE_NAME.match(scene):
        raise ValueError(f"shot {ref!r} is not a shot reference: use '<scene>/<number>', e.g. '3/2'")
    return scene, int(number)


def missing_shot(pid: str, ref: str, scene: str, numbers: list[int], scenes: list[str]) -> NotFound:
    """The error for a shot that does not exist, saying what does (`scenes` in natural order)."""
    if numbers:
        listed = ", ".join(shot_ref(scene, n) for n in numbers[:20])
        return NotFound(
            f"No shot {ref!r} in production {pid!r}: scene {scene!r} has {listed}. Shots are named '<scene>/<number>'."
        )
    have = f"its scenes are {', '.join(scenes[:20])}" if scenes else "it has no shots yet (save some with shots_save)"
    return NotFound(
        f"No shot {ref!r} in production {pid!r}: there is no scene {scene!r}; {have}. "
        "Shots are named '<scene>/<number>', e.g. '3/2'."
    )


class ShotSpec(BaseModel):
    """A shot as an agent (or Gemini) writes it. Flat, so it is a valid Gemini response schema."""

    number: int = Field(ge=1, le=999, description="Position in the scene, 1-based, unique in the scene.")
    description: str = Field(min_length=3, max_length=2000, description="What happens in the shot.")
    characters: list[str] = Field(default_factory=list, description="Ledger entity names of characters in frame.")
    props: list[str] = Field(default_factory=list, description="Ledger entity names of props/vehicles in frame.")
    location: str | None = Field(None, description="Ledger entity name of the location.")
    time_of_day: str | None = Field(None, description="e.g. dawn, day, dusk, night.")
    int_ext: IntExt | None = None
    lens: str | None = Field(None, description="e.g. 35mm.")
    camera_move: str | None = Field(None, description="e.g. static, slow push-in, handheld.")
    framing: str | None = Field(None, description="e.g. wide, medium, close-up.")
    duration_s: float = Field(8.0, gt=0, le=60, description="Seconds, 0-60.")
    emotional_beat: str | None = None
    screen_direction: str | None = Field(None, description="e.g. left-to-right, right-to-left, toward camera.")
    weather: str | None = None
    notes: str | None = Field(None, description="Anything else: an entrance, a reason for a direction change.")


class Shot(ShotSpec):
    production: str
    scene: str
    ref: str = Field(description="'<scene>/<number>': how tools name this shot.")
    status: ShotStatus = "planned"
    take: str | None = Field(
        None, description="The asset the status is about: the approved take, or the take a reviewer sent back."
    )
    source: Literal["agent", "gemini"] = "agent"
    updated_at: str


class BriefVersion(BaseModel):
    version: int = Field(description="1 for the brief given at creation; each amendment adds one.")
    logline: str
    tone: str
    must: list[str]
    must_not: list[str]
    budget_usd: float | None
    note: str | None = Field(None, description="The amendment's note; None for version 1.")
    created_at: str


class Event(BaseModel):
    at: str
    tool: str
    actor: str | None
    inputs_digest: str = Field(description="sha256 of the call's canonical JSON inputs.")
    outcome: str
    detail: dict[str, Any] = Field(default_factory=dict)


class Spend(BaseModel):
    budget_usd: float | None
    spent_usd: float = Field(description="Estimated cost of finished paid jobs.")
    committed_usd: float = Field(description="Estimated cost of jobs still pending.")
    remaining_usd: float | None = Field(description="budget - spent - committed; None without a budget.")


class Production(BaseModel):
    id: str = Field(description="Slug of the name; how tools name the production.")
    name: str
    kit: str
    brief: BriefVersion = Field(description="The latest brief version.")
    brief_history: list[BriefVersion]
    scenes: dict[str, list[Shot]]
    spend: Spend
    events: list[Event] = Field(description="The most recent events, newest last.")
    created_at: str
    warnings: list[str] = Field(
        default_factory=list, description="Things worth knowing, e.g. the kit has no material yet."
    )
    pipeline: PipelineFigures | None = Field(
        None, description="production_get only: the whole production's pipeline figures (pipeline_report has scenes)."
    )

    def find_shot(self, ref: str) -> Shot:
        """One of its shots by '<scene>/<number>', from what was read (no query); NotFound says what exists."""
        try:
            scene, number = parse_shot_ref(ref)
        except ValueError as exc:
            raise InvalidInput(f"{exc}: the scene name, a slash, then the shot number.") from None
        shots = self.scenes.get(scene, [])
        for shot in shots:
            if shot.number == number:
                return shot
        raise missing_shot(self.id, ref, scene, [s.number for s in shots], list(self.scenes))


class SceneSaved(BaseModel):
    """The result of saving a scene's shot list (a first plan or a re-plan)."""

    production: str
    scene: str
    shots: list[Shot] = Field(description="The scene's shots as saved, in number order.")
    added: list[str] = Field(description="Refs of shots that are new.")
    changed: list[str] = Field(description="Refs whose spec changed: their status went back to planned.")
    unchanged: list[str] = Field(description="Refs saved identically: their status is kept.")
    removed: list[str] = Field(description="Refs that the new list dropped.")


class Asset(BaseModel):
    id: str = Field(description="'a_' + 20 hex digits derived from the production and the file's sha256.")
    production: str
    shot: str | None
    kind: Literal["video", "image"]
    mime_type: str
    sha256: str
    bytes: int
    path: str = Field(description="Where the file lives under the data directory.")
    uri: str = Field(description="MCP resource URI that returns the file.")
    provenance: dict[str, Any] = Field(default_factory=dict)
    parent: str | None = None
    created_at: str


class Rate(BaseModel):
    """A stage's pass rate with its counts; `rate` is None when nothing was counted."""

    passed: int
    total: int
    rate: float | None

    @classmethod
    def of(cls, passed: int, total: int) -> Rate:
        return cls(passed=passed, total=total, rate=round(passed / total, 4) if total else None)


class PipelineFigures(BaseModel):
    preflight: Rate = Field(description="Preflight runs before generation that passed without errors.")
    generation: Rate = Field(description="Video jobs that ended done (of done, failed and unknown submissions).")
    media_check: Rate = Field(description="Media checks that left no error finding open.")
    review: Rate = Field(description="Reviewed takes whose latest decision is approve.")
    retakes_per_approved_shot: float | None = Field(description="Done takes beyond the first, per approved shot.")
    spend_usd: float = Field(description="Cost of the done video jobs counted here.")
    spend_per_approved_second_usd: float | None = Field(description="spend_usd over the approved shots' seconds.")
    end_to_end_yield: Rate = Field(description="Approved shots of the shots that entered the pipeline.")
    chained_stage_rate: float | None = Field(
        description="The four stage rates multiplied: what the chain ships per attempt (0.97^4 ≈ 0.89)."
    )


class PipelineReport(BaseModel):
    production: str
    overall: PipelineFigures
    scenes: dict[str, PipelineFigures] = Field(description="The same figures per scene.")
    traces: dict[str, str] = Field(
        default_factory=dict, description="Shot ref -> the OpenTelemetry trace id of its journey (when exported)."
    )
