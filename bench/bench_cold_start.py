"""Cold start: spawn to answered tools/list over stdio, studio-mcp against a bare MCPServer with one tool.

Target: p50 ratio <= 1.10 (chromadb, torch and google-genai are imported lazily).
Run: .venv/bin/python -m bench.bench_cold_start [--runs 5] [--spawns 10]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

from bench.common import BIN, REPO, median, percentile, spread, studio_params


async def time_to_tools_list(params: StdioServerParameters) -> float:
    start = time.perf_counter()
    async with Client(params) as client:
        tools = await client.list_tools()
        elapsed = time.perf_counter() - start
    assert tools.tools
    return elapsed


async def main(runs: int, spawns: int) -> None:
    bare = StdioServerParameters(command=str(BIN / "python"), args=[str(REPO / "bench" / "bare_server.py")])
    p50s: dict[str, list[float]] = {"bare": [], "studio": []}
    p99s: dict[str, list[float]] = {"bare": [], "studio": []}
    p50_ratios, p99_ratios = [], []
    with tempfile.TemporaryDirectory() as tmp:
        studio = studio_params(Path(tmp), Path(tmp) / "data")
        await time_to_tools_list(studio)  # the first spawn creates the data directory and warms the OS cache
        await time_to_tools_list(bare)
        for _ in range(runs):
            times: dict[str, list[float]] = {"bare": [], "studio": []}
            for i in range(spawns):  # interleaved, alternating who goes first, so machine drift hits both alike
                order = [("bare", bare), ("studio", studio)]
                for name, params in order if i % 2 == 0 else order[::-1]:
                    times[name].append(await time_to_tools_list(params))
            for name in times:
                p50s[name].append(median(times[name]))
                p99s[name].append(percentile(times[name], 0.99))
            p50_ratios.append(p50s["studio"][-1] / p50s["bare"][-1])
            p99_ratios.append(p99s["studio"][-1] / p99s["bare"][-1])
    print(f"cold start, spawn -> answered tools/list over stdio: {runs} runs of {spawns} interleaved spawns each")
    print("(each figure: the median over runs, with the min and max)")
    for name, label in (("bare", "bare MCPServer"), ("studio", "studio-mcp    ")):
        print(f"  {label}: p50 {spread(p50s[name], ' ms', 1000, 0)}  p99 {spread(p99s[name], ' ms', 1000, 0)}")
    print(f"  ratio p50     : {spread(p50_ratios, 'x')} (target <= 1.10x)")
    print(f"  ratio p99     : {spread(p99_ratios, 'x')}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--spawns", type=int, default=10)
    args = parser.parse_args()
    anyio.run(main, args.runs, args.spawns)
