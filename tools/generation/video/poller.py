"""The one background task that advances every pending Veo job, for the server's whole life.

anyio only; SQLite runs in worker threads. Each job is polled on its own schedule (exponential
backoff with jitter, capped), at most `veo_poll_concurrency` at once, so one slow poll delays no
other job and no tool call. The deadline is checked only after a poll, so a job that finished just in
time is collected, not failed. A finished operation with an error, or with every video filtered by
Responsible AI, fails the job with the reason and releases its estimate; a video is saved as an asset
with full provenance and its estimate settled as spent, in one pass that is safe to repeat.

Replicas (several server processes on one PostgreSQL store) share the jobs through poll leases in
the database: each replica polls only the due jobs it claimed (one transaction leases them to it for
`veo_poll_lease_s`, renewed with every poll result it writes), and writes a result only while it
still holds the lease. A replica that dies stops renewing; once its leases expire another replica
claims its pending jobs, and marks its jobs left `submitting` unknown_submission (never resubmitted).
"""

from __future__ import annotations

import functools
import logging
import random
import time

import anyio

from core import tracing
from core.context import StudioContext
from core.genai import GenerationError
from tools.generation.video import wire
from tools.generation.video.store import JobStore, Row
from tools.production import ProductionService

log = logging.getLogger(__name__)


class Poller:
    def __init__(self, context: StudioContext, store: JobStore, productions: ProductionService) -> None:
        self._context = context
        self._store = store
        self._productions = productions
        self._inflight: set[str] = set()
        self._wake: anyio.Event | None = None
        self._changed: dict[str, anyio.Event] = {}

    # -- what tool calls use

    def notify(self, job_id: str | None) -> None:
        """A job changed: wake the poller, and whoever waits on that job."""
        if self._wake is not None:
            self._wake.set()
        if job_id and job_id in self._changed:
            self._changed.pop(job_id).set()

    def changed(self, job_id: str) -> anyio.Event:
        """An event set the next time the job changes."""
        return self._changed.setdefault(job_id, anyio.Event())

    def next_delay(self, polls: int) -> float:
        s = self._context.settings
        base = min(s.veo_poll_max_s, s.veo_poll_initial_s * (2 ** min(polls, 20)))
        return base * random.uniform(0.8, 1.2)

    # -- the task

    async def run(self) -> None:
        self._wake = anyio.Event()
        limiter = anyio.CapacityLimiter(max(self._context.settings.veo_poll_concurrency, 1))
        recover_at = 0.0
        async with anyio.create_task_group() as tasks:
            while True:
                if time.time() >= recover_at:
                    # At start-up, then about once a lease: submits whose submitter died (lease expired).
                    recover_at = time.time() + min(self._context.settings.veo_poll_lease_s, 30.0)
                    await self._recover()
                try:
                    due = await anyio.to_thread.run_sync(self._store.claim_due)
                except Exception:
                    log.exception("Could not read pending video jobs; retrying")
                    due = []
                for job_id in due:
                    if job_id not in self._inflight:
                        self._inflight.add(job_id)
                        tasks.start_soon(self._advance_guarded, job_id, limiter)
                await self._sleep()

    async def _recover(self) -> None:
        try:
            recovered = await anyio.to_thread.run_sync(self._store.recover)
        except Exception:
            log.exception("Could not look for interrupted video submits; retrying")
            return
        if recovered:
            log.warning(
                "%d video job(s) were mid-submit when their server stopped: marked unknown_submission", recovered
            )

    async def _sleep(self) -> None:
        at = await anyio.to_thread.run_sync(self._store.next_poll_at)
        wait = 5.0 if at is None else min(max(at - time.time(), 0.02), 5.0)
        wait = min(wait, max(self._context.settings.veo_poll_lease_s, 0.1))
        assert self._wake is not None
        with anyio.move_on_after(wait):
            await self._wake.wait()
        self._wake = anyio.Event()

    async def _advance_guarded(self, job_id: str, limiter: anyio.CapacityLimiter) -> None:
        try:
            async with limiter:
                await self._advance(job_id)
        except Exception:
            log.exception("Advancing video job %s failed; it will be polled again", job_id)
            await anyio.to_thread.run_sync(self._store.reschedule, job_id, None, self.next_delay)
        finally:
            self._inflight.discard(job_id)
            self.notify(job_id)

    async def _advance(self, job_id: str) -> None:
        row = await anyio.to_thread.run_sync(self._store.get, job_id)
        if row["status"] != "pending":
            return
        if not tracing.exporting():
            await self._poll(row)
            return
        ids = await anyio.to_thread.run_sync(self._productions.shot_trace, row["production"], row["shot"])
        with tracing.shot_step(f"video poll {row['shot']}", ids, {"studio.job": job_id}):
            await self._poll(row)

    async def _poll(self, row: Row) -> None:
        job_id = row["id"]
        try:
            result = await wire.poll(self._context.genai, row["operation"], row["model"])
        except GenerationError as error:
            if error.kind == "model_not_found":
                await self._fail(row, "operation_not_found", f"Vertex no longer knows the operation: {error}")
                return
            if not await self._past_deadline(row):
                log.warning("Polling video job %s failed (%s); backing off", job_id, error)
                await anyio.to_thread.run_sync(
                    self._store.reschedule, job_id, f"last poll failed: {error}", self.next_delay
                )
            return
        if not result.done:
            # Checked only after a poll: an operation that finished just in time is collected, not failed.
            if not await self._past_deadline(row):
                await anyio.to_thread.run_sync(self._store.reschedule, job_id, None, self.next_delay)
            return
        if result.error is not None:
            await self._fail(row, result.error.kind, str(result.error))
            return
        if result.filtered:
            reasons = "; ".join(result.filtered_reasons)
            await self._fail(
                row,
                "rai_filtered",
                f"Veo's safety filters withheld the video ({result.filtered_count or 'all'} filtered): "
                f"{reasons or 'no reason given'}. Rephrase the shot or the prompt and generate again.",
            )
            return
        await anyio.to_thread.run_sync(self._store.complete, row, result.video_bytes, result.mime_type, result.uri)

    async def _past_deadline(self, row: Row) -> bool:
        """Fail the job if its deadline has passed; True when it did."""
        if time.time() <= row["deadline_ts"]:
            return False
        minutes = self._context.settings.veo_job_deadline_s / 60
        await self._fail(
            row,
            "deadline_exceeded",
            f"deadline exceeded: the operation was not done {minutes:g} min after the job was recorded "
            "(STUDIO_VEO_JOB_DEADLINE_S). Google may still bill it if it finishes.",
            polled=True,
        )
        return True

    async def _fail(self, row: Row, kind: str, message: str, *, polled: bool = False) -> None:
        await anyio.to_thread.run_sync(functools.partial(self._store.fail, row["id"], kind, message, polled=polled))
