"""What a client reads before calling anything: every tool says whether it reads, writes, destroys or
reaches a paid API, and describes every parameter."""

from __future__ import annotations

from pathlib import Path

from mcp import Client

from tests.helpers import build_app

PAID = {"video_generate", "image_generate", "shots_plan"}


async def test_every_tool_carries_annotations_and_paid_tools_say_so(tmp_path: Path) -> None:
    async with Client(build_app(tmp_path / "data").server) as client:
        tools = (await client.list_tools()).tools
    assert len(tools) >= 35
    for tool in tools:
        hints = tool.annotations
        assert hints is not None, tool.name
        values = [hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint, hints.open_world_hint]
        assert all(isinstance(v, bool) for v in values), tool.name
        if tool.name in PAID:
            assert not hints.read_only_hint and hints.open_world_hint and not hints.idempotent_hint, tool.name
        for name, schema in tool.input_schema.get("properties", {}).items():
            assert schema.get("description") or name == "ctx", f"{tool.name}.{name} has no description"
    names = {t.name for t in tools}
    assert PAID <= names
    assert next(t for t in tools if t.name == "style_remove").annotations.destructive_hint  # type: ignore[union-attr]
