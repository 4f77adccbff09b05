"""The Veo jobs' table and every transition of a job, each in one transaction with its spend, shot
status and event (synchronous: call from a worker thread).

    submitting -> pending -> done | failed        (a poll's outcome)
    submitting -> failed | unknown_submission     (a refused submit; an answer that may have been lost)
    submitting | pending -> cancelled             (video_cancel)
    submitting -> unknown_submission              (found at start-up: the process died mid-submit)

A partial unique index keeps at most one live job per request digest, so the same request twice
is one job. `pid` arguments are production ids already resolved.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from core import Migration, NotFound, StudioContext, Tx, crash_point, iso_of, now_iso
from core.genai import GenerationError, may_have_been_processed
from tools.generation.models import TERMINAL_STATUSES
from tools.generation.video.request import VideoRequest, price_label
from tools.production import ProductionService, digest

LIVE_STATUSES = ("submitting", "pending", "done", "unknown_submission")


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


MIGRATIONS = [
    Migration(
        id="generation-001-video-jobs",
        sql="""
CREATE TABLE video_jobs (
    id TEXT PRIMARY KEY,
    production TEXT NOT NULL REFERENCES productions(id),
    shot TEXT NOT NULL,
    request_digest TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN
        ('submitting', 'pending', 'done', 'failed', 'cancelled', 'unknown_submission')),
    model TEXT NOT NULL,
    prompt TEXT NOT NULL,
    negative_prompt TEXT NOT NULL,
    settings TEXT NOT NULL,
    grounding TEXT NOT NULL,
    estimate_usd REAL NOT NULL,
    actual_usd REAL,
    price_source TEXT NOT NULL,
    preflight TEXT NOT NULL,
    parent_asset TEXT,
    operation TEXT,
    asset TEXT,
    output_uri TEXT,
    error TEXT,
    error_kind TEXT,
    polls INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    created_ts REAL NOT NULL,
    submitted_at TEXT,
    finished_at TEXT,
    deadline_ts REAL NOT NULL,
    next_poll_ts REAL NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX video_jobs_one_live_per_request ON video_jobs (request_digest)
    WHERE status IN ('submitting', 'pending', 'done', 'unknown_submission');
CREATE INDEX video_jobs_by_production ON video_jobs (production, created_ts);
CREATE INDEX video_jobs_due ON video_jobs (status, next_poll_ts);
""",
    )
]

Row = dict[str, Any]


class JobStore:
    def __init__(self, context: StudioContext, productions: ProductionService) -> None:
        self._context = context
        self._productions = productions

    # -- reads

    def get(self, job_id: str) -> Row:
        key = (job_id or "").strip()
        row = self._context.state.query_one("SELECT * FROM video_jobs WHERE id = ?", (key,))
        if row is None:
            raise NotFound(
                f"No video job {job_id!r}. Job ids look like 'vj_' + 16 hex digits and come from video_generate; "
                "video_jobs(production) lists a production's jobs."
            )
        return dict(row)

    def of_production(self, pid: str, status: str | None) -> list[Row]:
        if status is None:
            rows = self._context.state.query(
                "SELECT * FROM video_jobs WHERE production = ? ORDER BY created_ts", (pid,)
            )
        else:
            rows = self._context.state.query(
                "SELECT * FROM video_jobs WHERE production = ? AND status = ? ORDER BY created_ts", (pid, status)
            )
        return [dict(r) for r in rows]

    def live(self, key: str) -> Row | None:
        """The live job serving this request digest, if any."""
        row = self._context.state.query_one(
            f"SELECT id, status FROM video_jobs WHERE request_digest = ? AND status IN {LIVE_STATUSES}", (key,)
        )
        return dict(row) if row is not None else None

    def due(self) -> list[str]:
        rows = self._context.state.query(
            "SELECT id FROM video_jobs WHERE status = 'pending' AND next_poll_ts <= ? ORDER BY next_poll_ts LIMIT 500",
            (time.time(),),
        )
        return [r["id"] for r in rows]

    def next_poll_at(self) -> float | None:
        row = self._context.state.query_one(
            "SELECT MIN(next_poll_ts) AS at FROM video_jobs WHERE status = 'pending' AND next_poll_ts > ?",
            (time.time(),),
        )
        return row["at"] if row is not None else None

    # -- recording and submitting

    def record(self, request: VideoRequest, key: str, job_id: str, retake: bool) -> tuple[Row, bool]:
        """The live job for this request (created=False), or a new `submitting` job with its estimate
        committed, in one transaction."""
        productions = self._productions
        with self._context.state.transaction() as tx:
            parent = tx.execute(
                "SELECT asset FROM video_jobs WHERE production = ? AND shot = ? AND status = 'done' "
                "AND asset IS NOT NULL ORDER BY finished_at DESC LIMIT 1",
                (request.production, request.shot),
            ).fetchone()
            parent_asset = parent["asset"] if parent else None
            # A re-take is keyed on the video it replaces: repeating the same retake call (a client retry)
            # returns the same re-take until that one is done; after it, retake=true makes the next take.
            if retake:
                key = digest({"request": key, "retake_of": parent_asset})
            live = tx.execute(
                f"SELECT * FROM video_jobs WHERE request_digest = ? AND status IN {LIVE_STATUSES}", (key,)
            ).fetchone()
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
                "INSERT INTO video_jobs (id, production, shot, request_digest, status, model, prompt, negative_prompt, "
                "settings, grounding, estimate_usd, price_source, preflight, parent_asset, created_at, created_ts, "
                "deadline_ts) VALUES (?, ?, ?, ?, 'submitting', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    job_id,
                    request.production,
                    request.shot,
                    key,
                    request.settings.model,
                    request.grounded.prompt,
                    request.negative_prompt,
                    request.settings.model_dump_json(),
                    json.dumps(grounding),
                    request.estimate.estimate_usd,
                    price_label(request.estimate),
                    json.dumps(preflight),
                    parent_asset,
                    iso_of(now),
                    now,
                    now + self._context.settings.veo_job_deadline_s,
                ),
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
            row = tx.execute("SELECT * FROM video_jobs WHERE id = ?", (job_id,)).fetchone()
        crash_point("video_job_recorded")
        return dict(row), True

    def submitted(self, job_id: str, operation: str, next_poll_ts: float) -> Row:
        with self._context.state.transaction() as tx:
            # A job cancelled while submitting keeps its status but learns its operation name.
            tx.execute(
                "UPDATE video_jobs SET operation = ?, submitted_at = ?, next_poll_ts = ?, "
                "status = CASE status WHEN 'submitting' THEN 'pending' ELSE status END WHERE id = ?",
                (operation, now_iso(), next_poll_ts, job_id),
            )
            return dict(tx.execute("SELECT * FROM video_jobs WHERE id = ?", (job_id,)).fetchone())

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
            row = tx.execute("SELECT * FROM video_jobs WHERE id = ?", (job_id,)).fetchone()
            if row["status"] == "submitting":
                self._finish(tx, dict(row), status, error=message, error_kind=error.kind)
            return dict(tx.execute("SELECT * FROM video_jobs WHERE id = ?", (job_id,)).fetchone())

    def recover(self, started_ts: float) -> int:
        """Jobs left `submitting` by an earlier process: their submit may or may not have reached Vertex."""
        with self._context.state.transaction() as tx:
            rows = tx.execute(
                "SELECT * FROM video_jobs WHERE status = 'submitting' AND created_ts < ?", (started_ts,)
            ).fetchall()
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

    def reschedule(self, job_id: str, error: str | None, delay_after: Callable[[int], float]) -> None:
        """Count a poll and schedule the next one `delay_after(polls so far)` seconds from now."""
        with self._context.state.transaction() as tx:
            row = tx.execute("SELECT polls FROM video_jobs WHERE id = ? AND status = 'pending'", (job_id,)).fetchone()
            if row is None:
                return
            tx.execute(
                "UPDATE video_jobs SET polls = polls + 1, next_poll_ts = ?, error = ? WHERE id = ?",
                (time.time() + delay_after(row["polls"] + 1), error, job_id),
            )

    def fail(self, job_id: str, kind: str, message: str, *, polled: bool = False) -> None:
        with self._context.state.transaction() as tx:
            if polled:
                tx.execute("UPDATE video_jobs SET polls = polls + 1 WHERE id = ?", (job_id,))
            current = tx.execute("SELECT * FROM video_jobs WHERE id = ?", (job_id,)).fetchone()
            if current["status"] == "pending":
                self._finish(tx, dict(current), "failed", error=message, error_kind=kind)

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
            current = dict(tx.execute("SELECT * FROM video_jobs WHERE id = ?", (row["id"],)).fetchone())
            if current["status"] != "pending":
                return
            self._finish(tx, current, "done", asset=asset_id, output_uri=uri, actual_usd=current["estimate_usd"])

    # -- cancelling

    def cancel(self, job_id: str) -> tuple[Row, bool]:
        """(the job, whether this call cancelled it); a job already final is returned as it is."""
        with self._context.state.transaction() as tx:
            row = tx.execute("SELECT * FROM video_jobs WHERE id = ?", ((job_id or "").strip(),)).fetchone()
            if row is None:
                self.get(job_id)  # raises NotFound with the remedy
            if row["status"] in TERMINAL_STATUSES:
                return dict(row), False
            self._finish(tx, dict(row), "cancelled", error="cancelled by video_cancel", error_kind="cancelled")
            return dict(tx.execute("SELECT * FROM video_jobs WHERE id = ?", (row["id"],)).fetchone()), True

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
        tx.execute(
            "UPDATE video_jobs SET status = ?, error = ?, error_kind = ?, asset = COALESCE(?, asset), "
            "output_uri = COALESCE(?, output_uri), actual_usd = ?, finished_at = ? WHERE id = ?",
            (status, error, error_kind, asset, output_uri, actual_usd, finished, row["id"]),
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


def _other_live(tx: Tx, row: Row) -> bool:
    return (
        tx.execute(
            "SELECT 1 FROM video_jobs WHERE production = ? AND shot = ? AND id != ? AND status IN "
            "('submitting', 'pending')",
            (row["production"], row["shot"], row["id"]),
        ).fetchone()
        is not None
    )


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
