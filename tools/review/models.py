"""The review family's public models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from tools.continuity import StoredFinding

Decision = Literal["approve", "reject", "revise"]
ReviewStatus = Literal["in_review", "approved", "rejected", "revise"]
DECISIONS: tuple[Decision, ...] = ("approve", "reject", "revise")
STATUS_OF: dict[Decision, ReviewStatus] = {"approve": "approved", "reject": "rejected", "revise": "revise"}


class LedgerChange(BaseModel):
    """A continuity fact a reviewer stated explicitly, recorded with the decision."""

    entity: str
    kind: str
    attributes: dict[str, str]
    from_scene: str | None
    fact_ids: list[str] = Field(description="The ledger facts this decision added (continuity_get shows them).")


class BriefChange(BaseModel):
    """A brief amendment a reviewer stated explicitly, recorded with the decision."""

    brief_version: int
    must: list[str]
    must_not: list[str]


class KitMaterial(BaseModel):
    """What the decision sent to retrieval, and whether Chroma has it yet."""

    kit: str
    kind: Literal["approved_shot", "rejected_shot"]
    source: str = Field(description="The source name style_search reports for it.")
    status: Literal["written", "pending"] = Field(
        description="pending: Chroma was unreachable; the server writes it once Chroma answers."
    )
    error: str | None = None


class DecisionRecord(BaseModel):
    seq: int = Field(description="Order of decisions across the server; a later one supersedes.")
    decision: Decision
    notes: str
    reviewer: str | None
    decided_at: str
    superseded: bool = Field(description="True when a later decision on the same review replaced this one.")
    ledger: LedgerChange | None = None
    brief: BriefChange | None = None
    kit_material: KitMaterial | None = None


class Review(BaseModel):
    id: str = Field(description="'r_' + 16 hex digits; how review_get names it.")
    production: str
    asset: str
    asset_uri: str
    kind: Literal["video", "image"]
    shot: str | None
    status: ReviewStatus = Field(description="in_review until decided; then the latest decision's verdict.")
    note: str | None = Field(description="The submitter's note.")
    provenance: dict[str, Any] = Field(
        description="As at submission: prompt, references, brief version, job and cost, from the asset."
    )
    findings: list[StoredFinding] = Field(
        description="Open continuity findings of the asset (media checks) and its shot (preflight) at submission."
    )
    submitted_by: str | None
    submitted_at: str
    decisions: list[DecisionRecord] = Field(description="Every decision, oldest first.")
    already_submitted: bool = Field(False, description="True when review_submit found this asset already in review.")


class ReviewSummary(BaseModel):
    id: str
    asset: str
    shot: str | None
    kind: Literal["video", "image"]
    status: ReviewStatus
    errors: int = Field(description="Open error findings attached at submission.")
    submitted_at: str
    decided_at: str | None


class ReviewQueue(BaseModel):
    production: str
    status: ReviewStatus | None = Field(description="The filter asked for; None = every review.")
    counts: dict[str, int] = Field(description="Reviews per status in the production (whatever the filter).")
    reviews: list[ReviewSummary] = Field(description="Oldest submission first: the order to review in.")


class ShotFeedback(BaseModel):
    """The latest verdict on a shot, for the next prompt and retake (generation reads it)."""

    review: str
    asset: str
    decision: Decision
    notes: str
    reviewer: str | None
    decided_at: str
