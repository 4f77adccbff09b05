"""Confinement does not depend on the working directory: the allowed roots are the data directory, the
configured roots and the client's roots, never the directory the server happened to start in."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mcp import Client, types

from tests.conftest import make_workdir, start_http_server, stdio_params, stop
from tests.helpers import call, error_text

SYSTEM_FILE = "/usr/lib/python3.11/LICENSE.txt" if Path("/usr/lib/python3.11/LICENSE.txt").exists() else os.__file__


async def test_started_in_slash_a_tool_cannot_read_system_files(tmp_path: Path) -> None:
    # as mcp.json starts it: no cwd of its own, no roots configured
    async with Client(stdio_params(Path("/"), tmp_path / "data", STUDIO_ALLOWED_ROOTS="")) as client:
        for path in [SYSTEM_FILE, SYSTEM_FILE.lstrip("/"), str(Path(SYSTEM_FILE).parent)]:
            result = await client.call_tool("style_ingest", {"kit": "stolen", "paths": [path]})
            text = error_text(result)
            assert "outside the allowed roots" in text, text
            assert "/usr/lib" not in text.replace(path, "")  # no server path beyond the caller's own
        assert await call(client, "style_kits") == {"kits": []}


async def test_allowed_roots_take_a_plain_path_or_a_path_list(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for root, word in [(first, "oxblood"), (second, "verdigris")]:
        root.mkdir()
        (root / f"{word}.md").write_text(f"# Look\n\nThe ferry's hull is painted {word}.\n")
    separated = f"{first}{os.pathsep}{second}"
    async with Client(stdio_params(Path("/"), tmp_path / "data", STUDIO_ALLOWED_ROOTS=separated)) as client:
        added = await call(client, "style_ingest", kit="roots", paths=[str(first), str(second / "verdigris.md")])
        assert sorted(Path(s["source"]).name for s in added["sources"]) == ["oxblood.md", "verdigris.md"]
    async with Client(stdio_params(Path("/"), tmp_path / "data", STUDIO_ALLOWED_ROOTS=str(first))) as client:
        assert (await call(client, "style_ingest", kit="plain", paths=[str(first)]))["sources"]
        refused = await client.call_tool("style_ingest", {"kit": "plain", "paths": [str(second)]})
        assert "outside the allowed roots ('first', 'data')" in error_text(refused)


async def test_client_roots_take_effect_on_stdio_and_http_in_both_protocol_eras(tmp_path: Path) -> None:
    """They never did for 2026-07-28 clients (roots/list sent mid-call: "no back-channel"); now the
    server asks with an InputRequiredResult there, and mid-call on the older protocol."""
    elsewhere = tmp_path / "client-project"
    elsewhere.mkdir()
    (elsewhere / "look.md").write_text("# Look\n\nThe ferry's hull is painted oxblood.\n")

    async def offer_roots(context: Any) -> types.ListRootsResult:
        return types.ListRootsResult(roots=[types.Root(uri=elsewhere.as_uri(), name="client project")])

    http = start_http_server(make_workdir(tmp_path / "http"))
    try:
        for name, server in [("stdio", stdio_params(tmp_path / "http", tmp_path / "stdio-data")), ("http", http.url)]:
            for mode in ["auto", "legacy"]:
                args = {"kit": f"roots-{mode}", "paths": [str(elsewhere / "look.md")]}
                async with Client(server, mode=mode) as client:  # type: ignore[arg-type]
                    refused = await client.call_tool("style_ingest", args)
                    assert "outside the allowed roots" in error_text(refused), (name, mode)
                async with Client(server, list_roots_callback=offer_roots, mode=mode) as client:  # type: ignore[arg-type]
                    added = await call(client, "style_ingest", args)
                    assert added["sources"][0]["status"] in ("added", "unchanged"), (name, mode)
    finally:
        stop(http.proc)
