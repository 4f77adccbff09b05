"""Style retrieval benchmarks, each a ratio against a baseline measured in the same run.

1. Ingest throughput through MCP (style_ingest over stdio) against the embedder's raw batch
   throughput on the same chunks. Target >= 0.9x. Unchanged re-ingest >= 50x faster than the first.
2. style_search latency over stdio on an N-chunk kit (default 10,000; --chunks 100000 for the
   large option): p50 and p99 against an in-process raw chromadb query with the same embedder on a
   copy of the same collection, the two interleaved query by query; several runs, each figure quoted
   as the median over runs with min and max. Targets p50 <= 1.3x, p99 <= 1.5x.

Run: .venv/bin/python -m bench.bench_style [--chunks N] [--queries Q] [--runs R]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import anyio
from mcp import Client

from bench.common import median, percentile, spread, studio_params

WORDS = (
    "harbour lantern fog ferry deck rope gull tide amber teal navy coat scarf boots beard wheelhouse "
    "lighthouse beam dawn dusk night rain wind crane pier engine horn brass rail wave salt moss bone "
    "grey red green silver quiet slow wide close handheld push dolly frame lens grain shadow glow"
).split()


def make_corpus(root: Path, chunks: int, per_file: int = 100) -> list[str]:
    """Markdown files whose sections each become one chunk; returns the texts the embedder will see
    (the server's own reader and chunker: each chunk carries its heading path)."""
    from tools.style.chunking import chunk_document
    from tools.style.readers import read_source

    rng = random.Random(7)
    for f in range(0, chunks, per_file):
        sections = []
        for s in range(min(per_file, chunks - f)):
            body = " ".join(rng.choice(WORDS) for _ in range(40)) + f" (note {f + s})."
            sections.append(f"## Section {f + s}\n\n{body}")
        (root / f"bible-{f // per_file:04d}.md").write_text(f"# Bible {f // per_file}\n\n" + "\n\n".join(sections))
    return [chunk.text for path in sorted(root.glob("*.md")) for chunk in chunk_document(read_source(path))]


def raw_embed_rate(texts: list[str]) -> float:
    from tools.style.embedder import MiniLMEmbedder

    embedder = MiniLMEmbedder()
    embedder.embed_sync(texts[:64])  # load and warm up
    start = time.perf_counter()
    embedder.embed_sync(texts)
    return len(texts) / (time.perf_counter() - start)


class RawQuery:
    """The baseline: the same embedder and a chromadb query in this process, on a copy of the collection."""

    def __init__(self, chroma_dir: Path) -> None:
        import chromadb

        from tools.style.embedder import MiniLMEmbedder

        self.embedder = MiniLMEmbedder()
        self.embedder.embed_sync(["warm up"])
        client = chromadb.PersistentClient(path=str(chroma_dir), settings=chromadb.Settings(anonymized_telemetry=False))
        self.collection = client.get_collection("studio-kit-bench", embedding_function=None)

    def __call__(self, query: str) -> float:
        start = time.perf_counter()
        [vector] = self.embedder.embed_sync([query])
        query_embeddings: list[Sequence[float]] = [vector]
        self.collection.query(
            query_embeddings=query_embeddings, n_results=5, include=["documents", "metadatas", "distances"]
        )
        return time.perf_counter() - start


async def main(chunks: int, n_queries: int, runs: int) -> None:
    rng = random.Random(11)
    queries = [" ".join(rng.choice(WORDS) for _ in range(6)) for _ in range(n_queries * runs + 10)]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "corpus").mkdir()
        texts = make_corpus(work / "corpus", chunks)
        embed_rate = raw_embed_rate(texts)

        params = studio_params(
            work, work / "data", STUDIO_MAX_FILES_PER_INGEST="5000", STUDIO_ALLOWED_ROOTS=json.dumps([str(work)])
        )
        async with Client(params) as client:
            await client.call_tool("style_ingest", {"kit": "warm", "text": "warm up the embedder", "title": "w"})
            start = time.perf_counter()
            first = await client.call_tool("style_ingest", {"kit": "bench", "paths": ["corpus"]})
            first_s = time.perf_counter() - start
            assert not first.is_error, first.content
            added = first.structured_content["chunks_added"]
            start = time.perf_counter()
            again = await client.call_tool("style_ingest", {"kit": "bench", "paths": ["corpus"]})
            again_s = time.perf_counter() - start
            assert again.structured_content["chunks_added"] == 0
        # The server has closed its collection: the baseline reads a copy, so two processes never share one.
        shutil.copytree(work / "data" / "chroma", work / "raw-chroma")
        raw = RawQuery(work / "raw-chroma")

        figures: dict[str, list[float]] = {"p50": [], "p99": [], "raw p50": [], "raw p99": []}
        ratios: dict[str, list[float]] = {"p50": [], "p99": []}
        async with Client(params) as client:

            async def served(query: str) -> float:
                start = time.perf_counter()
                result = await client.call_tool("style_search", {"query": query, "kit": "bench"})
                elapsed = time.perf_counter() - start
                assert not result.is_error
                return elapsed

            for query in queries[:10]:  # warm both
                await served(query)
                raw(query)
            for run in range(runs):
                mine, theirs = [], []
                for i, query in enumerate(queries[10 + run * n_queries : 10 + (run + 1) * n_queries]):
                    if i % 2 == 0:  # interleaved, alternating who goes first
                        mine.append(await served(query))
                        theirs.append(raw(query))
                    else:
                        theirs.append(raw(query))
                        mine.append(await served(query))
                for name, values in (("", mine), ("raw ", theirs)):
                    figures[f"{name}p50"].append(median(values))
                    figures[f"{name}p99"].append(percentile(values, 0.99))
                for q in ("p50", "p99"):
                    ratios[q].append(figures[q][-1] / figures[f"raw {q}"][-1])

    ingest_rate = added / first_s
    print(f"style benchmarks, {added} chunks; search: {runs} runs of {n_queries} interleaved queries")
    print(f"  raw embedder batch : {embed_rate:8.1f} chunks/s")
    print(
        f"  style_ingest (MCP) : {ingest_rate:8.1f} chunks/s   ratio {ingest_rate / embed_rate:.2f}x (target >= 0.9x)"
    )
    speedup = first_s / again_s
    print(f"  unchanged re-ingest: {again_s:.2f} s vs first {first_s:.2f} s   {speedup:.0f}x faster (target >= 50x)")
    print("  (search figures: the median over runs, with the min and max)")
    for label, name in (("style_search stdio", ""), ("raw chromadb query", "raw ")):
        p50, p99 = figures[f"{name}p50"], figures[f"{name}p99"]
        print(f"  {label} : p50 {spread(p50, ' ms', 1000, 1)}  p99 {spread(p99, ' ms', 1000, 1)}")
    print(f"  ratio p50          : {spread(ratios['p50'], 'x')} (target <= 1.3x)")
    print(f"  ratio p99          : {spread(ratios['p99'], 'x')} (target <= 1.5x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300, help="per run")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    anyio.run(main, args.chunks, args.queries, args.runs)
