"""Two replicas on one state store (two in-process servers on one data directory, or one PostgreSQL
database under --state=postgresql), each reaching the fake Vertex API on its own port so every poll
says who sent it: each pending job is polled by one replica at a time, through a lease in the
database; when one replica's poller stops without releasing its leases, the other takes its jobs over
once they expire and finishes them; no job is submitted twice; video_job(wait_s=...) on one replica
follows the progress the other made."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from tests.fake_gemini import FakeGemini, FakeState
from tests.helpers import App, build_app, call, make_production, vertex_env

LEASE_S = 3.0  # well above a poll interval (0.1 s) even on a busy machine
SHOTS = [{"number": 1, "description": "The ferry slides out of the fog toward the quay.", "duration_s": 8}]


def _pollers(fakes: list[FakeGemini]) -> dict[str, list[tuple[int, int]]]:
    """Each operation's polls as (replica, seq), in the order the fake saw them."""
    ports = [f.url.rsplit(":", 1)[1] for f in fakes]
    polls: dict[str, list[tuple[int, int]]] = {}
    for request in fakes[0].requests(":fetchPredictOperation"):
        replica = ports.index(str(request["headers"]["host"]).rsplit(":", 1)[1])
        polls.setdefault(str(request["body"]["operationName"]), []).append((replica, int(request["seq"])))
    return polls


@contextmanager
def two_replicas(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, **settings: str
) -> Iterator[tuple[list[FakeGemini], list[App]]]:
    """Two in-process replicas on one store, each with its own fake (one shared state) so polls say who sent them."""
    shared = FakeState(default_polls=1)
    fakes = [FakeGemini(state=shared).start() for _ in range(2)]
    try:
        apps: list[App] = []
        for fake in fakes:  # each replica reads its own fake's address when it is built
            for name, value in vertex_env(fake.url, **settings).items():
                clean_env.setenv(name, value)
            apps.append(build_app(tmp_path / "data"))
        yield fakes, apps
    finally:
        for fake in fakes:
            fake.stop()


async def test_two_replicas_poll_each_job_once_and_take_over_after_a_lease_expires(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with two_replicas(clean_env, tmp_path, STUDIO_VEO_POLL_LEASE_S=str(LEASE_S)) as (fakes, apps):
        async with Client(apps[1].server) as b, AsyncExitStack() as first:
            a = await first.enter_async_context(Client(apps[0].server))
            pid = await make_production(a, "Lease Ferry", kit="lease-kit", budget_usd=50.0, shots={"1": SHOTS})

            # A quick job submitted on A: B follows its progress (made by whichever replica polls it).
            fakes[0].add_fault(":predictLongRunning", "polls", polls=3)
            quick = await call(a, "video_generate", production=pid, shot="1/1", seed=0)
            done = await call(b, "video_job", job=quick["id"], wait_s=30)
            assert done["status"] == "done" and done["asset"], done

            # Slow jobs (about 4 s of polling each) from both replicas.
            jobs: list[tuple[int, dict[str, Any]]] = []
            for seed in range(1, 5):
                fakes[0].add_fault(":predictLongRunning", "polls", polls=40)
                replica = seed % 2
                job = await call([a, b][replica], "video_generate", production=pid, shot="1/1", seed=seed)
                jobs.append((replica, job))
            operations = [job["operation"] for _, job in jobs]
            with anyio.fail_after(30):
                while not all(len(_pollers(fakes).get(op, [])) >= 3 for op in operations):  # noqa: ASYNC110
                    await anyio.sleep(0.05)
            holder: dict[str, int] = {}
            for op, polls in _pollers(fakes).items():  # while both live: one poller per job
                assert len({replica for replica, _ in polls}) == 1, (op, polls)
                holder[op] = polls[0][0]
            # Each replica polls the jobs it submitted (it holds their lease from the submit on).
            assert [holder[op] for op in operations] == [replica for replica, _ in jobs], holder

            await first.aclose()  # A's poller stops and keeps its leases: B waits for them to expire
            stopped_at = fakes[0].requests()[-1]["seq"]
            for _, job in jobs:
                final = await call(b, "video_job", job=job["id"], wait_s=60)
                assert final["status"] == "done" and final["asset"], final

        after = _pollers(fakes)
        for op in operations:
            seen = [r for r, _ in after[op]]
            if holder[op] == 1:
                assert set(seen) == {1}, (op, seen)
            else:  # A's job: A's polls, then B's, after A stopped; never back
                switch = seen.index(1)
                assert set(seen[:switch]) == {0} and set(seen[switch:]) == {1}, (op, seen)
                assert after[op][switch][1] > stopped_at
        paid = fakes[0].paid_by_label("video")
        assert set(paid) == {quick["id"], *(job["id"] for _, job in jobs)}, paid
        assert set(paid.values()) == {1}, paid


async def test_a_backoff_longer_than_the_lease_keeps_the_job_with_its_poller(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Polls 2.5 s apart, leases of 1 s (longer than a poll takes, shorter than the backoff): a lease runs
    # from the job's next poll, so the other replica, awake and polling, never takes a live holder's job.
    slow = {"STUDIO_VEO_POLL_LEASE_S": "1", "STUDIO_VEO_POLL_INITIAL_S": "2.5", "STUDIO_VEO_POLL_MAX_S": "2.5"}
    with two_replicas(clean_env, tmp_path, **slow) as (fakes, apps):
        async with Client(apps[0].server) as a, Client(apps[1].server) as b:
            pid = await make_production(a, "Slow Polls", kit="slow-kit", budget_usd=50.0, shots={"1": SHOTS})
            jobs = []
            for seed, client in enumerate((a, b, a, b)):
                fakes[0].add_fault(":predictLongRunning", "polls", polls=3)
                jobs.append(await call(client, "video_generate", production=pid, shot="1/1", seed=seed))
            for job in jobs:
                final = await call(b, "video_job", job=job["id"], wait_s=60)
                assert final["status"] == "done", final
        pollers = _pollers(fakes)
        for replica, job in zip((0, 1, 0, 1), jobs, strict=True):
            seen = [r for r, _ in pollers[job["operation"]]]
            assert len(seen) >= 3 and set(seen) == {replica}, (job["id"], seen)
