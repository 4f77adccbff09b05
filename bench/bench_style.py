"""Style retrieval benchmarks, each a ratio against a baseline measured in the same run.

1. Ingest throughput through MCP (style_ingest over stdio) against the embedder's raw batch
   throughput on the same chunks. Target >= 0.9x. Unchanged re-ingest >= 50x faster than the first.
2. style_search latency over stdio on an N-chunk kit (default 10,000; --chunks 100000 for the
   large option): p50 and p95 against an in-process raw chromadb query with the same embedder on
   the same collection. Target p50 <= 1.3x.

Run: .venv/bin/python -m bench.bench_style [--chunks N] [--queries Q]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import anyio
from mcp import Client

from bench.common import median, percentile, studio_params

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


def raw_query_latencies(data_dir: Path, queries: list[str]) -> list[float]:
    import chromadb

    from tools.style.embedder import MiniLMEmbedder

    embedder = MiniLMEmbedder()
    embedder.embed_sync(["warm up"])
    client = chromadb.PersistentClient(
        path=str(data_dir / "chroma"), settings=chromadb.Settings(anonymized_telemetry=False)
    )
    collection = client.get_collection("studio-kit-bench", embedding_function=None)
    latencies = []
    for query in queries:
        start = time.perf_counter()
        [vector] = embedder.embed_sync([query])
        query_embeddings: list[Sequence[float]] = [vector]
        collection.query(
            query_embeddings=query_embeddings, n_results=5, include=["documents", "metadatas", "distances"]
        )
        latencies.append(time.perf_counter() - start)
    return latencies


async def main(chunks: int, n_queries: int) -> None:
    rng = random.Random(11)
    queries = [" ".join(rng.choice(WORDS) for _ in range(6)) for _ in range(n_queries)]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "corpus").mkdir()
        texts = make_corpus(work / "corpus", chunks)
        embed_rate = raw_embed_rate(texts)

        latencies: list[float] = []
        async with Client(studio_params(work, work / "data", STUDIO_MAX_FILES_PER_INGEST="5000")) as client:
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
            for query in queries[:10]:
                await client.call_tool("style_search", {"query": query, "kit": "bench"})
            for query in queries:
                start = time.perf_counter()
                result = await client.call_tool("style_search", {"query": query, "kit": "bench"})
                latencies.append(time.perf_counter() - start)
                assert not result.is_error
        raw = raw_query_latencies(work / "data", queries[:10] + queries)[10:]

    ingest_rate = added / first_s
    print(f"style benchmarks, {added} chunks, {n_queries} queries")
    print(f"  raw embedder batch : {embed_rate:8.1f} chunks/s")
    print(
        f"  style_ingest (MCP) : {ingest_rate:8.1f} chunks/s   ratio {ingest_rate / embed_rate:.2f}x (target >= 0.9x)"
    )
    speedup = first_s / again_s
    print(f"  unchanged re-ingest: {again_s:.2f} s vs first {first_s:.2f} s   {speedup:.0f}x faster (target >= 50x)")
    p50, p95 = median(latencies), percentile(latencies, 0.95)
    r50, r95 = median(raw), percentile(raw, 0.95)
    print(f"  style_search stdio : p50 {p50 * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms")
    print(f"  raw chromadb query : p50 {r50 * 1000:6.1f} ms  p95 {r95 * 1000:6.1f} ms")
    print(f"  ratio              : p50 {p50 / r50:.2f}x (target <= 1.3x)  p95 {p95 / r95:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    anyio.run(main, args.chunks, args.queries)
