"""The Veo jobs' table and every transition of a job, each in one transaction with its spend, shot
status and event (synchronous: call from a worker thread).

    submitting -> pending -> done | failed        (a poll's outcome)
    submitting -> failed | unknown_submission     (a refused submit; an answer that may have been lost)
    submitting | pending -> cancelled             (video_cancel)
    submitting -> unknown_submission              (found at start-up: the process died mid-submit)

A partial unique index (schema.py) keeps at most one live job per request digest, so the same request
twice is one job. `pid` arguments are production ids already resolved.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from core import NotFound, crash_point, iso_of, now_iso
from core.context import StudioContext
from core.genai import GenerationError, may_have_been_processed
from core.state import Tx
from tools.generation.models import TERMINAL_STATUSES
from tools.generation.video.request import VideoRequest, price_label
from tools.generation.video.schema import LIVE_STATUSES, video_jobs
from tools.production import ProductionService, digest


def _how_to_resolve(job_id: str) -> str:
    return (
        f"It carries the label studio-job={job_id}: the Vertex billing export shows whether it was billed. "
        "Then either resubmit knowingly with video_generate(..., retake=true) (a second, separately billed "
        "submit), or release the estimate with video_cancel (if Vertex did create it, Google may still bill it)."
    )


def _unknown_after_restart(job_id: str) -> str:
    return (
        "The server stopped while this job was being submitted, so whether Vertex received it is "
        "unknown. It is not resubmitted automatically (that could bill twice) and its estimate stays "
        f"committed. {_how_to_resolve(job_id)}"
    )


Row = dict[str, Any]


class JobStore:
    def __init__(self, context: StudioContext, productions: ProductionService) -> None:
        self._context = context
        self._productions = productions
        # This server process, as the holder of poll leases (replicas share the store).
        self.owner = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"

    def _lease_until(self, after: float | None = None) -> float:
        """A lease from now, or from a job's next poll (a backoff longer than the lease keeps the job here)."""
        return max(time.time(), after or 0.0) + self._context.settings.veo_poll_lease_s

    # -- reads

    def get(self, job_id: str) -> Row:
        row = self._context.state.row(_by_id((job_id or "").strip()))
        if row is None:
            raise _no_such_job(job_id)
        return dict(row)

    def of_production(self, pid: str, status: str | None) -> list[Row]:
        query = sa.select(video_jobs).where(video_jobs.c.production == pid)
        if status is not None:
            query = query.where(video_jobs.c.status == status)
        rows = self._context.state.rows(query.order_by(video_jobs.c.created_ts))
        return [dict(r) for r in rows]

    def live(self, key: str) -> Row | None:
        """The live job serving this request digest, if any."""
        row = self._context.state.row(
            sa.select(video_jobs.c.id, video_jobs.c.status).where(
                video_jobs.c.request_digest == key, video_jobs.c.status.in_(LIVE_STATUSES)
            )
        )
        return dict(row) if row is not None else None

    def claim_due(self) -> list[str]:
        """Lease the pending jobs due for a poll that no other live replica holds, in one transaction;
        only these are polled here (a lease a replica stopped renewing expires, and another takes it)."""
        c = video_jobs.c
        now = time.time()
        with self._context.state.transaction() as tx:
            ids = list(
                tx.scalars(
                    sa.select(c.id)
                    .where(
                        c.status == "pending",
                        c.next_poll_ts <= now,
                        sa.or_(c.poll_owner == self.owner, c.poll_lease_until < now),
                    )
                    .order_by(c.next_poll_ts, c.id)
                    .limit(500)
                    .with_for_update(skip_locked=True)
                )
            )
            if ids:
                tx.execute(
                    sa.update(video_jobs)
                    .where(c.id.in_(ids))
                    .values(poll_owner=self.owner, poll_lease_until=now + self._context.settings.veo_poll_lease_s)
                )
        return ids

    def next_poll_at(self) -> float | None:
        """When a pending job next becomes due here: its next poll, or, held by another replica, its
        lease's expiry if that is later."""
        c = video_jobs.c
        ready = sa.case(
            (sa.or_(c.poll_owner == self.owner, c.poll_lease_until <= c.next_poll_ts), c.next_poll_ts),
            else_=c.poll_lease_until,
        )
        with self._context.state.transaction(read_only=True) as tx:
            at: float | None = tx.scalar(
                sa.select(sa.func.min(ready)).where(c.status == "pending", ready > time.time())
            )
        return at

    # -- recording and submitting

    def record(self, request: VideoRequest, key: str, job_id: str, retake: bool) -> tuple[Row, bool]:
        """The live job for this request (created=False), or a new `submitting` job with its estimate
        committed, in one transaction."""
        productions = self._productions
        c = video_jobs.c
        with self._context.state.transaction() as tx:
            parent_asset = tx.scalar(
                sa.select(c.asset)
                .where(
                    c.production == request.production,
                    c.shot == request.shot,
                    c.status == "done",
                    c.asset.is_not(None),
                )
                .order_by(c.finished_at.desc(), c.id)
                .limit(1)
            )
            # A re-take is keyed on the video it replaces: repeating the same retake call (a client retry)
            # returns the same re-take until that one is done; after it, retake=true makes the next take.
            if retake:
                key = digest({"request": key, "retake_of": parent_asset})
            live = tx.row(sa.select(video_jobs).where(c.request_digest == key, c.status.in_(LIVE_STATUSES)))
            if live is not None:
                return dict(live), False
            productions.commit_spend(request.production, job_id, request.estimate.estimate_usd, tx=tx)
            now = time.time()
            grounding = {
                "brief_version": request.grounded.brief_version,
                "prompt_sha256": request.grounded.sha256,
                "style_chunks": request.grounded.style_chunks,
                "ledger_entities": request.grounded.ledger_entities,
                "injections": [
                    {"kind": i.kind, "ref": i.ref, "sources": i.sources} for i in request.grounded.injections
                ],
                "price_as_of": request.estimate.price_as_of,
                "stand_in": self._context.genai.standin,
            }
            preflight = {"errors": request.preflight_errors, "overridden": request.preflight_overridden}
            tx.execute(
                sa.insert(video_jobs).values(
                    id=job_id,
                    production=request.production,
                    shot=request.shot,
                    request_digest=key,
                    status="submitting",
                    model=request.settings.model,
                    prompt=request.grounded.prompt,
                    negative_prompt=request.negative_prompt,
                    settings=request.settings.model_dump_json(),
                    grounding=json.dumps(grounding),
                    estimate_usd=request.estimate.estimate_usd,
                    price_source=price_label(request.estimate),
                    preflight=json.dumps(preflight),
                    parent_asset=parent_asset,
                    created_at=iso_of(now),
                    created_ts=now,
                    deadline_ts=now + self._context.settings.veo_job_deadline_s,
                    poll_owner=self.owner,  # the submitter holds the job while it submits
                    poll_lease_until=now + self._context.settings.veo_poll_lease_s,
                )
            )
            productions.set_shot_status(request.production, request.shot, "generating", tx=tx)
            productions.record_event(
                request.production,
                "video_generate",
                {"shot": request.shot, "settings": request.settings.model_dump(), "retake": retake},
                detail={
                    "job": job_id,
                    "estimate_usd": request.estimate.estimate_usd,
                    "model": request.settings.model,
                    "preflight_overridden": preflight["overridden"],
                    "preflight_errors": request.preflight_errors,
                },
                tx=tx,
            )
            row = _current(tx, job_id)
        crash_point("video_job_recorded")
        return row, True

    def submitted(self, job_id: str, operation: str, next_poll_ts: float) -> Row:
        c = video_jobs.c
        with self._context.state.transaction() as tx:
            # A job cancelled while submitting keeps its status but learns its operation name.
            tx.execute(
                sa.update(video_jobs)
                .where(c.id == job_id)
                .values(
                    operation=operation,
                    submitted_at=now_iso(),
                    next_poll_ts=next_poll_ts,
                    status=sa.case((c.status == "submitting", "pending"), else_=c.status),
                    poll_owner=self.owner,  # the submitter polls it first
                    poll_lease_until=self._lease_until(after=next_poll_ts),
                )
            )
            return _current(tx, job_id)

    def hold(self, job_id: str) -> None:
        """Renew the lease of a job this process is still submitting (a slow submit keeps its job)."""
        c = video_jobs.c
        with self._context.state.transaction() as tx:
            tx.execute(
                sa.update(video_jobs)
                .where(c.id == job_id, c.status == "submitting", c.poll_owner == self.owner)
                .values(poll_lease_until=self._lease_until())
            )

    def submit_failed(self, job_id: str, error: GenerationError) -> Row:
        """A submit that raised: `unknown_submission` when it may have been processed (its answer was
        lost), else `failed` with the estimate released (it was refused, or never sent)."""
        if may_have_been_processed(error):
            message = (
                f"The submit was sent once but its answer was lost ({error}), so Vertex may have created (and "
                "may bill) this video. It is never resubmitted automatically, so it cannot be billed twice; its "
                f"estimate stays committed. {_how_to_resolve(job_id)}"
            )
            status = "unknown_submission"
        elif error.kind == "connection_error":
            message = (
                f"Nothing was sent, so nothing was created or billed ({error}); the estimate was released. "
                "Call video_generate again to retry."
            )
            status = "failed"
        else:
            message = f"The submit was refused, so nothing was created ({error}); the estimate was released."
            status = "failed"
        with self._context.state.transaction() as tx:
            row = _current(tx, job_id)
            if row["status"] == "submitting":
                self._finish(tx, row, status, error=message, error_kind=error.kind)
            return _current(tx, job_id)

    def recover(self) -> int:
        """Jobs left `submitting` by an earlier process (or a replica that died): their submit may or may
        not have reached Vertex. A live submitter renews its lease, so only expired ones are taken (a
        job from before leases has none: owner '' and lease 0)."""
        c = video_jobs.c
        with self._context.state.transaction() as tx:
            rows = tx.rows(
                sa.select(video_jobs)
                .where(
                    c.status == "submitting",
                    c.poll_owner != self.owner,
                    c.poll_lease_until < time.time(),
                )
                .order_by(c.id)
                .with_for_update(skip_locked=True)
            )
            for row in rows:
                self._finish(
                    tx,
                    dict(row),
                    "unknown_submission",
                    error_kind="unknown_submission",
                    error=_unknown_after_restart(row["id"]),
                )
        return len(rows)

    # -- polling

    # A poll's result is written only while this process holds the job's lease, and renews it: a
    # replica that lost the lease (it stalled, another took the job over) cannot overwrite the progress.

    def reschedule(self, job_id: str, error: str | None, delay_after: Callable[[int], float]) -> None:
        """Count a poll and schedule the next one `delay_after(polls so far)` seconds from now."""
        c = video_jobs.c
        held = (c.id == job_id, c.status == "pending", c.poll_owner == self.owner)
        with self._context.state.transaction() as tx:
            polls = tx.scalar(sa.select(c.polls).where(*held))
            if polls is None:
                return
            next_poll_ts = time.time() + delay_after(polls + 1)
            tx.execute(
                sa.update(video_jobs)
                .where(*held)
                .values(
                    polls=c.polls + 1,
                    next_poll_ts=next_poll_ts,
                    error=error,
                    poll_lease_until=self._lease_until(after=next_poll_ts),
                )
            )

    def fail(self, job_id: str, kind: str, message: str, *, polled: bool = False) -> None:
        c = video_jobs.c
        with self._context.state.transaction() as tx:
            current = _current(tx, job_id)
            if current["status"] != "pending" or current["poll_owner"] != self.owner:
                return
            if polled:
                tx.execute(sa.update(video_jobs).where(c.id == job_id).values(polls=c.polls + 1))
            self._finish(tx, current, "failed", error=message, error_kind=kind)

    def complete(self, row: Row, data: bytes | None, mime_type: str, uri: str | None) -> None:
        """Save the video (content-addressed, so a repeat after a crash finds the same asset) and mark the
        job done with its spend settled, in one transaction."""
        asset_id: str | None = None
        if data:
            asset = self._productions.save_asset(
                row["production"], row["shot"], "video", mime_type, data, _provenance(row, uri), row["parent_asset"]
            )
            asset_id = asset.id
        crash_point("video_asset_saved")
        with self._context.state.transaction() as tx:
            current = _current(tx, row["id"])
            if current["status"] != "pending" or current["poll_owner"] != self.owner:
                return
            self._finish(tx, current, "done", asset=asset_id, output_uri=uri, actual_usd=current["estimate_usd"])

    # -- cancelling

    def cancel(self, job_id: str) -> tuple[Row, bool]:
        """(the job, whether this call cancelled it); a job already final is returned as it is."""
        with self._context.state.transaction() as tx:
            found = tx.row(_by_id((job_id or "").strip()))
            if found is None:
                raise _no_such_job(job_id)
            row = dict(found)
            if row["status"] in TERMINAL_STATUSES:
                return row, False
            self._finish(tx, row, "cancelled", error="cancelled by video_cancel", error_kind="cancelled")
            return _current(tx, row["id"]), True

    # -- the one way a job leaves submitting/pending

    def _finish(
        self,
        tx: Tx,
        row: Row,
        status: str,
        *,
        error: str | None = None,
        error_kind: str | None = None,
        asset: str | None = None,
        output_uri: str | None = None,
        actual_usd: float | None = None,
    ) -> None:
        """Move a job to a final (or unknown_submission) state with its spend, in the caller's transaction."""
        productions = self._productions
        finished = now_iso() if status in TERMINAL_STATUSES else None
        c = video_jobs.c
        tx.execute(
            sa.update(video_jobs)
            .where(c.id == row["id"])
            .values(
                status=status,
                error=error,
                error_kind=error_kind,
                asset=sa.func.coalesce(asset, c.asset),
                output_uri=sa.func.coalesce(output_uri, c.output_uri),
                actual_usd=actual_usd,
                finished_at=finished,
            )
        )
        if status == "done":
            productions.settle_spend(row["id"], actual_usd, tx=tx)
            productions.set_shot_status(row["production"], row["shot"], "generated", tx=tx)
        elif status in ("failed", "cancelled"):
            productions.release_spend(row["id"], tx=tx)
            current = productions.shot(row["production"], row["shot"], tx=tx)
            if current.status == "generating" and not _other_live(tx, row):
                productions.set_shot_status(row["production"], row["shot"], "planned", tx=tx)
        detail = {
            "job": row["id"],
            "shot": row["shot"],
            "status": status,
            "error": error,
            "asset": asset,
            "actual_usd": actual_usd if status == "done" else None,
            "duration_s": json.loads(row["settings"]).get("duration_s") if status == "done" else None,
        }
        productions.record_event(
            row["production"],
            "video_job",
            {"job": row["id"]},
            outcome=status,
            detail={k: v for k, v in detail.items() if v is not None},
            tx=tx,
        )


def _no_such_job(job_id: str) -> NotFound:
    return NotFound(
        f"No video job {job_id!r}. Job ids look like 'vj_' + 16 hex digits and come from video_generate; "
        "video_jobs(production) lists a production's jobs."
    )


def _by_id(job_id: str) -> sa.Select[Any]:
    return sa.select(video_jobs).where(video_jobs.c.id == job_id)


def _current(tx: Tx, job_id: str) -> Row:
    row = tx.row(_by_id(job_id))
    assert row is not None, job_id
    return dict(row)


def _other_live(tx: Tx, row: Row) -> bool:
    c = video_jobs.c
    found = tx.scalar(
        sa.select(sa.literal(1))
        .where(
            c.production == row["production"],
            c.shot == row["shot"],
            c.id != row["id"],
            c.status.in_(("submitting", "pending")),
        )
        .limit(1)
    )
    return found is not None


def _provenance(row: Row, uri: str | None) -> dict[str, Any]:
    settings = json.loads(row["settings"])
    grounding = json.loads(row["grounding"])
    return {
        "job": row["id"],
        "production": row["production"],
        "shot": row["shot"],
        "model": row["model"],
        "backend": "standin" if grounding.get("stand_in") else "vertex",
        "request": {"prompt": row["prompt"], "negative_prompt": row["negative_prompt"], **settings},
        "brief_version": grounding["brief_version"],
        "prompt_sha256": grounding.get("prompt_sha256"),
        "style_chunks": grounding.get("style_chunks", []),
        "ledger_entities": grounding.get("ledger_entities", []),
        "injections": grounding.get("injections", []),
        "operation": row["operation"],
        "output_uri": uri,
        "timings": {
            "created_at": row["created_at"],
            "submitted_at": row["submitted_at"],
            "finished_at": now_iso(),
            "polls": row["polls"] + 1,
        },
        "cost": {
            "estimate_usd": row["estimate_usd"],
            "actual_usd": row["estimate_usd"],
            "actual_basis": "Veo bills per generated second and reports no cost: actual = estimate",
            "price_source": row["price_source"],
        },
        "parent": row["parent_asset"],
        "preflight": json.loads(row["preflight"]),
    }
