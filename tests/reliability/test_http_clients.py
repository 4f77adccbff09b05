"""Sixteen HTTP clients at once, each with its own session and a mix of reads and writes, against one
real server: every write lands exactly once, every answer belongs to the call that asked, and no
session sees another's data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from tests.conftest import RunningServer, make_workdir, start_http_server, stop
from tests.helpers import call

CLIENTS = 16
ROUNDS = 3


async def one_client(server: RunningServer, n: int, seen: dict[int, list[str]]) -> None:
    mode = "legacy" if n % 2 else "auto"  # both protocol eras at once
    async with Client(server.url, mode=mode) as client:
        pid = (
            await call(client, "production_create", name=f"Crowd {n}", kit=f"crowd-{n}", logline=f"film {n}", tone="t")
        )["id"]
        seen[n] = []
        for r in range(ROUNDS):
            scene = str(r + 1)
            shots = [{"number": k + 1, "description": f"client {n} round {r} shot {k + 1}"} for k in range(r + 1)]
            saved = await call(client, "shots_save", production=pid, scene=scene, shots=shots)
            assert [s["description"] for s in saved["shots"]] == [s["description"] for s in shots]
            # the same list again: it replaces, so nothing doubles
            await call(client, "shots_save", production=pid, scene=scene, shots=shots)
            await call(
                client,
                "continuity_set",
                production=pid,
                entity=f"Mara{n}",
                kind="character",
                attributes={"jacket": f"colour {n}-{r}"},
                from_scene=scene,
            )
            got = await call(client, "production_get", production=pid)
            assert got["brief"]["logline"] == f"film {n}"
            assert await call(client, "style_kits") is not None
            seen[n].append(pid)


def expected_scenes(n: int) -> dict[str, list[str]]:
    return {str(r + 1): [f"client {n} round {r} shot {k + 1}" for k in range(r + 1)] for r in range(ROUNDS)}


async def test_sixteen_concurrent_clients_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    server = await anyio.to_thread.run_sync(lambda: start_http_server(make_workdir(tmp_path / "w")))
    seen: dict[int, list[str]] = {}
    try:
        with anyio.fail_after(240):
            async with anyio.create_task_group() as clients:
                for n in range(CLIENTS):
                    clients.start_soon(one_client, server, n, seen)
        assert sorted(seen) == list(range(CLIENTS))
        async with server.client() as checker:
            for n in range(CLIENTS):
                got: dict[str, Any] = await call(checker, "production_get", production=f"crowd-{n}")
                scenes = {scene: [s["description"] for s in shots] for scene, shots in got["scenes"].items()}
                assert scenes == expected_scenes(n), n
                ledger = await call(checker, "continuity_get", production=f"crowd-{n}", entity=f"Mara{n}")
                [state] = ledger["entities"]
                assert state["attributes"] == {"jacket": f"colour {n}-{ROUNDS - 1}"}
                assert len(ledger["history"][0]["facts"]) == ROUNDS  # one fact per set, none twice
    finally:
        stop(server.proc)
