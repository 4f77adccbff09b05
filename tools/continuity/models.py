"""The continuity family's public models: ledger facts, entity states, findings and the report."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from tools.production import natural_key

EntityKind = Literal[
    "character",
    "wardrobe",
    "prop",
    "location",
    "set_dressing",
    "makeup_hair",
    "vehicle",
    "scene",
]
ENTITY_KINDS: tuple[str, ...] = EntityKind.__args__  # type: ignore[attr-defined]
SCENE_FACTS = ("story_day", "time_of_day", "int_ext", "weather", "lighting", "screen_direction")

Severity = Literal["error", "warning", "info"]
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
FindingSource = Literal["preflight", "media", "gemini"]


def shot_key(ref: str | None) -> tuple[int, list[tuple[int, int | str]], int]:
    """Orders shot refs '<scene>/<number>' naturally; findings without a shot come last."""
    if not ref:
        return (1, [], 0)
    scene, _, number = ref.rpartition("/")
    return (0, natural_key(scene), int(number) if number.isdigit() else 0)


class Fact(BaseModel):
    id: str = Field(description="'f<n>', in the order facts were set.")
    entity: str
    attribute: str
    value: str = Field(description="'' means the attribute no longer applies from from_scene on.")
    from_scene: str | None = Field(description="The fact holds from this scene on; None = from the start.")
    note: str | None = None
    created_at: str


class Reference(BaseModel):
    entity: str
    asset: str
    from_scene: str | None
    note: str | None = None
    created_at: str


class EntityState(BaseModel):
    """An entity's facts as of one scene: the latest value of each attribute."""

    entity: str
    kind: str
    attributes: dict[str, str]
    fact_ids: list[str] = Field(description="The facts that give these values.")
    references: list[str] = Field(default_factory=list, description="Asset ids of reference material.")
    aliases: list[str] = Field(
        default_factory=list,
        description="Other names the prompt checks link to this entity: those set with continuity_set(aliases=...) "
        "and, for a character with a full name, its first name and surname.",
    )


class Alias(BaseModel):
    entity: str
    alias: str
    note: str | None = None
    created_at: str


class EntityHistory(BaseModel):
    entity: str
    kind: str
    facts: list[Fact] = Field(description="Every fact ever set, superseded ones included, in order set.")
    references: list[Reference]
    aliases: list[Alias] = Field(default_factory=list, description="Aliases set, in order set.")


class ContinuitySetResult(BaseModel):
    production: str
    entity: str
    kind: str
    created: bool = Field(description="True when this call created the entity.")
    facts: list[Fact] = Field(description="The facts this call added.")
    references: list[Reference] = Field(description="The references this call attached.")
    aliases: list[Alias] = Field(default_factory=list, description="The aliases this call added.")
    state: EntityState = Field(description="The entity as of from_scene after this call.")


class ContinuityGetResult(BaseModel):
    production: str
    scene: str | None = Field(description="The scene the states are as of; None = the latest facts.")
    entities: list[EntityState]
    history: list[EntityHistory] = Field(
        default_factory=list, description="Full history; given when an entity is named or history=True."
    )


class Evidence(BaseModel):
    field: str = Field(description="Which text: 'prompt', or the shot field ('description', 'time_of_day', ...).")
    text: str = Field(description="The span of that text.")
    start: int = Field(description="Char offset of the span in that text.")
    end: int


class PromptFinding(BaseModel):
    severity: Literal["error", "warning"]
    rule: str
    entity: str | None
    expected: str | None
    found: str | None
    evidence: Evidence | None
    suggestion: str | None = Field(description="The corrected phrase, or what to do.")
    message: str
    source: Literal["rules", "gemini"] = "rules"

    def to_finding_in(self) -> FindingIn:
        """As stored for continuity_report: the evidence span flattened to 'field[start:end]: text'."""
        ev = None
        if self.evidence is not None:
            ev = f"{self.evidence.field}[{self.evidence.start}:{self.evidence.end}]: {self.evidence.text}"
        return FindingIn(
            severity=self.severity,
            rule=self.rule,
            entity=self.entity,
            expected=self.expected,
            found=self.found,
            evidence=ev,
            suggestion=self.suggestion,
        )


class PromptCheck(BaseModel):
    production: str
    shot: str | None
    scene: str | None = Field(description="The scene whose facts the text was checked against.")
    findings: list[PromptFinding]
    has_errors: bool
    errors: int
    warnings: int
    recorded: bool = Field(description="Whether the findings were stored for continuity_report (needs a shot).")
    notes: list[str] = Field(default_factory=list, description="What the check could not do, and why.")


class FindingIn(BaseModel):
    """A finding any check (preflight, media, gemini) hands to `record_findings`."""

    severity: Severity
    rule: str
    entity: str | None = None
    expected: str | None = None
    found: str | None = None
    evidence: str | None = None
    suggestion: str | None = None
    time_s: float | None = None


class StoredFinding(FindingIn):
    id: int
    production: str
    shot: str | None
    asset: str | None
    source: FindingSource
    resolved: bool
    resolved_note: str | None = None
    created_at: str


class ReportCounts(BaseModel):
    total: int
    open: int
    resolved: int
    errors: int = Field(description="Open errors.")
    warnings: int = Field(description="Open warnings.")
    info: int = Field(description="Open info findings.")


class ShotSummary(BaseModel):
    shot: str | None
    open_errors: int
    open_warnings: int
    resolved: int


class ContinuityReport(BaseModel):
    production: str
    counts: ReportCounts
    shots: list[ShotSummary] = Field(description="Per shot, in natural order; shot None = not tied to a shot.")
    findings: list[StoredFinding] = Field(description="Sorted by shot (natural order), then severity, open first.")
