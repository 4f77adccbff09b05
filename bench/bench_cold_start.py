"""Cold start: spawn to answered tools/list over stdio, studio-mcp against a bare MCPServer with one tool.

Target: median ratio <= 1.15 (chromadb, torch and google-genai are imported lazily).
Run: .venv/bin/python bench/bench_cold_start.py [runs]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

from bench.common import BIN, REPO, median, studio_params


async def time_to_tools_list(params: StdioServerParameters) -> float:
    start = time.perf_counter()
    async with Client(params) as client:
        tools = await client.list_tools()
        elapsed = time.perf_counter() - start
    assert tools.tools
    return elapsed


async def main(runs: int) -> None:
    bare = StdioServerParameters(command=str(BIN / "python"), args=[str(REPO / "bench" / "bare_server.py")])
    with tempfile.TemporaryDirectory() as tmp:
        studio = studio_params(Path(tmp), Path(tmp) / "data")
        await time_to_tools_list(studio)  # first run creates the data directory and warms the OS cache
        await time_to_tools_list(bare)
        bare_times, studio_times = [], []
        for _ in range(runs):  # interleaved, so drift in machine load hits both alike
            bare_times.append(await time_to_tools_list(bare))
            studio_times.append(await time_to_tools_list(studio))
    ratio = median(studio_times) / median(bare_times)
    print(f"cold start, spawn -> tools/list, {runs} runs each")
    print(f"  bare MCPServer : median {median(bare_times) * 1000:7.1f} ms")
    print(f"  studio-mcp     : median {median(studio_times) * 1000:7.1f} ms")
    print(f"  ratio          : {ratio:.2f}x (target <= 1.15x)")


if __name__ == "__main__":
    anyio.run(main, int(sys.argv[1]) if len(sys.argv) > 1 else 9)
