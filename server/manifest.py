"""The four lists the stdio server answers before its families load (server/deferred.py).

    python -m server.manifest     # rewrite server/manifest.json after changing a tool, resource or prompt

tests/server/test_deferred_start.py fails while the file and the loaded server's lists differ.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import anyio
from mcp.server import MCPServer
from mcp.types import ListPromptsResult, ListResourcesResult, ListResourceTemplatesResult, ListToolsResult

from core import Settings
from server.app import build_server
from server.deferred import MANIFEST


async def lists_of(server: MCPServer[Any]) -> dict[str, dict[str, Any]]:
    results = {
        "tools/list": ListToolsResult(tools=await server.list_tools()),
        "resources/list": ListResourcesResult(resources=await server.list_resources()),
        "resources/templates/list": ListResourceTemplatesResult(
            resource_templates=await server.list_resource_templates()
        ),
        "prompts/list": ListPromptsResult(prompts=await server.list_prompts()),
    }
    return {
        method: result.model_dump(by_alias=True, mode="json", exclude_none=True) for method, result in results.items()
    }


def manifest_text() -> str:
    """The manifest of a server built on the default settings (the lists do not depend on them)."""
    with tempfile.TemporaryDirectory() as data_dir:
        server = build_server(Settings(data_dir=Path(data_dir), allowed_roots=[Path(data_dir)]))
        return json.dumps(anyio.run(lists_of, server), indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    MANIFEST.write_text(manifest_text(), encoding="utf-8")
    print(f"wrote {MANIFEST}")
