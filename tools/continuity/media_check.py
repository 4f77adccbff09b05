"""`continuity_check_media`: a generated (or given) clip against its references, with a timeline.

The references come from where the production keeps them: the kit's brand palette, the reference
assets attached to the shot's entities in the ledger, the last frames of the previous approved
shot of the scene, and whatever the caller adds in `against`. Findings are stored with
`record_findings`, so the report shows them next to the preflight's.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
from pydantic import BaseModel, Field

from server.errors import StudioError
from server.paths import confine
from tools.continuity.judge import MediaJudgment, judge_media, require_judge
from tools.continuity.ledger import ledger_as_of
from tools.continuity.media import MediaAnalysis, MediaError, analyze_media
from tools.continuity.models import FindingIn, StoredFinding
from tools.continuity.report import record_findings
from tools.production.models import Asset, parse_shot_ref, shot_ref

if TYPE_CHECKING:
    from server.app import Studio

MAX_AGAINST = 8


class MediaReference(BaseModel):
    role: str = Field(description="brand_palette, entity_reference, previous_shot or against")
    ref: str = Field(description="Asset id, path, kit name or entity the reference came from.")
    detail: str = ""


class MediaCheckResult(BaseModel):
    production: str
    asset: str = Field(description="The checked clip's asset id (a path is imported as an asset).")
    shot: str | None
    references: list[MediaReference] = Field(description="What the clip was compared with, and why.")
    notes: list[str] = Field(description="Checks that were skipped, and why.")
    analysis: MediaAnalysis = Field(description="Timeline, breaks, palette, reference and transition checks.")
    findings: list[StoredFinding] = Field(description="Open media findings for this clip after this check.")
    judgment: MediaJudgment | None = Field(
        None, description="Gemini's judgment against the ledger facts (judge=true only); its findings have source "
                          "'gemini'.")


async def check_media(
    studio: Studio,
    production: str,
    asset: str | None,
    path: str | None,
    shot: str | None,
    against: list[str],
    roots: list[Path],
    judge: bool = False,
) -> MediaCheckResult:
    if (asset is None) == (path is None):
        raise StudioError("Pass exactly one of asset (an asset id) or path (a video or image file).")
    if judge:
        require_judge(studio, "continuity_check_media")
    if len(against) > MAX_AGAINST:
        raise StudioError(f"against lists {len(against)} references; pass at most {MAX_AGAINST}.")
    productions = studio.production
    run = anyio.to_thread.run_sync
    pid = await run(productions.resolve, production)
    if shot is not None:
        shot = (await run(productions.shot, pid, shot)).ref  # raises with the expected form
    clip = await run(_clip_asset, studio, pid, asset, path, shot, roots)
    if clip.production != pid:
        raise StudioError(f"Asset {clip.id} belongs to production {clip.production!r}, not {pid!r}.")
    shot = shot or clip.shot

    references: list[MediaReference] = []
    notes: list[str] = []
    palette = await _brand_palette(studio, pid, references, notes)
    images, previous = await run(_against, studio, pid, against, roots, references)
    if shot is not None:
        images += await _entity_references(studio, pid, shot, references, notes)
        if previous is None:
            previous = await run(_previous_approved_clip, studio, pid, shot, references, notes)
    else:
        notes.append("No shot: entity references and the cross-shot transition were not checked.")

    clip_path = await run(productions.asset_path, clip.id)
    try:
        analysis = await run(
            functools.partial(
                analyze_media, clip_path, brand_palette=palette, reference_images=images, previous_clip=previous
            )
        )
    except MediaError as exc:
        raise StudioError(f"{exc} Nothing was recorded.") from exc

    stored = await record_findings(
        studio,
        pid,
        [_finding(f) for f in analysis.findings if f.severity != "info"],
        source="media",
        shot=shot,
        asset=clip.id,
    )
    judgment = await judge_media(studio, pid, clip, clip_path, shot, analysis.duration_s) if judge else None
    if judgment is not None and judgment.status != "ok":
        notes.append(f"{judgment.error} The media findings above stand.")
    await run(
        productions.record_event,
        pid,
        "continuity_check_media",
        {"asset": clip.id, "shot": shot, "against": against, **({"judge": True} if judge else {})},
        "ok",
        {"breaks": len(analysis.breaks), "open_findings": len(stored),
         **({"judgment": judgment.status, "gemini_findings": len(judgment.findings)} if judgment else {})},
    )
    return MediaCheckResult(
        production=pid,
        asset=clip.id,
        shot=shot,
        references=references,
        notes=notes,
        analysis=analysis,
        findings=stored,
        judgment=judgment,
    )


def _clip_asset(
    studio: Studio, pid: str, asset: str | None, path: str | None, shot: str | None, roots: list[Path]
) -> Asset:
    if asset is not None:
        return studio.production.asset(asset)
    assert path is not None
    return studio.production.add_asset_file(
        pid, path, shot=shot, provenance={"imported_by": "continuity_check_media"}, roots=roots
    )


async def _brand_palette(studio: Studio, pid: str, references: list[MediaReference], notes: list[str]) -> list[str]:
    kit = (await anyio.to_thread.run_sync(studio.production.get, pid)).kit
    try:
        palette = await studio.style.brand_palette(kit)
    except StudioError as exc:
        notes.append(f"Brand palette not checked: {exc}")
        return []
    if not palette:
        notes.append(f"Brand palette not checked: kit {kit!r} has no palette material (ingest a brand kit JSON).")
    else:
        references.append(MediaReference(role="brand_palette", ref=kit, detail=", ".join(palette)))
    return palette


def _against(
    studio: Studio, pid: str, against: list[str], roots: list[Path], references: list[MediaReference]
) -> tuple[list[Path], Path | None]:
    """Caller-given references: image assets or paths are references; one video is the previous clip."""
    images: list[Path] = []
    previous: Path | None = None
    for ref in against:
        if ref.startswith(("a_", "studio://assets/")):
            found = studio.production.asset(ref)
            file, kind = studio.production.asset_path(found.id), found.kind
        else:
            file = confine(ref, roots)
            kind = "video" if file.suffix.lower() in {".mp4", ".mov", ".webm", ".mkv", ".m4v"} else "image"
        if kind == "video":
            if previous is not None:
                raise StudioError("against holds more than one video: pass at most one previous clip.")
            previous = file
        else:
            images.append(file)
        references.append(MediaReference(role="against", ref=ref, detail=kind))
    return images, previous


async def _entity_references(
    studio: Studio, pid: str, shot: str, references: list[MediaReference], notes: list[str]
) -> list[Path]:
    spec = await anyio.to_thread.run_sync(studio.production.shot, pid, shot)
    names = [*spec.characters, *spec.props, *([spec.location] if spec.location else [])]
    states = await ledger_as_of(studio, pid, spec.scene, names) if names else []
    paths: list[Path] = []
    for state in states:
        for ref in state.references:
            found = await anyio.to_thread.run_sync(studio.production.asset, ref)
            if found.kind == "image":
                paths.append(await anyio.to_thread.run_sync(studio.production.asset_path, found.id))
                references.append(MediaReference(role="entity_reference", ref=found.id, detail=state.entity))
    if names and not paths:
        notes.append(f"No reference images attached in the ledger to {', '.join(names)} (continuity_set references).")
    return paths


def _previous_approved_clip(
    studio: Studio, pid: str, shot: str, references: list[MediaReference], notes: list[str]
) -> Path | None:
    scene, number = parse_shot_ref(shot)
    previous_ref = shot_ref(scene, number - 1)
    earlier = [s for s in studio.production.shots(pid, scene) if s.number == number - 1]
    if not earlier:
        notes.append("No previous shot in the scene: the cross-shot transition was not checked.")
        return None
    if earlier[0].status != "approved":
        notes.append(f"Previous shot {previous_ref} is not approved yet: the transition was not checked.")
        return None
    videos = [a for a in studio.production.assets(pid, shot=previous_ref) if a.kind == "video"]
    if not videos:
        notes.append(f"Previous shot {previous_ref} has no video asset: the transition was not checked.")
        return None
    references.append(MediaReference(role="previous_shot", ref=videos[-1].id, detail=previous_ref))
    return studio.production.asset_path(videos[-1].id)


def _finding(finding: object) -> FindingIn:
    from tools.continuity.media import Finding

    assert isinstance(finding, Finding)
    return FindingIn(
        severity=finding.severity,
        rule=finding.rule,
        found=finding.message,
        time_s=finding.time_s,
        evidence=f"at {finding.time_s:.2f} s" if finding.time_s is not None else None,
    )
