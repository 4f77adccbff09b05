"""The style family's public models: what its tools take and return."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

StyleKind = Literal[
    "guide",
    "palette",
    "typography",
    "tone",
    "character",
    "location",
    "prop",
    "reference_image",
    "director_note",
    "approved_shot",
    "rejected_shot",
]
STYLE_KINDS: tuple[str, ...] = StyleKind.__args__  # type: ignore[attr-defined]


class SourceResult(BaseModel):
    source: str
    kind: StyleKind
    status: Literal["added", "replaced", "unchanged"]
    chunks: int


class SkippedPath(BaseModel):
    path: str
    reason: str


class IngestResult(BaseModel):
    kit: str
    embedder: str
    sources: list[SourceResult]
    chunks_added: int = Field(description="Chunks written that were not in the kit before.")
    chunks_removed: int = Field(description="Stale chunks of replaced sources that were deleted.")
    skipped: list[SkippedPath] = Field(default_factory=list, description="Files in directories not ingested.")


class StyleHit(BaseModel):
    id: str
    kit: str
    text: str
    source: str
    title: str
    kind: StyleKind
    entities: list[str]
    tags: list[str]
    heading: str
    score: float = Field(description="Cosine similarity, 1 is identical.")


class SearchResult(BaseModel):
    query: str
    hits: list[StyleHit]


class KitSource(BaseModel):
    source: str
    title: str
    kind: str
    chunks: int


class KitInfo(BaseModel):
    kit: str
    embedder: str
    chunks: int
    sources: list[KitSource]


class KitList(BaseModel):
    kits: list[KitInfo]


class RemoveResult(BaseModel):
    kit: str
    source: str | None
    chunks_removed: int
    kit_deleted: bool
