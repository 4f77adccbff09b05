"""Review gates: submissions, append-only decisions, and what each decision feeds back.

A decision lands in one transaction with everything it changes in state: the shot's status and
take, an explicit ledger fact, an explicit brief amendment, the event, and the kit material it
owes retrieval (queued in the outbox). Chroma is not part of that transaction, so the outbox row is
written to the kit right after the commit, and again by the background flush until Chroma has it:
the kit write is idempotent (the source is named by the decision), so a retry never duplicates."""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from core import NotFound, StudioError, now_iso
from core.context import StudioContext
from core.state import Tx
from tools.continuity import LIKENESS_RULE, FindingStore, LedgerService, StoredFinding
from tools.production import Asset, Production, ProductionService, Shot, tables
from tools.review.models import (
    DECISIONS,
    STATUS_OF,
    BriefChange,
    Decision,
    DecisionRecord,
    KitMaterial,
    LedgerChange,
    Review,
    ReviewQueue,
    ReviewStatus,
    ReviewSummary,
    ShotFeedback,
)
from tools.review.schema import review_decisions, review_kit_outbox, reviews
from tools.style import StyleService

log = logging.getLogger(__name__)

MAX_NOTES = 4000
MAX_NAME = 120
OUTBOX_FLUSH_S = 30.0
KIT_WRITE_TIMEOUT_S = 60.0
STATUSES: tuple[ReviewStatus, ...] = ("in_review", "approved", "rejected", "revise")


class ReviewService:
    """Handed to the generation family as `reviews`: it reads `feedback` for prompts and retakes."""

    def __init__(
        self,
        context: StudioContext,
        *,
        productions: ProductionService,
        ledger: LedgerService,
        kits: StyleService,
        findings: FindingStore,
    ) -> None:
        self._context = context
        self._productions = productions
        self._ledger = ledger
        self._kits = kits
        self._findings = findings

    # -- submit ---------------------------------------------------------------------------------

    async def submit(self, asset: str, note: str | None, submitted_by: str | None = None) -> Review:
        found = await anyio.to_thread.run_sync(self._productions.asset, _required("asset", asset))
        note = _optional_text("note", note)
        submitted_by = _optional_text("submitted_by", submitted_by, MAX_NAME)
        findings = await self._findings.open_for(found.production, asset=found.id, shot=found.shot)
        return await anyio.to_thread.run_sync(functools.partial(self._submit_sync, found, note, submitted_by, findings))

    def _submit_sync(
        self, asset: Asset, note: str | None, submitted_by: str | None, findings: list[StoredFinding]
    ) -> Review:
        with self._context.state.transaction() as tx:
            existing = tx.scalar(sa.select(reviews.c.id).where(reviews.c.asset == asset.id))
            if existing is not None:
                return self._review(tx, existing).model_copy(update={"already_submitted": True})
            review_id = "r_" + uuid.uuid4().hex[:16]
            provenance = _provenance(asset)
            tx.execute(
                sa.insert(reviews).values(
                    id=review_id,
                    production=asset.production,
                    asset=asset.id,
                    shot=asset.shot,
                    note=note,
                    provenance=json.dumps(provenance, default=str),
                    findings=json.dumps([f.model_dump() for f in findings]),
                    submitted_by=submitted_by,
                    submitted_at=now_iso(),
                )
            )
            if asset.shot is not None:
                self._productions.set_shot_status(asset.production, asset.shot, "in_review", take=asset.id, tx=tx)
            self._productions.record_event(
                asset.production,
                "review_submit",
                {"asset": asset.id, "note": note},
                detail={"review": review_id, "shot": asset.shot, "findings": len(findings)},
                actor=submitted_by,
                tx=tx,
            )
            return self._review(tx, review_id)

    # -- decide ---------------------------------------------------------------------------------

    async def decide(
        self,
        asset: str,
        decision: str,
        notes: str,
        reviewer: str | None = None,
        *,
        production: str | None = None,
        fact_entity: str | None = None,
        fact_kind: str | None = None,
        fact_attributes: dict[str, str] | None = None,
        fact_from_scene: str | None = None,
        must: Sequence[str] = (),
        must_not: Sequence[str] = (),
    ) -> Review:
        verdict = _decision(decision)
        notes_text = (notes or "").strip()
        if verdict != "approve" and not notes_text:
            raise StudioError(
                f"A {verdict} decision needs notes saying what is wrong and what the next take must change: "
                "pass notes='...'."
            )
        if len(notes_text) > MAX_NOTES:
            raise StudioError(f"notes are {len(notes_text)} characters: keep them to {MAX_NOTES}.")
        reviewer = _optional_text("reviewer", reviewer, MAX_NAME)
        fact = _fact(fact_entity, fact_kind, fact_attributes, fact_from_scene)
        found = await anyio.to_thread.run_sync(self._productions.asset, _required("asset", asset))
        if production is not None:
            pid = await anyio.to_thread.run_sync(self._productions.resolve, production)
            if pid != found.production:
                raise StudioError(
                    f"Asset {found.id!r} belongs to production {found.production!r}, not {pid!r}: "
                    "decide on it there, or pass an asset of this production (review_queue lists them)."
                )
        prod = await anyio.to_thread.run_sync(self._productions.get, found.production)
        shot = prod.find_shot(found.shot) if found.shot else None
        if verdict == "approve":
            await self._refuse_unconsented_likeness(found)
        seq = await anyio.to_thread.run_sync(
            functools.partial(
                self._decide_sync, found, prod, shot, verdict, notes_text, reviewer, fact, [*must], [*must_not]
            )
        )
        await self._write_kit_material(seq)
        return await self.get(found.id)

    async def _refuse_unconsented_likeness(self, asset: Asset) -> None:
        open_findings = await self._findings.open_for(asset.production, asset=asset.id, shot=asset.shot)
        blocking = [f for f in open_findings if f.rule == LIKENESS_RULE and f.asset == asset.id]
        if blocking:
            raise StudioError(
                f"Asset {asset.id} cannot be approved: {blocking[0].found} Record the consent "
                "(performer_consent), run continuity_check_media on the asset again, then approve; or reject it. "
                "Nothing was changed."
            )

    def _decide_sync(
        self,
        asset: Asset,
        prod: Production,
        shot: Shot | None,
        decision: Decision,
        notes: str,
        reviewer: str | None,
        fact: dict[str, Any] | None,
        must: list[str],
        must_not: list[str],
    ) -> int:
        with self._context.state.transaction() as tx:
            row = tx.row(sa.select(reviews).where(reviews.c.asset == asset.id))
            if row is None:
                raise StudioError(
                    f"Asset {asset.id!r} is not in review: submit it first with review_submit(asset={asset.id!r})."
                )
            review_id = row["id"]
            source = f"review {review_id}"
            feedback: dict[str, Any] = {}
            if fact is not None:
                result = self._ledger.record_in(
                    tx,
                    prod,
                    fact["entity"],
                    fact["kind"],
                    fact["attributes"],
                    fact["from_scene"],
                    note=f"{source} ({decision}): {notes}"[:MAX_NOTES],
                )
                feedback["ledger"] = LedgerChange(
                    entity=result.entity,
                    kind=result.kind,
                    attributes=fact["attributes"],
                    from_scene=fact["from_scene"],
                    fact_ids=[f.id for f in result.facts],
                ).model_dump()
            if must or must_not:
                amended = self._productions.amend(
                    asset.production,
                    f"{source} ({decision}): {notes or 'approved'}"[:MAX_NOTES],
                    must,
                    must_not,
                    actor=reviewer,
                    tx=tx,
                )
                feedback["brief"] = BriefChange(
                    brief_version=amended.brief.version, must=must, must_not=must_not
                ).model_dump()
            if shot is not None:
                self._productions.set_shot_status(asset.production, shot.ref, STATUS_OF[decision], take=asset.id, tx=tx)
            seq = int(
                tx.scalar(
                    sa.insert(review_decisions)
                    .values(
                        review=review_id,
                        decision=decision,
                        notes=notes,
                        reviewer=reviewer,
                        feedback=json.dumps(feedback),
                        decided_at=now_iso(),
                    )
                    .returning(review_decisions.c.seq)
                )
            )
            self._queue_kit_material(tx, seq, review_id, prod.kit, asset, shot, decision, notes, row)
            self._productions.record_event(
                asset.production,
                "review_decide",
                {
                    "asset": asset.id,
                    "decision": decision,
                    "notes": notes,
                    "fact": fact,
                    "must": must,
                    "must_not": must_not,
                },
                detail={"review": review_id, "asset": asset.id, "shot": asset.shot, "decision": decision, **feedback},
                actor=reviewer,
                tx=tx,
            )
            return seq

    # -- kit material ---------------------------------------------------------------------------

    def _queue_kit_material(
        self,
        tx: Tx,
        seq: int,
        review_id: str,
        kit: str,
        asset: Asset,
        shot: Shot | None,
        decision: Decision,
        notes: str,
        review: RowMapping,
    ) -> None:
        provenance = json.loads(review["provenance"])
        findings = [StoredFinding.model_validate(f) for f in json.loads(review["findings"])]
        where = f"shot {shot.ref}" if shot else "a free prompt"
        lines: list[str] = []
        if decision == "approve":
            kind = "approved_shot"
            lines.append(f"Approved take of {where} in production {asset.production} ({asset.id}).")
        else:
            kind = "rejected_shot"
            lines.append(f"Take of {where} in production {asset.production} sent back ({decision}, {asset.id}).")
            lines.append(f"Reviewer notes: {notes}")
        if shot is not None:
            lines.append(f"Shot: {shot.description}")
        if provenance.get("prompt"):
            lines.append(f"Prompt: {provenance['prompt']}")
        if provenance.get("palette"):
            lines.append(f"Palette: {', '.join(map(str, provenance['palette']))}")
        if decision == "approve" and notes:
            lines.append(f"Reviewer notes: {notes}")
        if decision != "approve" and findings:
            found = "; ".join(f"{f.rule}: {f.found or f.expected or ''}".strip() for f in findings[:10])
            lines.append(f"Continuity findings: {found}")
        entities = [*shot.characters, *shot.props, *([shot.location] if shot.location else [])] if shot else []
        tx.execute(
            sa.insert(review_kit_outbox).values(
                decision=seq,
                kit=kit,
                kind=kind,
                title=f"review {review_id} #{seq} {decision}",
                text="\n".join(lines),
                entities=json.dumps(list(dict.fromkeys(entities))),
                tags=json.dumps([asset.production, *([shot.scene] if shot else [])]),
            )
        )

    async def _write_kit_material(self, seq: int) -> None:
        """Write one decision's kit material; a Chroma failure leaves it pending for the next flush."""
        row = await anyio.to_thread.run_sync(
            self._context.state.row, sa.select(review_kit_outbox).where(review_kit_outbox.c.decision == seq)
        )
        if row is None or row["written_at"] is not None:
            return
        error: str | None = None
        try:
            with anyio.fail_after(KIT_WRITE_TIMEOUT_S):
                await self._kits.ingest(
                    row["kit"],
                    [],
                    row["text"],
                    row["title"],
                    row["kind"],
                    json.loads(row["entities"]),
                    json.loads(row["tags"]),
                )
        except StudioError as exc:
            error = str(exc)[:500]
        except TimeoutError:
            error = f"the kit write took longer than {KIT_WRITE_TIMEOUT_S:g} s"
        await anyio.to_thread.run_sync(self._mark_written, seq, error)
        if error:
            log.warning("Kit material of decision %s is pending: %s", seq, error)

    def _mark_written(self, seq: int, error: str | None) -> None:
        with self._context.state.transaction() as tx:
            tx.execute(
                sa.update(review_kit_outbox)
                .where(review_kit_outbox.c.decision == seq)
                .values(written_at=None if error else now_iso(), last_error=error)
            )

    async def flush_outbox(self) -> None:
        """Write every pending decision's kit material (what Chroma refused stays pending)."""
        outbox = review_kit_outbox.c
        rows = await anyio.to_thread.run_sync(
            self._context.state.rows,
            sa.select(outbox.decision).where(outbox.written_at.is_(None)).order_by(outbox.decision),
        )
        for row in rows:
            await self._write_kit_material(row["decision"])

    async def keep_outbox_flushed(self) -> None:
        """Background task: retry pending kit material until Chroma has it."""
        while True:
            try:
                await self.flush_outbox()
            except Exception:  # the loop must outlive one bad flush
                log.exception("Flushing review kit material failed")
            await anyio.sleep(OUTBOX_FLUSH_S)

    # -- read -----------------------------------------------------------------------------------

    async def get(self, review: str) -> Review:
        key = _required("review", review)

        def read() -> Review:
            with self._context.state.transaction(read_only=True) as tx:
                found = tx.scalar(sa.select(reviews.c.id).where(sa.or_(reviews.c.id == key, reviews.c.asset == key)))
                if found is None:
                    raise NotFound(
                        f"No review {key!r}: pass a review id ('r_...', from review_submit or review_queue) or the "
                        "id of an asset in review."
                    )
                return self._review(tx, found)

        return await anyio.to_thread.run_sync(read)

    async def queue(self, production: str, status: str | None) -> ReviewQueue:
        if status is not None and status not in STATUSES:
            raise StudioError(f"Unknown review status {status!r}: use one of {', '.join(STATUSES)}, or leave it out.")

        def read() -> ReviewQueue:
            with self._context.state.transaction(read_only=True) as tx:
                pid = self._productions.resolve(production, tx)
                later = review_decisions.alias("later")
                latest = (
                    sa.select(sa.func.max(later.c.seq))
                    .where(later.c.review == reviews.c.id)
                    .correlate(reviews)
                    .scalar_subquery()
                )
                rows = tx.rows(
                    sa.select(reviews, tables.assets.c.kind, review_decisions.c.decision, review_decisions.c.decided_at)
                    .join(tables.assets, tables.assets.c.id == reviews.c.asset)
                    .outerjoin(review_decisions, review_decisions.c.seq == latest)
                    .where(reviews.c.production == pid)
                    .order_by(reviews.c.submitted_at, reviews.c.id)
                )
            summaries = [_summary(r) for r in rows]
            counts = {s: sum(1 for x in summaries if x.status == s) for s in STATUSES}
            shown = [s for s in summaries if status is None or s.status == status]
            return ReviewQueue(production=pid, status=status, counts=counts, reviews=shown)

        return await anyio.to_thread.run_sync(read)

    async def productions_in_review(self) -> list[str]:
        rows = await anyio.to_thread.run_sync(
            self._context.state.rows,
            sa.select(reviews.c.production).distinct().order_by(reviews.c.production),
        )
        return [r["production"] for r in rows]

    async def media(self, asset: str) -> tuple[Path, str]:
        """The file of an asset in review and its MIME type (the page plays it)."""

        def find() -> tuple[Path, str]:
            found = self._productions.asset(asset)
            if self._context.state.row(sa.select(reviews.c.id).where(reviews.c.asset == found.id)) is None:
                raise NotFound(f"Asset {found.id} is not in review.")
            return self._productions.asset_path(found.id), found.mime_type

        return await anyio.to_thread.run_sync(find)

    def feedback(self, pid: str, shot: str) -> ShotFeedback | None:
        """The latest decision on any take of a shot (sync: call it from a worker thread)."""
        d = review_decisions.c
        row = self._context.state.row(
            sa.select(reviews.c.id, reviews.c.asset, d.decision, d.notes, d.reviewer, d.decided_at)
            .select_from(review_decisions.join(reviews, reviews.c.id == d.review))
            .where(reviews.c.production == pid, reviews.c.shot == shot)
            .order_by(d.seq.desc())
            .limit(1)
        )
        if row is None:
            return None
        return ShotFeedback(
            review=row["id"],
            asset=row["asset"],
            decision=row["decision"],
            notes=row["notes"],
            reviewer=row["reviewer"],
            decided_at=row["decided_at"],
        )

    def _review(self, tx: Tx, review_id: str) -> Review:
        row = tx.row(
            sa.select(reviews, tables.assets.c.kind)
            .join(tables.assets, tables.assets.c.id == reviews.c.asset)
            .where(reviews.c.id == review_id)
        )
        assert row is not None  # the caller found the review in this transaction, and reviews are never deleted
        outbox = review_kit_outbox.c
        decisions = tx.rows(
            sa.select(
                review_decisions,
                outbox.kit,
                outbox.kind.label("material_kind"),
                outbox.title,
                outbox.written_at,
                outbox.last_error,
            )
            .outerjoin(review_kit_outbox, outbox.decision == review_decisions.c.seq)
            .where(review_decisions.c.review == review_id)
            .order_by(review_decisions.c.seq)
        )
        records = [_decision_record(d, superseded=i < len(decisions) - 1) for i, d in enumerate(decisions)]
        asset = self._productions.asset(row["asset"], tx=tx)
        return Review(
            id=row["id"],
            production=row["production"],
            asset=row["asset"],
            asset_uri=asset.uri,
            kind=row["kind"],
            shot=row["shot"],
            status=STATUS_OF[records[-1].decision] if records else "in_review",
            note=row["note"],
            provenance=json.loads(row["provenance"]),
            findings=[StoredFinding.model_validate(f) for f in json.loads(row["findings"])],
            submitted_by=row["submitted_by"],
            submitted_at=row["submitted_at"],
            decisions=records,
        )


# -- validation and rows ------------------------------------------------------------------------


def _required(name: str, value: str | None) -> str:
    text = (value or "").strip()
    if not text:
        raise StudioError(f"{name} is empty: pass an id, e.g. an asset id 'a_...' from video_job or asset_get.")
    return text


def _optional_text(name: str, value: str | None, limit: int = MAX_NOTES) -> str | None:
    text = (value or "").strip()
    if len(text) > limit:
        raise StudioError(f"{name} is {len(text)} characters: keep it to {limit}.")
    return text or None


def _decision(value: str) -> Decision:
    word = (value or "").strip().lower()
    for decision in DECISIONS:
        if word == decision:
            return decision
    raise StudioError(f"Unknown decision {value!r}: use one of {', '.join(DECISIONS)}.")


def _fact(
    entity: str | None, kind: str | None, attributes: dict[str, str] | None, from_scene: str | None
) -> dict[str, Any] | None:
    """The explicit ledger fact of a decision: entity, kind and attributes together, or none at all."""
    given = [entity, kind, attributes, from_scene]
    if all(v in (None, "", {}) for v in given):
        return None
    if not (entity and entity.strip()) or not (kind and kind.strip()) or not attributes:
        raise StudioError(
            "A ledger fact needs fact_entity, fact_kind and fact_attributes together, e.g. fact_entity='Mara', "
            "fact_kind='character', fact_attributes={'coat': 'red wool'} (and fact_from_scene to start later)."
        )
    return {"entity": entity.strip(), "kind": kind.strip(), "attributes": dict(attributes), "from_scene": from_scene}


def _provenance(asset: Asset) -> dict[str, Any]:
    """The asset's provenance with what a reviewer reads first lifted to the top."""
    recorded = asset.provenance
    raw_request = recorded.get("request")
    request: dict[str, Any] = raw_request if isinstance(raw_request, dict) else {}
    return {
        "prompt": recorded.get("prompt") or request.get("prompt"),
        "negative_prompt": recorded.get("negative_prompt") or request.get("negative_prompt"),
        "references": recorded.get("reference_assets") or request.get("reference_assets") or [],
        "brief_version": recorded.get("brief_version"),
        "job": recorded.get("job"),
        "cost": recorded.get("cost"),
        "parent": asset.parent,
        "recorded": recorded,
    }


def _summary(row: RowMapping) -> ReviewSummary:
    findings = json.loads(row["findings"])
    return ReviewSummary(
        id=row["id"],
        asset=row["asset"],
        shot=row["shot"],
        kind=row["kind"],
        status=STATUS_OF[row["decision"]] if row["decision"] else "in_review",
        errors=sum(1 for f in findings if f.get("severity") == "error"),
        submitted_at=row["submitted_at"],
        decided_at=row["decided_at"],
    )


def _decision_record(row: RowMapping, *, superseded: bool) -> DecisionRecord:
    feedback = json.loads(row["feedback"])
    material = None
    if row["kit"] is not None:
        material = KitMaterial(
            kit=row["kit"],
            kind=row["material_kind"],
            source=row["title"],
            status="written" if row["written_at"] else "pending",
            error=row["last_error"],
        )
    return DecisionRecord(
        seq=row["seq"],
        decision=row["decision"],
        notes=row["notes"],
        reviewer=row["reviewer"],
        decided_at=row["decided_at"],
        superseded=superseded,
        ledger=LedgerChange.model_validate(feedback["ledger"]) if "ledger" in feedback else None,
        brief=BriefChange.model_validate(feedback["brief"]) if "brief" in feedback else None,
        kit_material=material,
    )
