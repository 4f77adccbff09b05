"""Memory over repeated work: the server's resident set across consecutive 1080p media checks.

    .venv/bin/python -m bench.bench_memory [--checks 12] [--seconds 8]

Two real `studio-mcp serve` processes over stdio in one run: one with the offline embedder loaded (a
style search first, as a studio's session would have), the baseline without it. Each runs the same
`continuity_check_media` on an 8 s 1920x1080 clip (bench_media_speed's render of the real excerpt) the
given number of times; the server's VmRSS is read from /proc after each check. Flat means the growth
from the second check to the last stays small (the first check loads dlib's models and lookup tables).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

import anyio
from mcp import Client

from bench.bench_media_speed import render
from bench.common import studio_params


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def server_pid() -> int:
    """The one studio-mcp child of this process (the stdio client spawned it)."""
    me = os.getpid()
    children = Path(f"/proc/{me}/task/{me}/children").read_text().split()
    found = [int(c) for c in children if "studio-mcp" in Path(f"/proc/{c}/cmdline").read_text()]
    assert len(found) == 1, found
    return found[0]


async def rss_over_checks(work: Path, clip: Path, checks: int, embedder: bool) -> list[float]:
    params = studio_params(
        work,
        work / f"data-{embedder}",
        STUDIO_WARM_EMBEDDER=str(embedder).lower(),
        STUDIO_ALLOWED_ROOTS=json.dumps([str(work)]),
    )
    sizes = []
    async with Client(params) as client:
        pid = server_pid()
        brief = {"name": "Memory", "kit": "memory", "logline": "A signer.", "tone": "plain"}
        await client.call_tool("production_create", brief)
        if embedder:
            await client.call_tool("style_ingest", {"kit": "memory", "text": "a signer in a studio", "title": "n"})
            await client.call_tool("style_search", {"query": "signer", "kit": "memory"})
        sizes.append(rss_mb(pid))
        for _ in range(checks):
            result = await client.call_tool("continuity_check_media", {"production": "memory", "path": str(clip)})
            assert not result.is_error, result.content
            sizes.append(rss_mb(pid))
    return sizes


async def main(checks: int, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        clip = work / "clip_1080.mp4"
        render(clip, 1920, 1080, seconds)
        print(f"server RSS over {checks} consecutive {seconds:g} s 1080p media checks (MB)")
        for embedder in (False, True):
            sizes = await rss_over_checks(work, clip, checks, embedder)
            label = "with the embedder   " if embedder else "without the embedder"
            growth = sizes[-1] - sizes[2]
            print(
                f"  {label}: before {sizes[0]:.0f}, after check 1 {sizes[1]:.0f}, 2 {sizes[2]:.0f}, "
                f"{checks} {sizes[-1]:.0f}, peak {max(sizes):.0f}; growth from check 2 to {checks}: {growth:+.0f} MB"
            )
            print("    " + " ".join(f"{s:.0f}" for s in sizes))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    anyio.run(main, args.checks, args.seconds)
