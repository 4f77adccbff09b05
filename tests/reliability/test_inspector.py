"""The MCP Inspector CLI (the npm package @modelcontextprotocol/inspector, pinned in
tests/inspector/package.json) drives `.venv/bin/studio-mcp serve` over stdio: it lists the tools
and calls two of them, the second reading back what the first wrote, in a server of its own.

Install it with `npm ci --prefix tests/inspector` (what .ci/run does).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BIN, REPO

INSPECTOR = REPO / "tests" / "inspector" / "node_modules" / ".bin" / "mcp-inspector"

pytestmark = pytest.mark.skipif(
    not INSPECTOR.exists() or shutil.which("node") is None,
    reason="MCP Inspector NOT INSTALLED: run `npm ci --prefix tests/inspector` (needs node); this test is skipped",
)


def inspect(data_dir: Path, *method: str) -> dict[str, Any]:
    """One Inspector CLI run against a fresh `studio-mcp serve` subprocess; its JSON answer."""
    command = [
        str(INSPECTOR),
        "--cli",
        "-e",
        f"STUDIO_DATA_DIR={data_dir}",
        "-e",
        "STUDIO_LOG_LEVEL=WARNING",
        str(BIN / "studio-mcp"),
        "serve",
        *method,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, cwd=data_dir.parent)
    assert done.returncode == 0, f"inspector failed ({done.returncode}): {done.stderr[-2000:]}"
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def test_inspector_lists_the_tools_and_calls_two(tmp_path: Path) -> None:
    data_dir = tmp_path / "studio-data"
    listed = inspect(data_dir, "--method", "tools/list")
    names = {tool["name"] for tool in listed["tools"]}
    assert {"style_ingest", "production_create", "production_get", "video_generate", "cost_estimate"} <= names
    assert all(tool["inputSchema"]["type"] == "object" for tool in listed["tools"])

    created = inspect(
        data_dir,
        "--method",
        "tools/call",
        "--tool-name",
        "production_create",
        "--tool-arg",
        "name=Inspector Ferry",
        "--tool-arg",
        "kit=inspector-kit",
        "--tool-arg",
        "logline=A ferry pilot carries lanterns across a dark harbour.",
        "--tool-arg",
        "tone=quiet, warm",
    )
    assert created["isError"] is False, created
    pid = created["structuredContent"]["id"]

    fetched = inspect(
        data_dir, "--method", "tools/call", "--tool-name", "production_get", "--tool-arg", f"production={pid}"
    )
    assert fetched["isError"] is False, fetched
    assert fetched["structuredContent"]["id"] == pid
    assert "lanterns" in json.dumps(fetched["structuredContent"])
