"""The style family over real MCP clients: stdio subprocess, and HTTP on embedded and server Chroma."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from tests.conftest import SAMPLE_KIT, RunningServer, start_http_server, stdio_params, stop
from tests.helpers import build_app, error_text, result_data

STYLE_TOOLS = {"style_ingest", "style_search", "style_kits", "style_remove"}

# Queries whose right answers are known from the sample kit's contents.
KNOWN_ANSWERS = [
    ("Mara's wardrobe: coat, scarf, trousers and boots", "characters/mara.md", ["mara"]),
    ("which eyebrow carries the scar", "characters/mara.md", ["mara"]),
    ("Ode's silver beard and oilskin jacket", "characters/ode.md", ["ode"]),
    ("camera movement rules for the film", "style_bible.md", []),
    ("typeface for title cards", "brand_palette.json", []),
]

# A chunk of another embedder's size (3 dimensions), for the mismatch test.
FOREIGN_VECTOR: list[Sequence[float]] = [[0.0, 0.0, 0.0]]


def _schema_has_ref(schema: Any) -> bool:
    return "$ref" in json.dumps(schema) or "$defs" in json.dumps(schema)


async def test_stdio_tools_list_and_a_search_roundtrip(tmp_path: Path, state_store: str) -> None:
    shutil.copytree(SAMPLE_KIT, tmp_path / "kit")
    async with Client(stdio_params(tmp_path, tmp_path / "data")) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert STYLE_TOOLS <= set(tools)
        for name in STYLE_TOOLS:
            assert tools[name].output_schema, f"{name} has no output schema"
            assert not _schema_has_ref(tools[name].input_schema), f"{name} input schema uses $ref"
        ingest = result_data(await client.call_tool("style_ingest", {"kit": "stdio-kit", "paths": ["kit/characters"]}))
        assert {s["source"] for s in ingest["sources"]} == {"kit/characters/mara.md", "kit/characters/ode.md"}
        hits = result_data(await client.call_tool("style_search", {"query": "red wool coat", "k": 1}))["hits"]
        assert hits[0]["source"] == "kit/characters/mara.md"
        assert (tmp_path / "data" / "chroma").is_dir()
        # The state store is SQLite in the data directory unless the tests run on PostgreSQL.
        assert (tmp_path / "data" / "state.sqlite3").exists() == (state_store == "sqlite")


async def test_ingest_the_sample_kit_and_find_known_answers(any_server: RunningServer) -> None:
    kit = f"sample-{any_server.data_dir.parent.name}"
    async with any_server.client() as client:
        ingest = result_data(await client.call_tool("style_ingest", {"kit": kit, "paths": ["sample_kit"]}))
        kinds = {Path(s["source"]).name: s["kind"] for s in ingest["sources"]}
        assert kinds["mara.md"] == "character" and kinds["brand_palette.json"] == "palette"
        assert kinds["harbour_dusk.png"] == "reference_image" and kinds["treatment.pdf"] == "guide"
        assert ingest["chunks_added"] > 20 and ingest["embedder"] == "minilm/all-MiniLM-L6-v2"

        for query, source, entities in KNOWN_ANSWERS:
            hits = result_data(await client.call_tool("style_search", {"query": query, "kit": kit, "k": 3}))["hits"]
            assert hits[0]["source"].endswith(source), (query, [h["source"] for h in hits])
            if entities:
                assert hits[0]["entities"] == entities
            assert hits == sorted(hits, key=lambda h: -h["score"])

        # Filters: only character material about Ode.
        hits = result_data(
            await client.call_tool(
                "style_search", {"query": "jacket", "kit": kit, "kinds": ["character"], "entities": ["ode"], "k": 10}
            )
        )["hits"]
        assert hits and all(h["kind"] == "character" and "ode" in h["entities"] for h in hits)
        # A reference image is found by its palette names.
        hits = result_data(
            await client.call_tool(
                "style_search", {"query": "amber lantern glow reference", "kit": kit, "kinds": ["reference_image"]}
            )
        )["hits"]
        assert hits[0]["source"].endswith("lantern_glow.png")
        assert "#" in hits[0]["text"]  # the palette's hex codes are indexed

        # Unchanged re-ingest does nothing.
        again = result_data(await client.call_tool("style_ingest", {"kit": kit, "paths": ["sample_kit"]}))
        assert again["chunks_added"] == 0 and again["chunks_removed"] == 0
        assert {s["status"] for s in again["sources"]} == {"unchanged"}

        kits = result_data(await client.call_tool("style_kits", {}))["kits"]
        mine = next(k for k in kits if k["kit"] == kit)
        assert mine["chunks"] == ingest["chunks_added"] and len(mine["sources"]) == len(ingest["sources"])
        resource = await client.read_resource(f"studio://kits/{kit}")
        assert json.loads(resource.contents[0].text)["chunks"] == mine["chunks"]  # type: ignore[union-attr]
        listing = json.loads((await client.read_resource("studio://kits")).contents[0].text)  # type: ignore[union-attr]
        assert kit in {k["kit"] for k in listing["kits"]}
        with pytest.raises(MCPError, match="Unknown kit 'no-such-kit'"):
            await client.read_resource("studio://kits/no-such-kit")


async def test_changed_file_replaces_its_chunks(embedded_server: RunningServer) -> None:
    notes = embedded_server.workdir / "notes-replace"
    notes.mkdir()
    page = notes / "director.md"
    page.write_text("# Director\n\n## Fog\n\nThe fog is always lemon yellow on the harbour.\n")
    async with embedded_server.client() as client:
        first = result_data(await client.call_tool("style_ingest", {"kit": "replace", "paths": ["notes-replace"]}))
        assert first["sources"][0]["status"] == "added"
        page.write_text("# Director\n\n## Fog\n\nThe fog is cold slate grey, never yellow.\n")
        second = result_data(await client.call_tool("style_ingest", {"kit": "replace", "paths": ["notes-replace"]}))
        assert second["sources"][0]["status"] == "replaced" and second["chunks_removed"] >= 1
        hits = result_data(await client.call_tool("style_search", {"query": "fog colour", "kit": "replace", "k": 10}))
        texts = " ".join(h["text"] for h in hits["hits"])
        assert "slate grey" in texts and "lemon yellow" not in texts
        kit = result_data(await client.call_tool("style_kits", {}))
        [info] = [k for k in kit["kits"] if k["kit"] == "replace"]
        assert info["chunks"] == second["sources"][0]["chunks"]

        removed = result_data(
            await client.call_tool("style_remove", {"kit": "replace", "source": "notes-replace/director.md"})
        )
        assert removed["chunks_removed"] == info["chunks"] and not removed["kit_deleted"]
        hits = result_data(await client.call_tool("style_search", {"query": "fog colour", "kit": "replace"}))
        assert hits["hits"] == []
        removed = result_data(await client.call_tool("style_remove", {"kit": "replace"}))
        assert removed["kit_deleted"]
        assert "Unknown kit 'replace'" in error_text(
            await client.call_tool("style_search", {"query": "x", "kit": "replace"})
        )


async def test_inline_text(embedded_server: RunningServer) -> None:
    async with embedded_server.client() as client:
        result = result_data(
            await client.call_tool(
                "style_ingest",
                {
                    "kit": "inline",
                    "text": "Never show the lighthouse lamp lit before scene 9.",
                    "title": "Lamp rule",
                    "kind": "director_note",
                    "entities": ["lighthouse"],
                    "tags": ["lamp"],
                },
            )
        )
        assert result["sources"][0] == {
            "source": "inline:Lamp rule",
            "kind": "director_note",
            "status": "added",
            "chunks": 1,
        }
        hits = result_data(
            await client.call_tool(
                "style_search",
                {
                    "query": "when can the lighthouse be lit",
                    "kinds": ["director_note"],
                    "entities": ["lighthouse"],
                },
            )
        )["hits"]
        assert hits[0]["source"] == "inline:Lamp rule" and hits[0]["tags"] == ["lamp"]


BAD_CALLS: list[tuple[str, dict[str, Any], str]] = [
    ("style_ingest", {"kit": "bad"}, "Nothing to ingest"),
    ("style_ingest", {"kit": "bad", "text": "   ", "title": "t"}, "empty"),
    ("style_ingest", {"kit": "bad", "text": "x" * 300_000, "title": "t"}, "limit"),
    ("style_ingest", {"kit": "bad", "text": "hello"}, "needs a title"),
    ("style_ingest", {"kit": "bad kit!", "text": "hello", "title": "t"}, "not valid"),
    ("style_ingest", {"kit": "bad", "paths": ["bad-inputs/script.exe"]}, "supported"),
    ("style_ingest", {"kit": "bad", "paths": ["bad-inputs/broken.pdf"]}, "PDF"),
    ("style_ingest", {"kit": "bad", "paths": ["bad-inputs/broken.png"]}, "image"),
    ("style_ingest", {"kit": "bad", "paths": ["bad-inputs/broken.json"]}, "JSON"),
    ("style_ingest", {"kit": "bad", "paths": ["../outside.md"]}, "'..'"),
    ("style_ingest", {"kit": "bad", "paths": ["/etc/hostname"]}, "outside the allowed roots"),
    ("style_ingest", {"kit": "bad", "paths": ["bad-inputs/escape.md"]}, "outside the allowed roots"),
    ("style_ingest", {"kit": "bad", "paths": ["bad-inputs/missing.md"]}, "does not exist"),
    ("style_ingest", {"kit": "bad", "paths": ["bad-inputs/" + "n" * 300 + ".md"]}, "cannot be read"),
    ("style_ingest", {"kit": "bad", "paths": ["many-files"]}, "more than"),
    ("style_ingest", {"kit": "bad", "text": "hi", "title": "t", "kind": "poster"}, "kind"),
    ("style_search", {"query": "coat", "k": 0}, "`k` must be an integer from 1 to 50, got 0"),
    ("style_search", {"query": "coat", "k": 51}, "`k` must be an integer from 1 to 50, got 51"),
    ("style_search", {"query": "  "}, "empty"),
    ("style_search", {"query": "coat", "kit": "no-such-kit"}, "Unknown kit"),
    ("style_search", {"query": "coat", "kinds": ["poster"]}, "kinds"),
    ("style_search", {"query": "coat", "entities": [""]}, "empty value"),
    ("style_remove", {"kit": "no-such-kit"}, "Unknown kit"),
]


@pytest.fixture(scope="module")
def bad_inputs(embedded_server: RunningServer) -> RunningServer:
    folder = embedded_server.workdir / "bad-inputs"
    folder.mkdir(exist_ok=True)
    (folder / "script.exe").write_bytes(b"MZ\x90\x00")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n this is not really a pdf")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    (folder / "broken.json").write_text('{"palette": [ {"name": "x", ')
    outside = embedded_server.workdir.parent / "outside-secret.md"
    outside.write_text("# secret\n\nnot for the kit\n")
    escape = folder / "escape.md"
    if not escape.exists():
        escape.symlink_to(outside)
    many = embedded_server.workdir / "many-files"
    many.mkdir(exist_ok=True)
    for i in range(501):
        (many / f"note-{i}.txt").write_text(f"note {i}")
    return embedded_server


@pytest.mark.parametrize(("tool", "args", "expected"), BAD_CALLS)
async def test_bad_input_is_a_clear_error_and_changes_nothing(
    bad_inputs: RunningServer, tool: str, args: dict[str, Any], expected: str
) -> None:
    async with bad_inputs.client() as client:
        before = result_data(await client.call_tool("style_kits", {}))
        message = error_text(await client.call_tool(tool, args))
        assert expected.lower() in message.lower(), message
        after = result_data(await client.call_tool("style_kits", {}))
        assert after == before
        assert "bad" not in {k["kit"] for k in after["kits"]}
        # and the server keeps serving
        assert result_data(await client.call_tool("style_kits", {}))["kits"] == after["kits"]


async def test_a_bad_file_among_good_ones_ingests_nothing(bad_inputs: RunningServer) -> None:
    async with bad_inputs.client() as client:
        message = error_text(
            await client.call_tool(
                "style_ingest", {"kit": "mixed", "paths": ["sample_kit/characters", "bad-inputs/broken.pdf"]}
            )
        )
        assert "Nothing was ingested" in message
        kits = result_data(await client.call_tool("style_kits", {}))["kits"]
        assert "mixed" not in {k["kit"] for k in kits}


async def test_kit_built_by_another_embedder_is_refused(chroma_server_mcp: RunningServer, chroma_http: int) -> None:
    import chromadb

    raw = chromadb.HttpClient(host="127.0.0.1", port=chroma_http)
    raw.get_or_create_collection(
        "studio-kit-foreign",
        metadata={"kit": "foreign", "embedder": "gemini/gemini-embedding-001"},
        embedding_function=None,
    ).add(ids=["x"], embeddings=FOREIGN_VECTOR, documents=["a foreign chunk"], metadatas=[{"source": "f.md"}])
    async with chroma_server_mcp.client() as client:
        for tool, args in [
            ("style_search", {"query": "coat", "kit": "foreign"}),
            ("style_ingest", {"kit": "foreign", "text": "more", "title": "t"}),
        ]:
            message = error_text(await client.call_tool(tool, args))
            assert "gemini/gemini-embedding-001" in message and "minilm/all-MiniLM-L6-v2" in message
            assert "style_remove" in message
    assert raw.get_collection("studio-kit-foreign").count() == 1


async def test_interrupted_ingest_leaves_no_half_indexed_file(tmp_path: Path) -> None:
    """SIGKILL-equivalent exit in the middle of writing a changed file's chunks, then a restart."""
    page = tmp_path / "bible.md"
    old = "# Bible\n\n" + "\n\n".join(f"## Old {i}\n\nOld rule number {i} about the harbour." for i in range(6))
    new = "# Bible\n\n" + "\n\n".join(f"## New {i}\n\nNew rule number {i} about the lighthouse." for i in range(6))
    page.write_text(old)
    data = tmp_path / "data"
    async with Client(stdio_params(tmp_path, data)) as client:
        first = result_data(await client.call_tool("style_ingest", {"kit": "crash", "paths": ["bible.md"]}))
    page.write_text(new)
    lease = {"STUDIO_INGEST_LEASE_S": "1"}  # the dead writer's journal rows are settleable a second after it died
    with pytest.raises(Exception):  # noqa: B017 - the server dies mid-call; the client sees the pipe close
        # Small write batches, so the crash falls between two of them.
        crash = {"STUDIO_TEST_CRASH_AT": "style.mid_upsert", "STUDIO_INGEST_WRITE_BATCH": "2", **lease}
        async with Client(stdio_params(tmp_path, data, **crash)) as client:
            await client.call_tool("style_ingest", {"kit": "crash", "paths": ["bible.md"]})
    await anyio.sleep(1.5)
    async with Client(stdio_params(tmp_path, data, **lease)) as client:
        kits = result_data(await client.call_tool("style_kits", {}))["kits"]
        [info] = [k for k in kits if k["kit"] == "crash"]
        assert info["chunks"] == first["sources"][0]["chunks"]  # the old version, whole
        hits = result_data(await client.call_tool("style_search", {"query": "rule", "kit": "crash", "k": 50}))["hits"]
        assert hits and all("Old rule" in h["text"] for h in hits)
        again = result_data(await client.call_tool("style_ingest", {"kit": "crash", "paths": ["bible.md"]}))
        assert again["sources"][0]["status"] == "replaced"
        hits = result_data(await client.call_tool("style_search", {"query": "rule", "kit": "crash", "k": 50}))["hits"]
        assert hits and all("New rule" in h["text"] for h in hits)


async def test_client_roots_extend_the_allowed_roots(tmp_path: Path) -> None:
    from mcp import types

    work, elsewhere = tmp_path / "work", tmp_path / "client-project"
    work.mkdir()
    elsewhere.mkdir()
    (elsewhere / "look.md").write_text("# Look\n\nThe ferry's hull is painted oxblood.\n")
    args = {"kit": "roots", "paths": [str(elsewhere / "look.md")]}

    async with Client(stdio_params(work, work / "data")) as client:
        assert "outside the allowed roots" in error_text(await client.call_tool("style_ingest", args))

    async def offer_roots(context: Any) -> types.ListRootsResult:
        return types.ListRootsResult(roots=[types.Root(uri=elsewhere.as_uri(), name="client project")])

    # Roots are a handshake-era capability (deprecated in 2026-07-28), so this client speaks that protocol.
    async with Client(stdio_params(work, work / "data"), list_roots_callback=offer_roots, mode="legacy") as client:
        result = result_data(await client.call_tool("style_ingest", args))
        assert result["sources"][0]["status"] == "added"


async def test_answers_name_sources_relative_to_their_root_never_by_server_path(
    tmp_path: Path, chroma_http: int
) -> None:
    """On a shared server the absolute paths of its files are a disclosure: every style answer (ingest
    results, skipped files, hits, kit listings, errors) names a file relative to the allowed root it was
    found under, prefixed with that root's name. A source an older version stored under its absolute path
    is shown the same way, and style_remove takes that name."""
    import chromadb

    library = tmp_path / "srv" / "studio" / "library"
    shutil.copytree(SAMPLE_KIT / "characters", library / "characters")
    (library / "characters" / "notes.xyz").write_text("not a supported type")
    big = tmp_path / "srv" / "studio" / "big"
    big.mkdir()
    (big / "huge.md").write_text("# Huge\n\n" + "The harbour at dusk. " * 4000)
    # The working directory is not a root here, and neither root lies under it.
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    server = start_http_server(
        workdir,
        STUDIO_ALLOWED_ROOTS=json.dumps([str(library), str(big)]),
        STUDIO_MAX_FILE_MB="0.05",
        STUDIO_CHROMA_MODE="http",
        STUDIO_CHROMA_HOST="127.0.0.1",
        STUDIO_CHROMA_PORT=str(chroma_http),
    )
    kit = f"relative-{tmp_path.name}"[:60]
    answers: list[str] = []
    try:
        async with server.client() as client:

            async def ask(tool: str, args: dict[str, Any]) -> Any:
                result = await client.call_tool(tool, args)
                answers.append(
                    json.dumps(result.structured_content) + " ".join(getattr(c, "text", "") for c in result.content)
                )
                return result

            ingest = result_data(await ask("style_ingest", {"kit": kit, "paths": [str(library / "characters")]}))
            assert {s["source"] for s in ingest["sources"]} == {
                "library/characters/mara.md",
                "library/characters/ode.md",
            }
            assert [s["path"] for s in ingest["skipped"]] == ["library/characters/notes.xyz"]
            too_big = error_text(await ask("style_ingest", {"kit": kit, "paths": [str(big / "huge.md")]}))
            assert "big/huge.md is larger than" in too_big, too_big

            # A source written by an older version, under its absolute path on the server.
            legacy_path = library / "characters" / "legacy.md"
            raw = chromadb.HttpClient(host="127.0.0.1", port=chroma_http).get_collection(f"studio-kit-{kit}")
            stored = raw.get(limit=1, include=["embeddings"])["embeddings"]
            assert stored is not None
            vectors: list[Sequence[float]] = [[float(x) for x in stored[0]]]
            raw.add(
                ids=["legacy-chunk"],
                embeddings=vectors,
                documents=["Legacy note: Mara's red wool coat is buttoned to the collar."],
                metadatas=[{"kit": kit, "kind": "character", "source": str(legacy_path), "title": "Legacy"}],
            )
            hits = result_data(await ask("style_search", {"query": "Mara red wool coat", "kit": kit, "k": 10}))["hits"]
            assert {h["source"] for h in hits} >= {"library/characters/mara.md", "library/characters/legacy.md"}
            [info] = [k for k in result_data(await ask("style_kits", {}))["kits"] if k["kit"] == kit]
            assert sorted(s["source"] for s in info["sources"]) == [
                "library/characters/legacy.md",
                "library/characters/mara.md",
                "library/characters/ode.md",
            ]
            missing = error_text(await ask("style_remove", {"kit": kit, "source": "library/characters/nobody.md"}))
            assert "library/characters/legacy.md" in missing, missing
            removed = result_data(await ask("style_remove", {"kit": kit, "source": "library/characters/legacy.md"}))
            assert removed["chunks_removed"] == 1
            removed = result_data(await ask("style_remove", {"kit": kit, "source": "library/characters/ode.md"}))
            assert removed["chunks_removed"] >= 1
    finally:
        stop(server.proc)
    leaks = [a for a in answers if str(tmp_path) in a or "/srv/studio" in a]
    assert not leaks, leaks[:3]


async def test_a_huge_list_argument_gives_one_short_error(tmp_path: Path) -> None:
    """Found by the fuzzer: 10,000 invalid `kinds` gave 10,004 validation errors in one 1.5 MB text. The
    style tools' lists are bounded in their schemas, so such a list is one error."""
    app = build_app(tmp_path / "data", "style")
    async with Client(app.server) as client:
        schemas = {t.name: t.input_schema for t in (await client.list_tools()).tools}
        assert schemas["style_search"]["properties"]["kinds"]["maxItems"] == 50
        calls: list[tuple[str, str, dict[str, Any]]] = [
            ("style_search", "kinds", {"query": "coat", "kinds": ["not-a-kind"] * 10_000}),
            ("style_search", "entities", {"query": "coat", "entities": [7] * 10_000}),
            ("style_ingest", "paths", {"kit": "k", "paths": ["x"] * 10_000}),
            ("style_ingest", "tags", {"kit": "k", "text": "t", "title": "t", "tags": [None] * 10_000}),
        ]
        for tool, argument, args in calls:
            text = error_text(await client.call_tool(tool, args))
            assert len(text) < 1000 and argument in text, (tool, len(text), text[:300])
