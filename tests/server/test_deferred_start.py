"""`serve` over stdio answers the handshake and the lists before its families load, and nothing
changes for the client once they have: the manifest is the loaded server's lists, a call made at
once waits for the families, and a start-up failure is every call's answer instead of a dead server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from server.deferred import MANIFEST
from server.manifest import manifest_text
from tests.conftest import stdio_params
from tests.helpers import call, error_text


def test_the_manifest_is_what_the_loaded_server_lists() -> None:
    assert MANIFEST.read_text(encoding="utf-8") == manifest_text(), (
        "server/manifest.json is out of date: run `.venv/bin/python -m server.manifest` and commit it"
    )


async def lists(client: Client) -> list[Any]:
    return [
        [tool.model_dump() for tool in (await client.list_tools()).tools],
        [resource.model_dump() for resource in (await client.list_resources()).resources],
        [template.model_dump() for template in (await client.list_resource_templates()).resource_templates],
        [prompt.model_dump() for prompt in (await client.list_prompts()).prompts],
    ]


@pytest.mark.anyio
async def test_the_lists_before_and_after_loading_are_the_same(tmp_path: Path) -> None:
    async with Client(stdio_params(tmp_path, tmp_path / "data")) as client:
        early = await lists(client)  # the families start loading once tools/list is answered
        created = await call(client, "production_create", name="Les Misérables", kit="house", logline="A", tone="b")
        late = await lists(client)
    assert created["id"] == "les-miserables"
    assert len(early[0]) >= 30 and any(tool["name"] == "video_generate" for tool in early[0])
    assert early == late


@pytest.mark.anyio
async def test_a_call_before_any_list_waits_for_the_families(tmp_path: Path) -> None:
    async with Client(stdio_params(tmp_path, tmp_path / "data")) as client:
        created = await call(client, "production_create", name="Night Ferry", kit="house", logline="A", tone="b")
        got = await call(client, "production_get", production="night-ferry")
    assert created["id"] == "night-ferry"
    assert got["name"] == "Night Ferry"


@pytest.mark.anyio
async def test_a_failed_start_is_each_calls_answer_and_the_server_keeps_serving(tmp_path: Path) -> None:
    unreachable = {"STUDIO_STATE_URL": "postgresql://studio@127.0.0.1:9/studio", "STUDIO_STATE_TIMEOUT_S": "2"}
    async with Client(stdio_params(tmp_path, tmp_path / "data", **unreachable)) as client:
        listed = await client.list_tools()
        first = await client.call_tool("production_get", {"production": "night-ferry"})
        listed_again = await client.list_tools()
        second = await client.call_tool("cost_estimate", {"model": "veo-3.1-fast-generate-001", "duration_s": 8})
    assert listed.tools and listed_again.tools == listed.tools
    for result in (first, second):
        assert result.is_error
        text = error_text(result)
        assert text.startswith("studio-mcp could not start: ") and "127.0.0.1:9" in text and "doctor" in text
