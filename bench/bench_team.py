"""Mixed-call throughput and p99 latency of a team deployment: 1 replica on SQLite (the baseline), 1 on
PostgreSQL and 3 on PostgreSQL behind a round-robin client, measured in one run on one machine.

Each configuration runs real `serve --http --stateless` subprocesses on a fresh store (a throw-away
PostgreSQL cluster for the PostgreSQL ones) and one `chroma run` server; `--clients` concurrent clients
each make `--rounds` rounds of state calls (continuity_set, shots_save, production_get, continuity_get,
prompt_build, a budget-checked video_generate dry run) against the fake Vertex API. Calls that
need the embedder or a paid model are left out: this measures the state store under replicas.

    .venv/bin/python -m bench.bench_team [--clients 16] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import median, percentile
from tests import helpers, postgres
from tests.conftest import RunningServer, free_port, make_workdir, start_http_server, stop, wait_for_port
from tests.fake_gemini import FakeGemini


async def _client_rounds(replicas: list[RunningServer], i: int, production: str, rounds: int) -> list[float]:
    latencies: list[float] = []
    for r in range(rounds):
        replica = replicas[(i + r) % len(replicas)]
        async with replica.client() as client:
            calls: list[tuple[str, dict[str, Any]]] = [
                (
                    "continuity_set",
                    {
                        "production": production,
                        "entity": f"Prop {i}",
                        "kind": "prop",
                        "attributes": {"paint": f"coat {r}"},
                    },
                ),
                (
                    "shots_save",
                    {
                        "production": production,
                        "scene": f"{i + 1}",
                        "shots": [{"number": 1, "description": f"Prop {i} on the quay, take {r}"}],
                    },
                ),
                ("production_get", {"production": production}),
                ("continuity_get", {"production": production, "entity": f"Prop {i}"}),
                ("prompt_build", {"production": production, "shot": f"{i + 1}/1"}),
                ("video_generate", {"production": production, "shot": f"{i + 1}/1", "dry_run": True}),
            ]
            for tool, args in calls:
                start = time.perf_counter()
                result = await client.call_tool(tool, args)
                latencies.append((time.perf_counter() - start) * 1000)
                if result.is_error:
                    raise RuntimeError(f"{tool}: {helpers.error_text(result)}")
    return latencies


async def _measure(replicas: list[RunningServer], clients: int, rounds: int) -> tuple[float, list[float]]:
    async with replicas[0].client() as client:
        created = await helpers.call(
            client,
            "production_create",
            name=f"Bench {time.time_ns()}",
            kit="bench-team",
            logline="Props on a quay.",
            tone="plain",
            budget_usd=1000.0,
        )
    start = time.perf_counter()
    per_client = await asyncio.gather(*(_client_rounds(replicas, i, created["id"], rounds) for i in range(clients)))
    elapsed = time.perf_counter() - start
    latencies = [v for values in per_client for v in values]
    return len(latencies) / elapsed, latencies


async def main(clients: int, rounds: int) -> int:
    root = Path(tempfile.mkdtemp(prefix="bench-team-"))
    chroma_port = free_port()
    chroma = await asyncio.to_thread(_start_chroma, root, chroma_port)
    results: dict[str, tuple[float, list[float]]] = {}
    try:
        with FakeGemini() as fake, postgres.cluster() as cluster:
            configs = {
                "1 replica, SQLite": (1, None),
                "1 replica, PostgreSQL": (1, "pg"),
                "3 replicas, PostgreSQL": (3, "pg"),
            }
            for name, (count, engine) in configs.items():
                env = {
                    **helpers.vertex_env(fake.url),
                    "STUDIO_CHROMA_MODE": "http",
                    "STUDIO_CHROMA_HOST": "127.0.0.1",
                    "STUDIO_CHROMA_PORT": str(chroma_port),
                    "STUDIO_WARM_EMBEDDER": "false",
                }
                if engine:
                    env["STUDIO_STATE_URL"] = cluster.database()
                workdir = make_workdir(root / name.replace(" ", "-").replace(",", ""))
                replicas = [start_http_server(workdir, "--stateless", **env) for _ in range(count)]
                try:
                    await _measure(replicas, 2, 1)  # warm-up: connections, first imports
                    results[name] = await _measure(replicas, clients, rounds)
                finally:
                    for replica in replicas:
                        stop(replica.proc)
    finally:
        stop(chroma)
    base_rate = results["1 replica, SQLite"][0]
    print(f"{clients} clients x {rounds} rounds x 6 calls, mixed state calls, one machine (2 cores here)")
    for name, (rate, latencies) in results.items():
        print(
            f"{name:24s} {rate:7.1f} calls/s ({rate / base_rate:4.2f}x SQLite)  "
            f"median {median(latencies):7.1f} ms  p99 {percentile(latencies, 0.99):7.1f} ms  n={len(latencies)}"
        )
    return 0


def _start_chroma(root: Path, port: int) -> Any:
    import subprocess

    from tests.conftest import BIN

    proc = subprocess.Popen(
        [str(BIN / "chroma"), "run", "--path", str(root / "chroma"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, proc)
    return proc


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.clients, args.rounds)))
