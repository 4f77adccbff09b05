"""`continuity_check_media`: a generated (or given) clip against its references, with a timeline.

The references come from where the production keeps them: the kit's brand palette, the reference
assets attached to the shot's entities in the ledger, the last frames of the previous shot's
approved take, and whatever the caller adds in `against`. Every registered performer's reference
faces are compared too: a performer who appears without a consent covering likeness in this
production is an error finding, which blocks approval. Findings are stored with `record_findings`,
so the report shows them next to the preflight's.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from pathlib import Path
from typing import Any

import anyio
from pydantic import BaseModel, Field

from core import NotFound, StudioError, confine
from tools.consent import ConsentService, Performer
from tools.continuity.judge import Judge, MediaJudgment
from tools.continuity.ledger import Ledger, LedgerService
from tools.continuity.media import Finding, MediaAnalysis, MediaError, analyze_media
from tools.continuity.media.models import FaceMatch
from tools.continuity.models import FindingIn, StoredFinding
from tools.continuity.report import FindingStore
from tools.production import Asset, Production, ProductionService, Shot, parse_shot_ref, shot_ref
from tools.style import StyleService

MAX_AGAINST = 8
# A performer "appears" when most face samples of the clip are within the identity threshold of their
# reference face: a likeness, not one frame of passing resemblance.
LIKENESS_MIN_FRACTION = 0.5
LIKENESS_RULE = "consent.likeness"


class MediaReference(BaseModel):
    role: str = Field(description="brand_palette, entity_reference, previous_shot, performer or against")
    ref: str = Field(description="Asset id, path, kit name or entity the reference came from.")
    detail: str = ""


class LikenessCheck(BaseModel):
    performer: str
    name: str
    reference: str = Field(description="The reference image asset the clip's faces were compared with.")
    appears: bool = Field(description=f"At least {LIKENESS_MIN_FRACTION:.0%} of face samples are this performer.")
    consent_covers: bool = Field(description="Whether their current consent covers likeness in this production.")
    match: FaceMatch


class MediaCheckResult(BaseModel):
    production: str
    asset: str = Field(description="The checked clip's asset id (a path is imported as an asset).")
    shot: str | None
    references: list[MediaReference] = Field(description="What the clip was compared with, and why.")
    notes: list[str] = Field(description="Checks that were skipped, and why.")
    analysis: MediaAnalysis = Field(description="Timeline, breaks, palette, reference and transition checks.")
    likeness: list[LikenessCheck] = Field(
        default_factory=list, description="Registered performers' reference faces against the clip's faces."
    )
    findings: list[StoredFinding] = Field(description="Open media findings for this clip after this check.")
    judgment: MediaJudgment | None = Field(
        None,
        description="Gemini's judgment against the ledger facts (judge=true only); its findings have source 'gemini'.",
    )


class MediaChecker:
    def __init__(
        self,
        productions: ProductionService,
        kits: StyleService,
        ledger: LedgerService,
        findings: FindingStore,
        judge: Judge,
        consent: ConsentService,
    ) -> None:
        self._productions = productions
        self._kits = kits
        self._ledger = ledger
        self._findings = findings
        self._judge = judge
        self._consent = consent

    async def check(
        self,
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
            self._judge.require("continuity_check_media")
        if len(against) > MAX_AGAINST:
            raise StudioError(f"against lists {len(against)} references; pass at most {MAX_AGAINST}.")
        run = anyio.to_thread.run_sync
        prod = await run(self._productions.get, production)
        pid = prod.id
        given_shot = prod.find_shot(shot) if shot is not None else None  # raises with the expected form
        clip = await run(self._clip_asset, pid, asset, path, given_shot.ref if given_shot else None, roots)
        if clip.production != pid:
            raise StudioError(f"Asset {clip.id} belongs to production {clip.production!r}, not {pid!r}.")
        the_shot = given_shot or (prod.find_shot(clip.shot) if clip.shot else None)
        ledger = await self._ledger.load(prod)

        references: list[MediaReference] = []
        notes: list[str] = []
        palette = await self._brand_palette(prod, references, notes)
        images, previous = await run(self._against, against, roots, references)
        if the_shot is not None:
            images += await run(self._entity_references, ledger, the_shot, references, notes)
            if previous is None:
                previous = await run(self._previous_approved_clip, prod, the_shot, references, notes)
        else:
            notes.append("No shot: entity references and the cross-shot transition were not checked.")
        performers = await run(self._performer_references, pid, references)

        clip_path = await run(self._productions.asset_path, clip.id)
        try:
            analysis = await run(
                functools.partial(
                    _analyze_and_release,
                    clip_path,
                    brand_palette=palette,
                    reference_images=[*images, *performers],
                    previous_clip=previous,
                )
            )
        except MediaError as exc:
            raise StudioError(f"{exc} Nothing was recorded.") from exc
        analysis, likeness = _split_likeness(analysis, performers)
        findings = [_finding(f) for f in analysis.findings if f.severity != "info"]
        for check in likeness:
            if check.appears and check.consent_covers:
                notes.append(f"{check.name} appears ({check.match.detail}), under their recorded consent.")
            elif check.appears:
                findings.append(_likeness_finding(check, pid))

        shot_ref_ = the_shot.ref if the_shot else None
        stored = await self._findings.record(
            pid,
            findings,
            source="media",
            shot=shot_ref_,
            asset=clip.id,
        )
        judgment = (
            await self._judge.judge_media(pid, ledger, clip, clip_path, the_shot, analysis.duration_s)
            if judge
            else None
        )
        if judgment is not None and judgment.status != "ok":
            notes.append(f"{judgment.error} The media findings above stand.")
        await run(
            self._productions.record_event,
            pid,
            "continuity_check_media",
            {"asset": clip.id, "shot": shot_ref_, "against": against, **({"judge": True} if judge else {})},
            "ok",
            {
                "shot": shot_ref_,
                "breaks": len(analysis.breaks),
                "open_findings": len(stored),
                "errors": sum(1 for f in stored if f.severity == "error"),
                **({"judgment": judgment.status, "gemini_findings": len(judgment.findings)} if judgment else {}),
            },
        )
        return MediaCheckResult(
            production=pid,
            asset=clip.id,
            shot=shot_ref_,
            references=references,
            notes=notes,
            analysis=analysis,
            likeness=likeness,
            findings=stored,
            judgment=judgment,
        )

    def _clip_asset(self, pid: str, asset: str | None, path: str | None, shot: str | None, roots: list[Path]) -> Asset:
        if asset is not None:
            return self._productions.asset(asset)
        assert path is not None
        return self._productions.add_asset_file(
            pid, path, shot=shot, provenance={"imported_by": "continuity_check_media"}, roots=roots
        )

    async def _brand_palette(self, prod: Production, references: list[MediaReference], notes: list[str]) -> list[str]:
        try:
            palette = await self._kits.brand_palette(prod.kit)
        except StudioError as exc:
            notes.append(f"Brand palette not checked: {exc}")
            return []
        if not palette:
            notes.append(
                f"Brand palette not checked: kit {prod.kit!r} has no palette material (ingest a brand kit JSON)."
            )
        else:
            references.append(MediaReference(role="brand_palette", ref=prod.kit, detail=", ".join(palette)))
        return palette

    def _against(
        self, against: list[str], roots: list[Path], references: list[MediaReference]
    ) -> tuple[list[Path], Path | None]:
        """Caller-given references: image assets or paths are references; one video is the previous clip."""
        images: list[Path] = []
        previous: Path | None = None
        for ref in against:
            if ref.startswith(("a_", "studio://assets/")):
                found = self._productions.asset(ref)
                file, kind = self._productions.asset_path(found.id), found.kind
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

    def _entity_references(
        self, ledger: Ledger, shot: Shot, references: list[MediaReference], notes: list[str]
    ) -> list[Path]:
        names = [*shot.characters, *shot.props, *([shot.location] if shot.location else [])]
        states = ledger.states(shot.scene, names) if names else []
        paths: list[Path] = []
        for state in states:
            for ref in state.references:
                found = self._productions.asset(ref)
                if found.kind == "image":
                    paths.append(self._productions.asset_path(found.id))
                    references.append(MediaReference(role="entity_reference", ref=found.id, detail=state.entity))
        if names and not paths:
            notes.append(
                f"No reference images attached in the ledger to {', '.join(names)} (continuity_set references)."
            )
        return paths

    def _previous_approved_clip(
        self, prod: Production, shot: Shot, references: list[MediaReference], notes: list[str]
    ) -> Path | None:
        scene, number = parse_shot_ref(shot.ref)
        previous_ref = shot_ref(scene, number - 1)
        earlier = [s for s in prod.scenes.get(scene, []) if s.number == number - 1]
        if not earlier:
            notes.append("No previous shot in the scene: the cross-shot transition was not checked.")
            return None
        if earlier[0].status != "approved" or earlier[0].take is None:
            notes.append(f"Previous shot {previous_ref} has no approved take yet: the transition was not checked.")
            return None
        take = self._productions.asset(earlier[0].take)
        if take.kind != "video":
            notes.append(f"Previous shot {previous_ref}'s approved take is an image: the transition was not checked.")
            return None
        references.append(MediaReference(role="previous_shot", ref=take.id, detail=f"approved take of {previous_ref}"))
        return self._productions.asset_path(take.id)

    def _performer_references(
        self, pid: str, references: list[MediaReference]
    ) -> dict[Path, tuple[Performer, str, bool]]:
        """Reference image path -> (performer, its asset id, whether consent covers likeness in pid)."""
        out: dict[Path, tuple[Performer, str, bool]] = {}
        for performer, covered in self._consent.likeness_references(pid):
            for asset_id in performer.references:
                try:
                    path = self._productions.asset_path(asset_id)
                except NotFound:
                    continue  # the image file was removed; the others still count
                out[path] = (performer, asset_id, covered)
                references.append(MediaReference(role="performer", ref=asset_id, detail=performer.name))
        return out


def _analyze_and_release(path: Path, **kwargs: Any) -> MediaAnalysis:
    """analyze_media, then hand the freed decode buffers back to the OS: glibc keeps them in per-thread
    arenas, so a long-lived server's resident set crept up with each large clip."""
    try:
        return analyze_media(path, **kwargs)
    finally:
        _malloc_trim()


@functools.cache
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name) if name else None


def _malloc_trim() -> None:
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):  # glibc only
        libc.malloc_trim(0)


def _split_likeness(
    analysis: MediaAnalysis, performers: dict[Path, tuple[Performer, str, bool]]
) -> tuple[MediaAnalysis, list[LikenessCheck]]:
    """Performers' references were analysed as references; take them out of the analysis (they are
    not what the clip should look like) and judge them as likeness instead."""
    by_path = {str(path): who for path, who in performers.items()}
    likeness = []
    for check in analysis.reference_checks:
        who = by_path.get(check.reference)
        if who is None or check.face is None:
            continue
        performer, asset_id, covered = who
        appears = check.face.faces_compared > 0 and check.face.fraction_within >= LIKENESS_MIN_FRACTION
        likeness.append(
            LikenessCheck(
                performer=performer.id,
                name=performer.name,
                reference=asset_id,
                appears=appears,
                consent_covers=covered,
                match=check.face,
            )
        )
    kept = analysis.model_copy(
        update={
            "reference_checks": [r for r in analysis.reference_checks if r.reference not in by_path],
            "findings": [f for f in analysis.findings if not any(f.message.startswith(f"{p}:") for p in by_path)],
        }
    )
    return kept, likeness


def _likeness_finding(check: LikenessCheck, pid: str) -> FindingIn:
    return FindingIn(
        severity="error",
        rule=LIKENESS_RULE,
        found=f"{check.name} ({check.performer}) appears without a consent covering likeness in {pid}: "
        f"{check.match.detail}",
        time_s=None,
        evidence=f"compared with reference {check.reference}",
        suggestion=f"record their signed consent with performer_consent(performer='{check.performer}', "
        f"likeness=true, scope=['{pid}'], document='...') and check again, or regenerate without them",
    )


def _finding(finding: Finding) -> FindingIn:
    return FindingIn(
        severity=finding.severity,
        rule=finding.rule,
        found=finding.message,
        time_s=finding.time_s,
        evidence=_evidence(finding),
        suggestion=finding.fix or None,
    )


def _evidence(finding: Finding) -> str | None:
    """Where to look: the time range and, for video, the native frame numbers."""
    if finding.time_s is None:
        return None
    start = finding.start_s if finding.start_s is not None else finding.time_s
    end = finding.end_s if finding.end_s is not None else finding.time_s
    where = f"at {finding.time_s:.2f} s" if start == end else f"from {start:.2f} s to {end:.2f} s"
    if finding.frames is not None:
        first, last = finding.frames
        where += f", frame {first}" if first == last else f", frames {first}-{last}"
    return where
