"""Does the Veo poller slow down unrelated tools? p99 of style_search, idle vs 50 jobs in flight.

One stdio server (a real subprocess) against the fake Vertex server (its own process), whose
fetchPredictOperation answers only after `--poll-delay` seconds and whose operations never finish,
so all 50 jobs stay in flight and are polled continuously for the whole loaded phase. The idle and
loaded phases run in the same server process, the same number of calls each. Target: loaded p99 <=
1.5x idle p99.

    .venv/bin/python -m bench.bench_jobs_latency [--calls 200] [--jobs 50] [--poll-delay 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from bench.common import REPO, median, percentile, studio_params
from tests.fake_gemini import FakeGeminiProcess

QUERIES = ["Mara's red coat", "harbour at dusk", "lantern glow palette", "ferry deck at night", "tone of the film"]


def data(result: Any) -> dict[str, Any]:
    if result.is_error:
        raise RuntimeError(result.content[0].text)
    return dict(result.structured_content)


async def latencies(client: Client, calls: int) -> list[float]:
    out = []
    for i in range(calls):
        start = time.perf_counter()
        data(await client.call_tool("style_search", {"query": QUERIES[i % len(QUERIES)], "kit": "bench-jobs"}))
        out.append((time.perf_counter() - start) * 1000)
    return out


def summary(name: str, values: list[float]) -> str:
    return f"{name:8s} n={len(values)} median={median(values):7.2f} ms  p99={percentile(values, 0.99):7.2f} ms"


async def main(calls: int, jobs: int, poll_delay: float) -> int:
    with FakeGeminiProcess() as fake, tempfile.TemporaryDirectory() as tmp:
        fake.configure(default_polls=None)  # never done: every job stays in flight
        env = {
            "GOOGLE_GENAI_USE_VERTEXAI": "true",
            "GOOGLE_API_KEY": "bench-key",
            "GOOGLE_VERTEX_BASE_URL": fake.url,
            "STUDIO_VEO_POLL_INITIAL_S": "0.2",
            "STUDIO_VEO_POLL_MAX_S": "1.0",
            "STUDIO_VEO_JOB_DEADLINE_S": "3600",
        }
        async with Client(studio_params(REPO, Path(tmp) / "data", **env)) as client:
            data(await client.call_tool("style_ingest", {"kit": "bench-jobs", "paths": ["tests/data/sample_kit"]}))
            await latencies(client, 20)  # warm the embedder and Chroma
            idle = await latencies(client, calls)

            created = data(
                await client.call_tool(
                    "production_create",
                    {"name": "Bench Jobs", "kit": "bench-jobs", "logline": "A ferry at night.", "tone": "quiet"},
                )
            )
            data(
                await client.call_tool(
                    "shots_save",
                    {
                        "production": created["id"],
                        "scene": "1",
                        "shots": [{"number": 1, "description": "The ferry leaves the quay in fog.", "duration_s": 8}],
                    },
                )
            )
            fake.add_fault(":fetchPredictOperation", "delay", delay_s=poll_delay, times=None)
            for seed in range(jobs):
                job = data(
                    await client.call_tool("video_generate", {"production": created["id"], "shot": "1/1", "seed": seed})
                )
                assert job["status"] == "pending", job
            await anyio.sleep(poll_delay + 1)  # every job has a poll outstanding or answered
            polls_before = len(fake.requests_to(":fetchPredictOperation"))
            loaded = await latencies(client, calls)
            polls_during = len(fake.requests_to(":fetchPredictOperation")) - polls_before
            pending = data(await client.call_tool("video_jobs", {"production": created["id"], "status": "pending"}))
            fake.clear_faults()

    ratio = percentile(loaded, 0.99) / percentile(idle, 0.99)
    print(f"style_search latency, {jobs} Veo jobs in flight, polls answered after {poll_delay:g} s")
    print(summary("idle", idle))
    print(summary("loaded", loaded))
    print(f"polls during the loaded phase: {polls_during}; jobs still pending: {len(pending['jobs'])}")
    print(f"p99 ratio loaded/idle = {ratio:.2f} (target <= 1.5) -> {'PASS' if ratio <= 1.5 else 'FAIL'}")
    return 0 if ratio <= 1.5 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--poll-delay", type=float, default=2.0)
    args = parser.parse_args()
    sys.exit(anyio.run(main, args.calls, args.jobs, args.poll_delay))
