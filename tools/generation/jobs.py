"""Veo video jobs: durable in SQLite, submitted at most once, advanced by one background poller.

Order of a `video_generate` call (nothing paid happens before step 6):
 1. resolve the production and shot (a shot of another production is not found), check Vertex
    credentials, validate the request against the model's limits (veo.py) and the reference assets;
 2. build the grounded prompt; 3. run the continuity preflight (refuse on errors unless overridden,
    and record the override); 4. estimate the cost;
 5. in ONE transaction: return the live job for the same request if there is one (same production,
    shot, model, prompt, negative prompt, settings and seed -> same request digest; a partial unique
    index keeps at most one live job per digest), else commit the estimate against the budget
    (refusing with the figures) and insert the job as `submitting`;
 6. submit once (`submit_http_options`: only a 429, which creates nothing, is retried), shielded from
    cancellation so a client that gives up cannot cut the submit off from its bookkeeping;
 7. record the operation name (`pending`), or the outcome of a failed submit.

Crash safety — the rule: never submit a job automatically a second time.
A job is written before its submit, so a crash can lose no paid job; the one ambiguous window is a
crash (or an answer lost to a 5xx/timeout) between sending the submit and recording the operation name.
Vertex cannot list Veo operations nor deduplicate a submit, so that job might exist remotely or not.
Such a job becomes `unknown_submission`: its estimate stays committed (it may be billed), it is never
resubmitted by the server, and the same request returns it, saying so. The caller decides: a re-take
(`retake=true`, knowingly risking a second charge) or `video_cancel` (releases the estimate). Each
submit carries the label `studio-job=<job id>`, so the billing export can settle the question.
Resubmitting automatically would make a crash bill twice; marking it failed would hide a charge.
Jobs that reached `pending` simply resume polling after a restart.

The poller: one task for the whole server (in `studio.background`), anyio only; SQLite runs in worker
threads; each job is polled on its own schedule (exponential backoff with jitter, capped), at most
`veo_poll_concurrency` at once, so one slow poll delays no other job and no tool call. A job past its
deadline fails with 'deadline exceeded'. A finished operation with an error, or with every video
filtered by Responsible-AI, fails the job with the reason and releases its estimate; a video is saved
as an asset with full provenance and its estimate settled as spent, in one pass that is safe to repeat.

Single writer: the poller assumes one server process per data directory (SQLite). Several replicas
would need a lease per job (a PostgreSQL store): see the README.
"""

from __future__ import annotations

import json
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import anyio
from pydantic import BaseModel

from server.db import Migration
from server.errors import NotFound, StudioError
from server.faults import crash_point
from tools.generation import pricing, veo
from tools.generation.client import GenerationError, MissingCredentials, map_operation_error
from tools.generation.models import TERMINAL_STATUSES, GroundedPrompt, VideoJob, VideoJobList
from tools.production import digest

if TYPE_CHECKING:
    from server.app import Studio
    from server.db import _Tx as Tx
    from tools.production.models import Asset

log = logging.getLogger(__name__)

LIVE_STATUSES = ("submitting", "pending", "done", "unknown_submission")
# A submit that failed this way may have created the operation anyway: its outcome is unknown.
AMBIGUOUS_SUBMIT_ERRORS = {"server_error", "timeout", "connection_error", "unknown", "malformed_response"}
MAX_WAIT_S = 600.0

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


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class _Request(BaseModel):
    """Everything decided before the job is recorded."""

    production: str
    shot: str
    settings: veo.VideoSettings
    grounded: GroundedPrompt
    negative_prompt: str
    estimate: pricing.CostEstimate
    preflight_errors: list[str]
    override_preflight: bool


class JobService:
    def __init__(self, studio: Studio) -> None:
        self._studio = studio
        self.settings = studio.settings
        self._started_ts = time.time()
        self._inflight: set[str] = set()
        self._wake: anyio.Event | None = None
        self._changed: dict[str, anyio.Event] = {}

    # ------------------------------------------------------------------------------------------
    # video_generate

    async def generate(
        self, production: str, shot: str, model: str | None = None, duration_s: float | None = None,
        aspect_ratio: str = "16:9", resolution: str = "720p", seed: int | None = None,
        negative_prompt: str | None = None, reference_assets: list[str] | None = None, audio: bool = True,
        dry_run: bool = False, retake: bool = False, override_preflight: bool = False,
        first_frame_asset: str | None = None,
    ) -> VideoJob:
        request = await self._prepare(
            production, shot, model, duration_s, aspect_ratio, resolution, seed, negative_prompt,
            reference_assets or [], audio, override_preflight, first_frame_asset, dry_run,
        )
        key = self._request_digest(request)
        if dry_run:
            return await anyio.to_thread.run_sync(lambda: self._dry_run(request, key))
        job_id = "vj_" + uuid.uuid4().hex[:16]
        row, created = await anyio.to_thread.run_sync(lambda: self._record(request, key, job_id, retake))
        if not created:
            return await anyio.to_thread.run_sync(lambda: self._view(row, reused=True))
        with anyio.CancelScope(shield=True):  # a client that gives up must not orphan the submit
            row = await self._submit(row, request)
        self._notify(row["id"])
        return await anyio.to_thread.run_sync(self._view, row)

    async def _prepare(
        self, production: str, shot: str, model: str | None, duration_s: float | None, aspect_ratio: str,
        resolution: str, seed: int | None, negative_prompt: str | None, reference_assets: list[str], audio: bool,
        override_preflight: bool, first_frame_asset: str | None, dry_run: bool,
    ) -> _Request:
        service = self._studio.production
        found = await anyio.to_thread.run_sync(lambda: service.shot(production, shot))
        if not dry_run and not self._studio.genai.has_vertex():
            raise StudioError(str(MissingCredentials("vertex")))
        settings = veo.validate(
            model, duration_s, aspect_ratio, resolution, audio, seed, reference_assets, first_frame_asset,
            found.duration_s,
        )
        for asset_id in [*settings.reference_assets, *filter(None, [settings.first_frame_asset])]:
            await anyio.to_thread.run_sync(self._image_asset, asset_id)
        grounded = await self._build_prompt(found.production, found.ref)
        negative = grounded.negative_prompt
        if negative_prompt and negative_prompt.strip():
            negative = f"{negative}, {negative_prompt.strip()}" if negative else negative_prompt.strip()
        errors = await self._preflight(found.production, found.ref, grounded.prompt)
        if errors and not override_preflight:
            listed = "; ".join(errors[:8])
            raise StudioError(
                f"The continuity preflight found {len(errors)} error(s) in the prompt for shot {found.ref}: {listed}. "
                "Fix the shot or the ledger (continuity_set) and try again, or pass override_preflight=true to "
                "generate anyway (the override is recorded on the job)."
            )
        estimate = pricing.estimate_video(settings.model, settings.duration_s, 1, settings.resolution, settings.audio)
        return _Request(
            production=found.production, shot=found.ref, settings=settings, grounded=grounded,
            negative_prompt=negative, estimate=estimate, preflight_errors=errors,
            override_preflight=override_preflight,
        )

    def _image_asset(self, asset_id: str) -> Asset:
        asset = self._studio.production.asset(asset_id)
        if asset.kind != "image":
            raise StudioError(
                f"Asset {asset.id} is a {asset.kind} ({asset.mime_type}), not an image: reference and first-frame "
                "assets must be images (PNG, JPEG or WebP)."
            )
        self._studio.production.asset_path(asset.id)  # the file must still be there
        return asset

    async def _build_prompt(self, production: str, shot: str) -> GroundedPrompt:
        from tools.generation.prompting import build_prompt

        return await build_prompt(self._studio, production, shot)

    async def _preflight(self, production: str, shot: str, prompt: str) -> list[str]:
        """The continuity errors of the exact prompt about to be paid for (empty when it is clean)."""
        from tools.continuity import check_prompt  # the continuity family imports this one's client

        check = await check_prompt(self._studio, production, shot, prompt)
        return [f.message for f in check.findings if f.severity == "error"]

    def _request_digest(self, request: _Request) -> str:
        return digest({
            "production": request.production, "shot": request.shot, "model": request.settings.model,
            "prompt": request.grounded.prompt, "negative_prompt": request.negative_prompt,
            "settings": request.settings.model_dump(),
        })

    def _dry_run(self, request: _Request, key: str) -> VideoJob:
        service = self._studio.production
        service.check_budget(request.production, request.estimate.estimate_usd)
        spend = service.spend(request.production)
        existing = self._studio.state.query_one(
            f"SELECT id, status FROM video_jobs WHERE request_digest = ? AND status IN {LIVE_STATUSES}", (key,)
        )
        note = (f" Job {existing['id']} ({existing['status']}) already serves this exact request: a real call "
                "returns it." if existing else "")
        remaining = "no budget set" if spend.remaining_usd is None else f"${spend.remaining_usd:.2f} remaining"
        creds = "" if self._studio.genai.has_vertex() else f" Note: {MissingCredentials('vertex')}"
        return self._from_request(
            request, None, "dry_run",
            message=f"Dry run: nothing recorded or submitted. Estimate ${request.estimate.estimate_usd:.2f} "
            f"({remaining} before it).{note}{creds}",
        )

    def _from_request(self, request: _Request, job_id: str | None, status: Any, message: str) -> VideoJob:
        return VideoJob(
            id=job_id, production=request.production, shot=request.shot, status=status,
            model=request.settings.model, prompt=request.grounded.prompt, negative_prompt=request.negative_prompt,
            settings=_public_settings(request.settings), brief_version=request.grounded.brief_version,
            estimate_usd=request.estimate.estimate_usd, price_source=_price_label(request.estimate), progress=0.0,
            preflight_errors=request.preflight_errors,
            preflight_overridden=bool(request.preflight_errors) and request.override_preflight, message=message,
        )

    # -- recording and submitting

    def _record(self, request: _Request, key: str, job_id: str, retake: bool) -> tuple[dict[str, Any], bool]:
        """The live job for this request (created=False), or a new `submitting` job with its estimate
        committed, in one transaction."""
        service = self._studio.production
        with self._studio.state.transaction() as tx:
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
            service.commit_spend(request.production, job_id, request.estimate.estimate_usd, tx=tx)
            now = time.time()
            grounding = {
                "brief_version": request.grounded.brief_version, "prompt_sha256": request.grounded.sha256,
                "style_chunks": request.grounded.style_chunks, "ledger_entities": request.grounded.ledger_entities,
                "injections": [{"kind": i.kind, "ref": i.ref, "sources": i.sources}
                               for i in request.grounded.injections],
                "price_as_of": request.estimate.price_as_of,
            }
            preflight = {"errors": request.preflight_errors,
                         "overridden": bool(request.preflight_errors) and request.override_preflight}
            tx.execute(
                "INSERT INTO video_jobs (id, production, shot, request_digest, status, model, prompt, negative_prompt, "
                "settings, grounding, estimate_usd, price_source, preflight, parent_asset, created_at, created_ts, "
                "deadline_ts) VALUES (?, ?, ?, ?, 'submitting', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (job_id, request.production, request.shot, key, request.settings.model,
                 request.grounded.prompt, request.negative_prompt, request.settings.model_dump_json(),
                 json.dumps(grounding), request.estimate.estimate_usd, _price_label(request.estimate),
                 json.dumps(preflight), parent_asset, _iso(now), now,
                 now + self.settings.veo_job_deadline_s),
            )
            service.set_shot_status(request.production, request.shot, "generating", tx=tx)
            service.record_event(
                request.production, "video_generate",
                {"shot": request.shot, "settings": request.settings.model_dump(), "retake": retake},
                detail={"job": job_id, "estimate_usd": request.estimate.estimate_usd, "model": request.settings.model,
                        "preflight_overridden": preflight["overridden"], "preflight_errors": request.preflight_errors},
                tx=tx,
            )
            row = tx.execute("SELECT * FROM video_jobs WHERE id = ?", (job_id,)).fetchone()
        crash_point("video_job_recorded")
        return dict(row), True

    async def _submit(self, row: dict[str, Any], request: _Request) -> dict[str, Any]:
        from google.genai import types

        clients = self._studio.genai
        s = request.settings
        limits = veo.limits(s.model)
        try:
            references = [
                types.VideoGenerationReferenceImage(image=await self._image(a, types), reference_type="ASSET")
                for a in s.reference_assets
            ]
            first_frame = await self._image(s.first_frame_asset, types) if s.first_frame_asset else None
            config = types.GenerateVideosConfig(
                http_options=clients.submit_http_options(), number_of_videos=1, duration_seconds=s.duration_s,
                aspect_ratio=s.aspect_ratio, resolution=s.resolution, seed=s.seed,
                negative_prompt=request.negative_prompt or None,
                generate_audio=s.audio if limits.audio else None, reference_images=references or None,
                labels={"studio-job": row["id"]},
            )
            source = types.GenerateVideosSource(prompt=request.grounded.prompt, image=first_frame)
            with anyio.fail_after(clients.settings.timeout_s * 2 + 30):
                operation = await clients.vertex().models.generate_videos(model=s.model, source=source, config=config)
            if not operation.name:
                raise GenerationError("malformed_response", "Vertex accepted the submit but named no operation.")
        except Exception as exc:
            error = clients.map_error(exc, backend="vertex", model=s.model)
            return await anyio.to_thread.run_sync(lambda: self._submit_failed(row["id"], error))
        crash_point("video_submitted")
        name = operation.name
        return await anyio.to_thread.run_sync(lambda: self._submitted(row["id"], name))

    async def _image(self, asset_id: str, types: Any) -> Any:
        asset = await anyio.to_thread.run_sync(lambda: self._image_asset(asset_id))
        data = await anyio.to_thread.run_sync(self._studio.production.asset_path(asset.id).read_bytes)
        return types.Image(image_bytes=data, mime_type=asset.mime_type)

    def _submitted(self, job_id: str, operation: str) -> dict[str, Any]:
        with self._studio.state.transaction() as tx:
            # A job cancelled while submitting keeps its status but learns its operation name.
            tx.execute(
                "UPDATE video_jobs SET operation = ?, submitted_at = ?, next_poll_ts = ?, "
                "status = CASE status WHEN 'submitting' THEN 'pending' ELSE status END WHERE id = ?",
                (operation, _now_iso(), time.time() + self._next_delay(0), job_id),
            )
            return dict(tx.execute("SELECT * FROM video_jobs WHERE id = ?", (job_id,)).fetchone())

    def _submit_failed(self, job_id: str, error: GenerationError) -> dict[str, Any]:
        if error.kind in AMBIGUOUS_SUBMIT_ERRORS:
            message = (
                f"The submit's outcome is unknown ({error}): Vertex may have created the job. It is not "
                "resubmitted automatically, so it cannot be billed twice; its estimate stays committed. "
                "Resubmit knowingly with retake=true, or release it with video_cancel."
            )
            status = "unknown_submission"
        else:
            message, status = f"The submit was refused: {error}", "failed"
        with self._studio.state.transaction() as tx:
            row = tx.execute("SELECT * FROM video_jobs WHERE id = ?", (job_id,)).fetchone()
            if row["status"] == "submitting":
                self._finish(tx, dict(row), status, error=message, error_kind=error.kind)
            return dict(tx.execute("SELECT * FROM video_jobs WHERE id = ?", (job_id,)).fetchone())

    def _finish(
        self, tx: Tx, row: dict[str, Any], status: str, *, error: str | None = None, error_kind: str | None = None,
        asset: str | None = None, output_uri: str | None = None, actual_usd: float | None = None,
    ) -> None:
        """Move a job to a final (or unknown_submission) state with its spend, in the caller's transaction."""
        service = self._studio.production
        finished = _now_iso() if status in TERMINAL_STATUSES else None
        tx.execute(
            "UPDATE video_jobs SET status = ?, error = ?, error_kind = ?, asset = COALESCE(?, asset), "
            "output_uri = COALESCE(?, output_uri), actual_usd = ?, finished_at = ? WHERE id = ?",
            (status, error, error_kind, asset, output_uri, actual_usd, finished, row["id"]),
        )
        if status == "done":
            service.settle_spend(row["id"], actual_usd, tx=tx)
            service.set_shot_status(row["production"], row["shot"], "generated", tx=tx)
        elif status in ("failed", "cancelled"):
            service.release_spend(row["id"], tx=tx)
            current = service.shot(row["production"], row["shot"], tx=tx)
            if current.status == "generating" and not self._other_live(tx, row):
                service.set_shot_status(row["production"], row["shot"], "planned", tx=tx)
        detail = {"job": row["id"], "status": status, "error": error, "asset": asset}
        service.record_event(row["production"], "video_job", {"job": row["id"]}, outcome=status,
                             detail={k: v for k, v in detail.items() if v is not None}, tx=tx)

    def _other_live(self, tx: Tx, row: dict[str, Any]) -> bool:
        return tx.execute(
            "SELECT 1 FROM video_jobs WHERE production = ? AND shot = ? AND id != ? AND status IN "
            "('submitting', 'pending')", (row["production"], row["shot"], row["id"]),
        ).fetchone() is not None

    # ------------------------------------------------------------------------------------------
    # video_job, video_jobs, video_cancel

    def get_row(self, job_id: str) -> dict[str, Any]:
        key = (job_id or "").strip()
        row = self._studio.state.query_one("SELECT * FROM video_jobs WHERE id = ?", (key,))
        if row is None:
            raise NotFound(
                f"No video job {job_id!r}. Job ids look like 'vj_' + 16 hex digits and come from video_generate; "
                "video_jobs(production) lists a production's jobs."
            )
        return dict(row)

    async def job(self, job_id: str) -> VideoJob:
        row = await anyio.to_thread.run_sync(lambda: self.get_row(job_id))
        return await anyio.to_thread.run_sync(lambda: self._view(row))

    async def wait(
        self, job_id: str, wait_s: float, report: Callable[[float, float, str], Awaitable[None]] | None = None
    ) -> VideoJob:
        """The job once it is final, or as it stands after `wait_s`; `report(progress, total, message)`
        is called about once a second with a progress that never goes down."""
        view = await self.job(job_id)
        deadline = anyio.current_time() + min(max(wait_s, 0.0), MAX_WAIT_S)
        best = 0.0
        while True:
            best = max(best, view.progress)
            if report is not None:
                await report(round(best * 100, 1), 100.0, f"{view.status}: {view.message}"[:200])
            remaining = deadline - anyio.current_time()
            if view.status in TERMINAL_STATUSES or view.status == "unknown_submission" or remaining <= 0:
                return view
            event = self._changed.setdefault(view.id or "", anyio.Event())
            with anyio.move_on_after(min(1.0, remaining)):
                await event.wait()
            view = await self.job(job_id)

    async def list_jobs(self, production: str, status: str | None = None) -> VideoJobList:
        valid = (*LIVE_STATUSES, "failed", "cancelled")
        if status is not None and status not in valid:
            raise StudioError(f"Unknown job status {status!r}: use one of {', '.join(valid)}, or omit it.")

        def load() -> VideoJobList:
            pid = self._studio.production.resolve(production)
            if status is None:
                rows = self._studio.state.query(
                    "SELECT * FROM video_jobs WHERE production = ? ORDER BY created_ts", (pid,))
            else:
                rows = self._studio.state.query(
                    "SELECT * FROM video_jobs WHERE production = ? AND status = ? ORDER BY created_ts", (pid, status))
            return VideoJobList(production=pid, status=status, jobs=[self._view(dict(r)) for r in rows])

        return await anyio.to_thread.run_sync(load)

    async def cancel(self, job_id: str) -> VideoJob:
        def run() -> VideoJob:
            with self._studio.state.transaction() as tx:
                row = tx.execute("SELECT * FROM video_jobs WHERE id = ?", ((job_id or "").strip(),)).fetchone()
                if row is None:
                    self.get_row(job_id)  # raises NotFound with the remedy
                row = dict(row)
                if row["status"] in TERMINAL_STATUSES:
                    return self._view(row, message=f"Job {row['id']} is already {row['status']}: nothing to cancel.")
                self._finish(tx, row, "cancelled", error="cancelled by video_cancel", error_kind="cancelled")
                row = dict(tx.execute("SELECT * FROM video_jobs WHERE id = ?", (row["id"],)).fetchone())
            remote = (
                " The Vertex operation was already submitted and keeps running: neither the Veo API nor google-genai "
                "offers a cancel for it, so Google may still bill it."
                if row["operation"] or row["error_kind"] == "cancelled" else ""
            )
            return self._view(
                row, message=f"Cancelled: polling stopped and the ${row['estimate_usd']:.2f} estimate was released "
                f"from committed spend.{remote}",
            )

        view = await anyio.to_thread.run_sync(run)
        self._notify(job_id)
        return view

    # -- views

    def _view(self, row: dict[str, Any], reused: bool = False, message: str | None = None) -> VideoJob:
        asset = self._studio.production.asset(row["asset"]) if row["asset"] else None
        settings = json.loads(row["settings"])
        preflight = json.loads(row["preflight"])
        grounding = json.loads(row["grounding"])
        return VideoJob(
            id=row["id"], production=row["production"], shot=row["shot"], status=row["status"], model=row["model"],
            prompt=row["prompt"], negative_prompt=row["negative_prompt"], settings=_public_settings(settings),
            brief_version=grounding["brief_version"], estimate_usd=row["estimate_usd"], actual_usd=row["actual_usd"],
            price_source=row["price_source"], progress=self._progress(row), operation=row["operation"],
            asset=asset, output_uri=row["output_uri"], parent_asset=row["parent_asset"], error=row["error"],
            error_kind=row["error_kind"], preflight_errors=preflight["errors"],
            preflight_overridden=preflight["overridden"], polls=row["polls"], created_at=row["created_at"],
            submitted_at=row["submitted_at"], finished_at=row["finished_at"], deadline_at=_iso(row["deadline_ts"]),
            reused=reused, message=message or _status_message(row, reused),
        )

    def _progress(self, row: dict[str, Any]) -> float:
        if row["status"] == "done":
            return 1.0
        if row["status"] != "pending":
            return 0.0
        elapsed = max(time.time() - row["created_ts"], 0.0)
        return round(min(0.95, 0.05 + 0.9 * elapsed / max(self.settings.veo_expected_s, 1.0)), 3)

    # ------------------------------------------------------------------------------------------
    # The poller

    async def run_poller(self) -> None:
        """The one background task that advances every pending job; runs until the server stops."""
        self._wake = anyio.Event()
        await anyio.to_thread.run_sync(self._recover)
        limiter = anyio.CapacityLimiter(max(self.settings.veo_poll_concurrency, 1))
        async with anyio.create_task_group() as tasks:
            while True:
                try:
                    due = await anyio.to_thread.run_sync(self._due)
                except Exception:
                    log.exception("Could not read pending video jobs; retrying")
                    due = []
                for job_id in due:
                    if job_id not in self._inflight:
                        self._inflight.add(job_id)
                        tasks.start_soon(self._advance_guarded, job_id, limiter)
                await self._sleep()

    def _recover(self) -> None:
        """Jobs left `submitting` by an earlier process: their submit may or may not have reached Vertex."""
        with self._studio.state.transaction() as tx:
            rows = tx.execute(
                "SELECT * FROM video_jobs WHERE status = 'submitting' AND created_ts < ?", (self._started_ts,)
            ).fetchall()
            for row in rows:
                self._finish(
                    tx, dict(row), "unknown_submission", error_kind="unknown_submission",
                    error="The server stopped while this job was being submitted, so whether Vertex received it is "
                    "unknown. It is not resubmitted automatically (that could bill twice) and its estimate stays "
                    "committed. Resubmit knowingly with retake=true, or release it with video_cancel.",
                )
        if rows:
            log.warning("%d video job(s) were mid-submit at the last stop: marked unknown_submission", len(rows))

    def _due(self) -> list[str]:
        rows = self._studio.state.query(
            "SELECT id FROM video_jobs WHERE status = 'pending' AND next_poll_ts <= ? ORDER BY next_poll_ts LIMIT 500",
            (time.time(),),
        )
        return [r["id"] for r in rows]

    async def _sleep(self) -> None:
        row = await anyio.to_thread.run_sync(
            lambda: self._studio.state.query_one(
                "SELECT MIN(next_poll_ts) AS at FROM video_jobs WHERE status = 'pending' AND next_poll_ts > ?",
                (time.time(),),
            )
        )
        at = row["at"] if row is not None else None
        wait = 5.0 if at is None else min(max(at - time.time(), 0.02), 5.0)
        assert self._wake is not None
        with anyio.move_on_after(wait):
            await self._wake.wait()
        self._wake = anyio.Event()

    def _notify(self, job_id: str | None) -> None:
        if self._wake is not None:
            self._wake.set()
        if job_id and job_id in self._changed:
            self._changed.pop(job_id).set()

    def _next_delay(self, polls: int) -> float:
        base = min(self.settings.veo_poll_max_s, self.settings.veo_poll_initial_s * (2 ** min(polls, 20)))
        return base * random.uniform(0.8, 1.2)

    async def _advance_guarded(self, job_id: str, limiter: anyio.CapacityLimiter) -> None:
        try:
            async with limiter:
                await self._advance(job_id)
        except Exception:
            log.exception("Advancing video job %s failed; it will be polled again", job_id)
            await anyio.to_thread.run_sync(lambda: self._reschedule(job_id, None))
        finally:
            self._inflight.discard(job_id)
            self._notify(job_id)

    async def _advance(self, job_id: str) -> None:
        from google.genai import types

        row = await anyio.to_thread.run_sync(lambda: self.get_row(job_id))
        if row["status"] != "pending":
            return
        clients = self._studio.genai
        try:
            with anyio.fail_after(clients.settings.timeout_s * 2 + 30):
                operation = await clients.vertex().operations.get(
                    types.GenerateVideosOperation.model_validate({"name": row["operation"]}))
        except Exception as exc:
            error = clients.map_error(exc, backend="vertex", model=row["model"])
            if error.kind == "model_not_found":
                await self._fail(row, "operation_not_found", f"Vertex no longer knows the operation: {error}")
                return
            if not await self._past_deadline(row):
                log.warning("Polling video job %s failed (%s); backing off", job_id, error)
                await anyio.to_thread.run_sync(lambda: self._reschedule(job_id, f"last poll failed: {error}"))
            return
        if not operation.done:
            # Checked only after a poll: an operation that finished just in time is collected, not failed.
            if not await self._past_deadline(row):
                await anyio.to_thread.run_sync(lambda: self._reschedule(job_id, None))
            return
        if operation.error:
            failure = map_operation_error(operation.error, secrets=clients.settings.secrets())
            await self._fail(row, failure.kind, str(failure))
            return
        response = operation.response
        videos = [g.video for g in (response.generated_videos if response else None) or [] if g.video]
        if not videos:
            count = response.rai_media_filtered_count if response else None
            reasons = "; ".join(response.rai_media_filtered_reasons or []) if response else ""
            await self._fail(
                row, "rai_filtered",
                f"Veo's safety filters withheld the video ({count or 'all'} filtered): {reasons or 'no reason given'}. "
                "Rephrase the shot or the prompt and generate again.",
            )
            return
        video = videos[0]
        await self._complete(row, video.video_bytes, video.mime_type or "video/mp4", video.uri)

    async def _past_deadline(self, row: dict[str, Any]) -> bool:
        """Fail the job if its deadline has passed; True when it did."""
        if time.time() <= row["deadline_ts"]:
            return False
        minutes = self.settings.veo_job_deadline_s / 60
        await self._fail(
            row, "deadline_exceeded",
            f"deadline exceeded: the operation was not done {minutes:g} min after the job was recorded "
            "(STUDIO_VEO_JOB_DEADLINE_S). Google may still bill it if it finishes.",
            polled=True,
        )
        return True

    def _reschedule(self, job_id: str, error: str | None) -> None:
        with self._studio.state.transaction() as tx:
            row = tx.execute("SELECT polls FROM video_jobs WHERE id = ? AND status = 'pending'", (job_id,)).fetchone()
            if row is None:
                return
            tx.execute(
                "UPDATE video_jobs SET polls = polls + 1, next_poll_ts = ?, error = ? WHERE id = ?",
                (time.time() + self._next_delay(row["polls"] + 1), error, job_id),
            )

    async def _fail(self, row: dict[str, Any], kind: str, message: str, *, polled: bool = False) -> None:
        def run() -> None:
            with self._studio.state.transaction() as tx:
                if polled:
                    tx.execute("UPDATE video_jobs SET polls = polls + 1 WHERE id = ?", (row["id"],))
                current = tx.execute("SELECT * FROM video_jobs WHERE id = ?", (row["id"],)).fetchone()
                if current["status"] == "pending":
                    self._finish(tx, dict(current), "failed", error=message, error_kind=kind)

        await anyio.to_thread.run_sync(run)

    async def _complete(self, row: dict[str, Any], data: bytes | None, mime_type: str, uri: str | None) -> None:
        """Save the video (content-addressed, so a repeat after a crash finds the same asset) and mark the
        job done with its spend settled, in one transaction."""

        def run() -> None:
            asset_id: str | None = None
            if data:
                asset = self._studio.production.save_asset(
                    row["production"], row["shot"], "video", mime_type, data, self._provenance(row, uri),
                    row["parent_asset"],
                )
                asset_id = asset.id
            crash_point("video_asset_saved")
            with self._studio.state.transaction() as tx:
                current = dict(tx.execute("SELECT * FROM video_jobs WHERE id = ?", (row["id"],)).fetchone())
                if current["status"] != "pending":
                    return
                self._finish(tx, current, "done", asset=asset_id, output_uri=uri, actual_usd=current["estimate_usd"])

        await anyio.to_thread.run_sync(run)

    def _provenance(self, row: dict[str, Any], uri: str | None) -> dict[str, Any]:
        settings = json.loads(row["settings"])
        grounding = json.loads(row["grounding"])
        return {
            "job": row["id"], "production": row["production"], "shot": row["shot"], "model": row["model"],
            "backend": "vertex",
            "request": {"prompt": row["prompt"], "negative_prompt": row["negative_prompt"], **settings},
            "brief_version": grounding["brief_version"], "prompt_sha256": grounding.get("prompt_sha256"),
            "style_chunks": grounding.get("style_chunks", []), "ledger_entities": grounding.get("ledger_entities", []),
            "injections": grounding.get("injections", []), "operation": row["operation"], "output_uri": uri,
            "timings": {"created_at": row["created_at"], "submitted_at": row["submitted_at"],
                        "finished_at": _now_iso(), "polls": row["polls"] + 1},
            "cost": {"estimate_usd": row["estimate_usd"], "actual_usd": row["estimate_usd"],
                     "actual_basis": "Veo bills per generated second and reports no cost: actual = estimate",
                     "price_source": row["price_source"]},
            "parent": row["parent_asset"], "preflight": json.loads(row["preflight"]),
        }


def _public_settings(settings: veo.VideoSettings | dict[str, Any]) -> dict[str, Any]:
    values = settings.model_dump() if isinstance(settings, BaseModel) else dict(settings)
    values.pop("model", None)
    return values


def _price_label(estimate: pricing.CostEstimate) -> str:
    overridden = " (overridden)" if estimate.price_overridden else ""
    return f"{estimate.price_source}, as of {estimate.price_as_of}{overridden}"


def _status_message(row: dict[str, Any], reused: bool) -> str:
    prefix = f"This exact request already has job {row['id']}: returned it, nothing submitted again. " if reused else ""
    status = row["status"]
    text = {
        "submitting": "Being submitted to Vertex.",
        "pending": "Submitted; Veo is generating. Call video_job(job, wait_s=...) to wait for it.",
        "done": f"Done: video asset {row['asset']}." if row["asset"] else f"Done: the video is at {row['output_uri']}.",
        "failed": f"Failed: {row['error']}",
        "cancelled": "Cancelled.",
        "unknown_submission": row["error"] or "The submit's outcome is unknown.",
    }.get(status, status)
    if status == "pending" and row["error"]:
        text += f" ({row['error']}; retrying)"
    return prefix + text
