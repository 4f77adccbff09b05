"""Veo video jobs: durable in the state store, submitted at most once, advanced by the poller.

Order of a `video_generate` call (nothing paid happens before step 6):
 1. read the production once (a shot of another production is not found), check Vertex credentials,
    validate the request against the model's limits (limits.py) and the reference assets;
 2. read the ledger once and build the grounded prompt (with the last review's notes on the shot);
 3. run the continuity preflight on that same production and ledger (refuse on errors unless
    overridden, and record the override); 3a. the consent guard: refuse (and log the refusal) when
    the request involves a performer whose consent does not cover it;
 4. estimate the cost;
 5. in ONE transaction: return the live job for the same request if there is one (same production,
    shot, model, prompt, negative prompt, settings and seed -> same request digest), else commit the
    estimate against the budget (refusing with the figures) and insert the job as `submitting`;
 5a. before that transaction: read the reference images, import google.genai and build the client and
    the labelled request, so the window between recording and sending holds nothing slow;
 6. submit once (one SDK attempt; only a 429, which creates nothing, is retried), shielded from
    cancellation so a client that gives up cannot cut the submit off from its bookkeeping;
 7. record the operation name (`pending`), or the outcome of a failed submit: `failed` (estimate
    released) when it was refused or never sent, `unknown_submission` when its answer was lost.

Crash safety — the rule: never submit a job automatically a second time.
A job is written before its submit, so a crash can lose no paid job; the one ambiguous window is a
crash, or an answer lost (a 5xx, a timeout, a connection closed or reset after the request was sent),
between sending the submit and recording the operation name. The SDK never resends it (one attempt).
Vertex cannot list Veo operations nor deduplicate a submit, so that job might exist remotely or not.
Such a job becomes `unknown_submission`: its estimate stays committed (it may be billed), it is never
resubmitted by the server, and the same request returns it, saying so. The caller decides: a re-take
(`retake=true`, knowingly risking a second charge) or `video_cancel` (releases the estimate). Each
submit carries the label `studio-job=<job id>`, so the billing export can settle the question.
Resubmitting automatically would make a crash bill twice; marking it failed would hide a charge.
Jobs that reached `pending` simply resume polling after a restart.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any

import anyio
from pydantic import BaseModel

from core import StudioError, crash_point, iso_of, pricing, shown
from core.context import StudioContext
from core.genai import GenerationError, MissingCredentials
from tools.consent import ConsentService
from tools.continuity import LedgerService, PromptChecker
from tools.generation.models import TERMINAL_STATUSES, VideoJob, VideoJobList
from tools.generation.prompting import PromptBuilder, without_review_notes
from tools.generation.video import limits, wire
from tools.generation.video.poller import Poller
from tools.generation.video.request import VideoRequest, price_label
from tools.generation.video.schema import LIVE_STATUSES
from tools.generation.video.store import JobStore, Row
from tools.production import Asset, Production, ProductionService, Spend, check_budget

MAX_WAIT_S = 600.0

log = logging.getLogger(__name__)


class VideoJobs:
    def __init__(
        self,
        context: StudioContext,
        productions: ProductionService,
        prompts: PromptBuilder,
        ledger: LedgerService,
        preflight: PromptChecker,
        consent: ConsentService,
    ) -> None:
        self._context = context
        self._productions = productions
        self._prompts = prompts
        self._ledger = ledger
        self._preflight = preflight
        self._consent = consent
        self.store = JobStore(context, productions)
        self.poller = Poller(context, self.store, productions)

    # -- video_generate

    async def generate(
        self,
        production: str,
        shot: str,
        model: str | None = None,
        duration_s: float | None = None,
        aspect_ratio: str = "16:9",
        resolution: str = "720p",
        seed: int | None = None,
        negative_prompt: str | None = None,
        reference_assets: list[str] | None = None,
        audio: bool = True,
        dry_run: bool = False,
        retake: bool = False,
        override_preflight: bool = False,
        first_frame_asset: str | None = None,
    ) -> VideoJob:
        prod = await anyio.to_thread.run_sync(self._productions.get, production)
        request = await self._prepare(
            prod,
            shot,
            model,
            duration_s,
            aspect_ratio,
            resolution,
            seed,
            negative_prompt,
            reference_assets or [],
            audio,
            override_preflight,
            first_frame_asset,
            dry_run,
        )
        key = request.digest()
        if dry_run:
            return await anyio.to_thread.run_sync(self._dry_run, request, key, prod.spend)
        job_id = "vj_" + uuid.uuid4().hex[:16]
        # Built before the job is recorded: between recording and sending there must be nothing slow.
        prepared = await self._prepare_submit(request, job_id)
        row, created = await anyio.to_thread.run_sync(self.store.record, request, key, job_id, retake)
        if not created:
            return await anyio.to_thread.run_sync(lambda: self._view(row, reused=True))
        with anyio.CancelScope(shield=True):  # a client that gives up must not orphan the submit
            row = await self._submit(row, prepared)
        self.poller.notify(row["id"])
        return await anyio.to_thread.run_sync(self._view, row)

    async def _prepare(
        self,
        prod: Production,
        shot_ref: str,
        model: str | None,
        duration_s: float | None,
        aspect_ratio: str,
        resolution: str,
        seed: int | None,
        negative_prompt: str | None,
        reference_assets: list[str],
        audio: bool,
        override_preflight: bool,
        first_frame_asset: str | None,
        dry_run: bool,
    ) -> VideoRequest:
        shot = prod.find_shot(shot_ref)
        if not dry_run and not self._context.genai.has_vertex():
            raise StudioError(str(MissingCredentials("vertex")))
        settings = limits.validate(
            model,
            duration_s,
            aspect_ratio,
            resolution,
            audio,
            seed,
            reference_assets,
            first_frame_asset,
            shot.duration_s,
        )
        images = [
            await anyio.to_thread.run_sync(self._image_asset, asset_id)
            for asset_id in [*settings.reference_assets, *filter(None, [settings.first_frame_asset])]
        ]
        ledger = await self._ledger.load(prod)
        grounded = await self._prompts.build(prod, shot, ledger)
        negative = grounded.negative_prompt
        if negative_prompt and negative_prompt.strip():
            negative = f"{negative}, {negative_prompt.strip()}" if negative else negative_prompt.strip()
        # The continuity errors of the exact prompt about to be paid for.
        check = await self._preflight.check(prod, ledger, shot, without_review_notes(grounded))
        errors = [f.message for f in check.findings if f.severity == "error"]
        if not dry_run:
            verdict = "overridden" if errors and override_preflight else "errors" if errors else "pass"
            await anyio.to_thread.run_sync(
                partial(
                    self._productions.record_event,
                    prod.id,
                    "preflight",
                    {"shot": shot.ref, "prompt_sha256": grounded.sha256},
                    verdict,
                    {"shot": shot.ref, "errors": len(errors)},
                )
            )
        if errors and not override_preflight:
            listed = "; ".join(errors[:8])
            raise StudioError(
                f"The continuity preflight found {len(errors)} error(s) in the prompt for shot {shot.ref}: {listed}. "
                "Fix the shot or the ledger (continuity_set) and try again, or pass override_preflight=true to "
                "generate anyway (the override is recorded on the job)."
            )
        # Dry runs too: a dry run says whether the real call would go through.
        await anyio.to_thread.run_sync(
            partial(
                self._consent.check,
                prod,
                shot,
                grounded.prompt,
                [image.sha256 for image in images],
                audio=settings.audio,
                tool="video_generate",
            )
        )
        estimate = pricing.estimate_video(settings.model, settings.duration_s, 1, settings.resolution, settings.audio)
        if self._context.genai.standin:
            estimate = pricing.stand_in(estimate)
        return VideoRequest(
            production=prod.id,
            shot=shot.ref,
            settings=settings,
            grounded=grounded,
            negative_prompt=negative,
            estimate=estimate,
            preflight_errors=errors,
            override_preflight=override_preflight,
        )

    def _image_asset(self, asset_id: str) -> Asset:
        asset = self._productions.asset(asset_id)
        if asset.kind != "image":
            raise StudioError(
                f"Asset {asset.id} is a {asset.kind} ({asset.mime_type}), not an image: reference and first-frame "
                "assets must be images (PNG, JPEG or WebP)."
            )
        self._productions.asset_path(asset.id)  # the file must still be there
        return asset

    def _dry_run(self, request: VideoRequest, key: str, spend: Spend) -> VideoJob:
        check_budget(request.production, spend, request.estimate.estimate_usd)
        existing = self.store.live(key)
        note = (
            f" Job {existing['id']} ({existing['status']}) already serves this exact request: a real call returns it."
            if existing
            else ""
        )
        remaining = "no budget set" if spend.remaining_usd is None else f"${spend.remaining_usd:.2f} remaining"
        creds = "" if self._context.genai.has_vertex() else f" Note: {MissingCredentials('vertex')}"
        grounding = "".join(f" Prompt warning: {w}" for w in request.grounded.warnings)
        return self._from_request(
            request,
            None,
            "dry_run",
            message=f"Dry run: nothing recorded or submitted. Estimate ${request.estimate.estimate_usd:.2f} "
            f"({remaining} before it).{note}{grounding}{creds}",
        )

    def _from_request(self, request: VideoRequest, job_id: str | None, status: Any, message: str) -> VideoJob:
        return VideoJob(
            id=job_id,
            production=request.production,
            shot=request.shot,
            stand_in=self._context.genai.standin,
            status=status,
            model=request.settings.model,
            prompt=request.grounded.prompt,
            negative_prompt=request.negative_prompt,
            settings=_public_settings(request.settings),
            brief_version=request.grounded.brief_version,
            estimate_usd=request.estimate.estimate_usd,
            price_source=price_label(request.estimate),
            progress=0.0,
            preflight_errors=request.preflight_errors,
            preflight_overridden=request.preflight_overridden,
            message=message,
        )

    async def _prepare_submit(self, request: VideoRequest, job_id: str) -> wire.PreparedSubmit:
        """The submit, ready to send: reference images read, google.genai imported, client and request
        built. A failure here is refused before anything is recorded or paid."""
        clients = self._context.genai
        s = request.settings
        references = [await self._image(a) for a in s.reference_assets]
        first_frame = await self._image(s.first_frame_asset) if s.first_frame_asset else None
        try:
            return await anyio.to_thread.run_sync(
                wire.prepare_submit, clients, request, job_id, references, first_frame
            )
        except GenerationError as error:
            raise StudioError(
                f"The Veo submit could not be prepared, so nothing was recorded or sent: {error}"
            ) from None

    async def _submit(self, row: Row, prepared: wire.PreparedSubmit) -> Row:
        failure: Exception | None = None
        async with anyio.create_task_group() as holding:
            holding.start_soon(self._hold, row["id"])
            try:
                operation = await wire.submit(self._context.genai, prepared)
            except Exception as exc:
                failure = exc
            holding.cancel_scope.cancel()
        if failure is not None:
            error = self._context.genai.map_error(failure, backend="vertex", model=prepared.model)
            return await anyio.to_thread.run_sync(self.store.submit_failed, row["id"], error)
        crash_point("video_submitted")
        next_poll = time.time() + self.poller.next_delay(0)
        return await anyio.to_thread.run_sync(self.store.submitted, row["id"], operation, next_poll)

    async def _hold(self, job_id: str) -> None:
        """Renew the job's lease while its submit runs, so no replica takes it for an interrupted one."""
        every = max(self._context.settings.veo_poll_lease_s / 3, 0.05)
        while True:
            await anyio.sleep(every)
            try:
                await anyio.to_thread.run_sync(self.store.hold, job_id)
            except Exception:
                log.exception("Could not renew the lease of video job %s while submitting", job_id)

    async def _image(self, asset_id: str) -> wire.Image:
        asset = await anyio.to_thread.run_sync(self._image_asset, asset_id)
        data = await anyio.to_thread.run_sync(self._productions.asset_path(asset.id).read_bytes)
        return wire.Image(data=data, mime_type=asset.mime_type)

    # -- video_job, video_jobs, video_cancel

    async def job(self, job_id: str) -> VideoJob:
        row = await anyio.to_thread.run_sync(self.store.get, job_id)
        return await anyio.to_thread.run_sync(self._view, row)

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
                await report(round(best * 100, 1), 100.0, self._progress_message(view))
            remaining = deadline - anyio.current_time()
            if view.status in TERMINAL_STATUSES or view.status == "unknown_submission" or remaining <= 0:
                return view
            event = self.poller.changed(view.id or "")
            with anyio.move_on_after(min(1.0, remaining)):
                await event.wait()
            view = await self.job(job_id)

    async def list_jobs(self, production: str, status: str | None = None) -> VideoJobList:
        valid = (*LIVE_STATUSES, "failed", "cancelled")
        if status is not None and status not in valid:
            raise StudioError(f"Unknown job status {shown(status)}: use one of {', '.join(valid)}, or omit it.")

        def load() -> VideoJobList:
            pid = self._productions.resolve(production)
            rows = self.store.of_production(pid, status)
            return VideoJobList(production=pid, status=status, jobs=[self._view(r) for r in rows])

        return await anyio.to_thread.run_sync(load)

    async def cancel(self, job_id: str) -> VideoJob:
        def run() -> VideoJob:
            row, cancelled = self.store.cancel(job_id)  # its own transaction; the view is read after it
            if not cancelled:
                return self._view(row, message=_already_final(row))
            remote = (
                " The Vertex operation was already submitted and keeps running: neither the Veo API nor google-genai "
                "offers a cancel for it, so Google may still bill it."
                if row["operation"]
                else f" If its submit did reach Vertex (label studio-job={row['id']}), the video may still be made "
                "and Google may still bill it."
            )
            return self._view(
                row,
                message=f"Cancelled: polling stopped and the ${row['estimate_usd']:.2f} estimate was released "
                f"from committed spend.{remote}",
            )

        view = await anyio.to_thread.run_sync(run)
        self.poller.notify(job_id)
        return view

    # -- views

    def _view(self, row: Row, reused: bool = False, message: str | None = None) -> VideoJob:
        asset = self._productions.asset(row["asset"]) if row["asset"] else None
        settings = json.loads(row["settings"])
        preflight = json.loads(row["preflight"])
        grounding = json.loads(row["grounding"])
        return VideoJob(
            id=row["id"],
            production=row["production"],
            shot=row["shot"],
            stand_in=bool(grounding.get("stand_in")),
            status=row["status"],
            model=row["model"],
            prompt=row["prompt"],
            negative_prompt=row["negative_prompt"],
            settings=_public_settings(settings),
            brief_version=grounding["brief_version"],
            estimate_usd=row["estimate_usd"],
            actual_usd=row["actual_usd"],
            price_source=row["price_source"],
            progress=self._progress(row),
            operation=row["operation"],
            asset=asset,
            output_uri=row["output_uri"],
            parent_asset=row["parent_asset"],
            error=row["error"],
            error_kind=row["error_kind"],
            preflight_errors=preflight["errors"],
            preflight_overridden=preflight["overridden"],
            polls=row["polls"],
            created_at=row["created_at"],
            submitted_at=row["submitted_at"],
            finished_at=row["finished_at"],
            deadline_at=iso_of(row["deadline_ts"]),
            reused=reused,
            message=message or _status_message(row, reused),
        )

    def _progress_message(self, view: VideoJob) -> str:
        """'pending for 42 s, about 48 s to go (Veo typically takes 90 s)': what changes each second."""
        if view.status != "pending" or view.created_at is None:
            return f"{view.status}: {view.message}"[:200]
        elapsed = max(time.time() - datetime.fromisoformat(view.created_at).timestamp(), 0.0)
        expected = max(self._context.settings.veo_expected_s, 1.0)
        to_go = f"about {expected - elapsed:.0f} s to go" if elapsed < expected else "taking longer than usual"
        return f"pending for {elapsed:.0f} s, {to_go} (Veo typically takes {expected:.0f} s)"

    def _progress(self, row: Row) -> float:
        if row["status"] == "done":
            return 1.0
        if row["status"] != "pending":
            return 0.0
        elapsed = max(time.time() - row["created_ts"], 0.0)
        return round(min(0.95, 0.05 + 0.9 * elapsed / max(self._context.settings.veo_expected_s, 1.0)), 3)


def _public_settings(settings: limits.VideoSettings | dict[str, Any]) -> dict[str, Any]:
    values = settings.model_dump() if isinstance(settings, BaseModel) else dict(settings)
    values.pop("model", None)
    return values


def _already_final(row: Row) -> str:
    """What video_cancel answers for a job that is already final: nothing changes."""
    outcome = {
        "done": f"its video is {('asset ' + row['asset']) if row['asset'] else row['output_uri']} and its "
        f"${row['actual_usd'] or row['estimate_usd']:.2f} is spent",
        "failed": "its estimate was already released",
        "cancelled": "its estimate was already released",
    }.get(row["status"], "")
    return f"Job {row['id']} is already {row['status']}: nothing to cancel, nothing changed ({outcome})."


def _status_message(row: Row, reused: bool) -> str:
    prefix = f"This exact request already has job {row['id']}: returned it, nothing submitted again. " if reused else ""
    status: str = row["status"]
    messages: dict[str, str] = {
        "submitting": "Being submitted to Vertex.",
        "pending": "Submitted; Veo is generating. Call video_job(job, wait_s=...) to wait for it.",
        "done": f"Done: video asset {row['asset']}." if row["asset"] else f"Done: the video is at {row['output_uri']}.",
        "failed": f"Failed: {row['error']}",
        "cancelled": "Cancelled.",
        "unknown_submission": row["error"] or "The submit's outcome is unknown.",
    }
    text = messages.get(status, status)
    if status == "pending" and row["error"]:
        text += f" ({row['error']}; retrying)"
    return prefix + text
