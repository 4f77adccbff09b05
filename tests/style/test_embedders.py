"""The optional embedders: Gemini embeddings through the real SDK (against the fake), and Chroma's
ONNX embedder refused offline; a kit remembers which embedder built it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import make_workdir, start_http_server, stop
from tests.fake_gemini import FakeGemini
from tests.helpers import error_text, result_data

FAST = {"STUDIO_GENAI_MAX_RETRIES": "1", "STUDIO_GENAI_RETRY_INITIAL_DELAY_S": "0.01", "STUDIO_GENAI_TIMEOUT_S": "10"}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGemini]:
    with FakeGemini(embedding_dim=64) as server:
        yield server


async def test_gemini_embedder_builds_a_kit_that_minilm_then_refuses(tmp_path: Path, fake: FakeGemini) -> None:
    workdir = make_workdir(tmp_path / "work")
    gemini = start_http_server(
        workdir, STUDIO_EMBEDDER="gemini", GEMINI_API_KEY="test-key", GOOGLE_GEMINI_BASE_URL=fake.url, **FAST
    )
    try:
        async with gemini.client() as client:
            ingest = result_data(
                await client.call_tool("style_ingest", {"kit": "gem", "paths": ["sample_kit/characters"]})
            )
            assert ingest["embedder"] == "gemini/gemini-embedding-001" and ingest["chunks_added"] > 5
            everything = result_data(
                await client.call_tool("style_search", {"query": "anything", "kit": "gem", "k": 50})
            )
            target = everything["hits"][3]
            # The fake's vectors are hashes of the text: the exact chunk text finds itself, scoring 1.
            found = result_data(await client.call_tool("style_search", {"query": target["text"], "kit": "gem", "k": 1}))
            assert found["hits"][0]["id"] == target["id"] and found["hits"][0]["score"] == pytest.approx(1.0, abs=1e-3)
        embeds = fake.requests_to("gemini-embedding-001:batchEmbedContents")
        assert embeds and all("test-key" not in str(r) for r in embeds)
    finally:
        stop(gemini.proc)

    minilm = start_http_server(workdir)
    try:
        async with minilm.client() as client:
            message = error_text(await client.call_tool("style_search", {"query": "coat", "kit": "gem"}))
            assert "gemini/gemini-embedding-001" in message and "minilm/all-MiniLM-L6-v2" in message
            # searching every kit skips the one it cannot read rather than failing
            assert result_data(await client.call_tool("style_search", {"query": "coat"}))["hits"] == []
    finally:
        stop(minilm.proc)


async def test_gemini_embedder_without_a_key_says_what_to_set(tmp_path: Path) -> None:
    server = start_http_server(make_workdir(tmp_path / "work"), STUDIO_EMBEDDER="gemini")
    try:
        async with server.client() as client:
            message = error_text(
                await client.call_tool("style_ingest", {"kit": "nokey", "text": "x y z", "title": "t"})
            )
            assert "GEMINI_API_KEY" in message
            assert result_data(await client.call_tool("style_kits", {}))["kits"] == []
    finally:
        stop(server.proc)


async def test_chroma_onnx_embedder_is_refused_offline_instead_of_downloading(tmp_path: Path) -> None:
    # A HOME with no cached ONNX model: the server must refuse, never try to download.
    server = start_http_server(make_workdir(tmp_path / "work"), STUDIO_EMBEDDER="chroma-onnx", HOME=str(tmp_path))
    try:
        async with server.client() as client:
            message = error_text(await client.call_tool("style_ingest", {"kit": "onnx", "text": "x y z", "title": "t"}))
            assert "never downloads" in message and "STUDIO_EMBEDDER=minilm" in message
            assert result_data(await client.call_tool("style_kits", {}))["kits"] == []
    finally:
        stop(server.proc)
