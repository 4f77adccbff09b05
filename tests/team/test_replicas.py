"""Team deployment, for real: three stateless replicas over Streamable HTTP on one PostgreSQL database,
one `chroma run` server and one shared media directory, against one fake Vertex API that each replica
reaches on its own port (so every call says which replica sent it).

16 clients spread over the replicas make mixed calls at once; every write lands exactly once, the budget
is never exceeded, each Veo job is submitted once and polled by one replica at a time. Then a replica is
SIGKILLed with jobs in flight: the others take its jobs over when its leases expire and finish them.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import helpers, postgres
from tests.conftest import RunningServer, make_workdir, start_http_server, stop
from tests.fake_gemini import FakeGemini, FakeState
from tests.helpers import call, error_text

CLIENTS = 16
LEASE_S = 5.0  # a replica stalled longer than this on a loaded machine loses its jobs, rightly


@dataclass
class Team:
    replicas: list[RunningServer]
    fakes: list[FakeGemini]
    workdir: Path

    def host_of(self, request: dict[str, Any]) -> int:
        """Which replica sent a request the fake recorded (by the port it reached)."""
        port = int(str(request["headers"]["host"]).rsplit(":", 1)[1])
        return [int(f.url.rsplit(":", 1)[1]) for f in self.fakes].index(port)

    def polls(self) -> list[tuple[str, int, int]]:
        """(operation, replica, seq) of every operation poll, in the order the fake saw them."""
        return [
            (str(r["body"]["operationName"]), self.host_of(r), int(r["seq"]))
            for r in self.fakes[0].requests(":fetchPredictOperation")
        ]


@pytest.fixture(scope="module")
def team(
    tmp_path_factory: pytest.TempPathFactory, postgres_cluster: postgres.Cluster, chroma_http: int
) -> Iterator[Team]:
    shared = FakeState(default_polls=1)
    fakes = [FakeGemini(state=shared).start() for _ in range(3)]
    workdir = make_workdir(tmp_path_factory.mktemp("team"))
    database = postgres_cluster.database()
    replicas = []
    try:
        for fake in fakes:
            env = {
                **helpers.vertex_env(fake.url),
                "STUDIO_STATE_URL": database,
                "STUDIO_CHROMA_MODE": "http",
                "STUDIO_CHROMA_HOST": "127.0.0.1",
                "STUDIO_CHROMA_PORT": str(chroma_http),
                "STUDIO_VEO_POLL_LEASE_S": str(LEASE_S),
            }
            replicas.append(start_http_server(workdir, "--stateless", **env))
        yield Team(replicas, fakes, workdir)
    finally:
        for replica in replicas:
            stop(replica.proc)
        for fake in fakes:
            fake.stop()


def _assert_one_poller_at_a_time(team: Team, dead: int | None = None, killed_at_seq: int = -1) -> None:
    """Each operation is polled by one replica; after a kill, the dead replica's operations move to one
    other replica, and never back."""
    by_operation: dict[str, list[tuple[int, int]]] = {}
    for operation, replica, seq in team.polls():
        by_operation.setdefault(operation, []).append((replica, seq))
    assert by_operation
    for operation, polls in by_operation.items():
        pollers = [replica for replica, _ in polls]
        changes = [i for i in range(1, len(pollers)) if pollers[i] != pollers[i - 1]]
        if not changes:
            continue
        assert dead is not None and len(changes) == 1, f"{operation} polled by {pollers}"
        before, after = pollers[changes[0] - 1], pollers[changes[0]]
        assert before == dead and after != dead, f"{operation} moved from replica {before} to {after}"
        assert polls[changes[0]][1] > killed_at_seq


async def _client_work(team: Team, i: int, production: str) -> dict[str, Any]:
    """One client's mixed calls, on replica i % 3."""
    replica = team.replicas[i % 3]
    source = team.workdir / f"material-{i}.md"
    source.write_text(f"# Look {i}\n\nLantern {i} glows amber over wet cobbles; fog number {i} rolls in.\n")
    async with replica.client() as client:
        ingest = await call(client, "style_ingest", kit=f"team-kit-{i}", paths=[source.name])
        await call(
            client,
            "continuity_set",
            production=production,
            entity=f"Lantern {i}",
            kind="prop",
            attributes={"glass": f"amber {i}"},
        )
        await call(
            client,
            "shots_save",
            production=production,
            scene=f"{i + 1}",
            shots=[
                {"number": 1, "description": f"Lantern {i} is lit on the deck", "duration_s": 8},
                {"number": 2, "description": f"Fog {i} rolls over the water", "duration_s": 8},
            ],
        )
        generated = await client.call_tool("video_generate", {"production": production, "shot": f"{i + 1}/1"})
    return {"chunks": ingest["chunks_added"], "generated": generated}


async def test_sixteen_clients_on_three_replicas_land_every_write_once_within_budget(team: Team) -> None:
    async with team.replicas[0].client() as client:
        price = (await call(client, "cost_estimate", model="veo-3.1-fast-generate-001", duration_s=8))["estimate_usd"]
        fits = 5
        created = await call(
            client,
            "production_create",
            name="Team Ferry",
            kit="team-kit-0",
            logline="Lanterns cross a foggy harbour.",
            tone="quiet",
            budget_usd=price * (fits + 0.5),
        )
    production = created["id"]

    results = await asyncio.gather(*(_client_work(team, i, production) for i in range(CLIENTS)))

    accepted = [r["generated"] for r in results if not r["generated"].is_error]
    refused = [error_text(r["generated"]) for r in results if r["generated"].is_error]
    assert len(accepted) == fits and len(refused) == CLIENTS - fits
    assert all("exceed the budget" in message for message in refused), refused
    jobs = [str(r.structured_content["id"]) for r in accepted if r.structured_content is not None]

    # Every replica sees every write, once.
    for replica in team.replicas:
        async with replica.client() as client:
            state = await call(client, "production_get", production=production)
            assert sorted(state["scenes"], key=int) == [str(i + 1) for i in range(CLIENTS)]
            assert all(len(shots) == 2 for shots in state["scenes"].values())
            spend = state["spend"]
            assert spend["spent_usd"] + spend["committed_usd"] <= spend["budget_usd"] + 1e-9
            ledger = await call(client, "continuity_get", production=production)
            assert sorted(e["entity"] for e in ledger["entities"]) == sorted(f"Lantern {i}" for i in range(CLIENTS))
            assert all(len(e["fact_ids"]) == 1 for e in ledger["entities"])
            kits = {k["kit"]: k for k in (await call(client, "style_kits"))["kits"]}
            for i, result in enumerate(results):
                assert kits[f"team-kit-{i}"]["chunks"] == result["chunks"] > 0

    # Each job finishes, followed from a replica other than the one that took it.
    for n, job in enumerate(jobs):
        async with team.replicas[(n + 1) % 3].client() as client:
            done = await call(client, "video_job", job=job, wait_s=60)
            assert done["status"] == "done", done
    async with team.replicas[2].client() as client:
        spend = (await call(client, "production_get", production=production))["spend"]
    assert spend["spent_usd"] <= spend["budget_usd"] and spend["committed_usd"] == 0

    paid = team.fakes[0].paid_by_label("video")
    assert sorted(str(label) for label in paid) == sorted(jobs) and set(paid.values()) == {1}, paid
    _assert_one_poller_at_a_time(team)


async def test_a_killed_replica_loses_its_jobs_to_the_others_and_nothing_is_submitted_twice(team: Team) -> None:
    team.fakes[0].configure(default_polls=60)  # about 6 s of polling per job: still in flight at the kill
    async with team.replicas[0].client() as client:
        created = await call(
            client, "production_create", name="Kill Ferry", kit="team-kit-0", logline="A replica dies.", tone="calm"
        )
        production = created["id"]
        await call(
            client,
            "shots_save",
            production=production,
            scene="1",
            shots=[{"number": n, "description": f"Lantern {n} swings", "duration_s": 8} for n in range(1, 7)],
        )
        jobs = [(await call(client, "video_generate", production=production, shot=f"1/{n}"))["id"] for n in range(1, 7)]

    # Wait until every job is being polled, then kill the replica that polls the most of them.
    operations = set()
    async with team.replicas[1].client() as client:
        for job in jobs:
            operations.add((await call(client, "video_job", job=job))["operation"])
    for _ in range(150):
        if {op for op, _, _ in team.polls()} >= operations:
            break
        await asyncio.sleep(0.2)
    last_poller = {op: replica for op, replica, _ in team.polls() if op in operations}
    assert set(last_poller) == operations, "not every job was polled within 30 s"
    held = [list(last_poller.values()).count(r) for r in range(3)]
    dead = held.index(max(held))
    os.kill(team.replicas[dead].proc.pid, signal.SIGKILL)
    team.replicas[dead].proc.wait()
    killed_at_seq = team.polls()[-1][2]

    alive = [r for r in range(3) if r != dead]
    for n, job in enumerate(jobs):
        async with team.replicas[alive[n % 2]].client() as client:
            done = await call(client, "video_job", job=job, wait_s=60)
            assert done["status"] == "done", done

    paid = team.fakes[0].paid_by_label("video")
    assert all(paid[job] == 1 for job in jobs), paid
    _assert_one_poller_at_a_time(team, dead=dead, killed_at_seq=killed_at_seq)
    taken_over = {op for op, replica, seq in team.polls() if seq > killed_at_seq and op in operations}
    assert {op for op, replica in last_poller.items() if replica == dead} <= taken_over
