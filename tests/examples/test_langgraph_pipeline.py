"""The LangGraph example runs as a user would run it: in its own environment (langchain-mcp-adapters
needs the MCP SDK 1.x; `.ci/run` builds `.venv-examples` from its requirements.txt), against this
server over stdio, offline on the generation stand-in, with the scripted reviewer."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import BIN, REPO, server_env

EXAMPLE = REPO / "examples" / "langgraph_pipeline" / "pipeline.py"
PYTHON = REPO / ".venv-examples" / "bin" / "python"


def test_the_graph_rejects_loops_back_and_approves_over_one_session(tmp_path: Path) -> None:
    assert PYTHON.exists(), (
        "the example's environment is missing: python3 -m venv .venv-examples && "
        ".venv-examples/bin/pip install -r examples/langgraph_pipeline/requirements.txt"
    )
    env = server_env(
        tmp_path / "data",
        STUDIO_MCP=str(BIN / "studio-mcp"),
        STUDIO_GENERATION="standin",
        STUDIO_VEO_POLL_INITIAL_S="0.2",
        STUDIO_LOG_LEVEL="INFO",  # the server logs its start once per process, on the stderr passed through
    )
    done = subprocess.run(
        [str(PYTHON), str(EXAMPLE), "--auto-review"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert [line for line in lines if line.startswith("review:")] == ["review: rejected", "review: approved"]
    assert sum(line.startswith("generate:") for line in lines) == 2
    first, second = (line.split(": ")[1] for line in lines if line.startswith("generate:"))
    assert f"approved {second} (parent {first}) after 2 reviews" in done.stdout
    assert "final prompt carries the review: True" in done.stdout
    # One server process served every node: one persistent session, not a process per call.
    assert done.stderr.count("studio-mcp data in") == 1, done.stderr[-2000:]
