"""The process as a user meets it: the CLI's doctor, settings, and the transports."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from mcp import Client

from tests.conftest import BIN, REPO, RunningServer, make_workdir, server_env, start_http_server, stdio_params, stop
from tests.helpers import call, result_data


def run_doctor(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "studio-mcp"), "doctor"],
        cwd=tmp_path,
        env=server_env(tmp_path / "data", **env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_doctor_reports_every_piece_and_masks_secrets(tmp_path: Path) -> None:
    secrets = {
        "STUDIO_CHROMA_TOKEN": "chroma-secret-123",
        "GEMINI_API_KEY": "AIzaSyFAKEKEYFORDOCTOR000000000000000",
        "STUDIO_HTTP_AUTH_TOKENS": "bearer-secret-for-doctor-0001,bearer-secret-for-doctor-0002",
        "STUDIO_HTTP_OAUTH_CLIENT_SECRET": "introspection-secret-for-doctor",
    }
    done = run_doctor(tmp_path, **secrets)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    for secret in secrets.values():
        assert secret not in out
    assert "chroma_token = ***" in done.stdout
    assert "http_auth_tokens = *** (2)" in done.stdout
    assert "[ok  ] HTTP auth: bearer tokens" in done.stdout
    assert "[ok  ] data directory" in done.stdout
    assert "[ok  ] chroma: embedded" in done.stdout
    assert "[ok  ] embedder: minilm/all-MiniLM-L6-v2, 384 dimensions" in done.stdout
    assert "[ok  ] Gemini Developer API: configured" in done.stdout
    assert "[off ] Vertex AI" in done.stdout and "Veo video and Imagen are disabled" in done.stdout


def test_doctor_fails_on_an_unusable_data_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data directory should be")
    done = subprocess.run(
        [str(BIN / "studio-mcp"), "doctor"],
        cwd=tmp_path,
        env=server_env(blocker / "data"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1
    assert "[FAIL] data directory" in done.stdout and "STUDIO_DATA_DIR" in done.stdout


def test_bad_settings_fail_fast_with_the_variable_named(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(BIN / "studio-mcp"), "serve"],
        cwd=tmp_path,
        env=server_env(tmp_path / "d", STUDIO_CHROMA_MODE="cloud"),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode != 0
    assert done.returncode == 2 and "STUDIO_CHROMA_MODE='cloud'" in done.stderr and done.stdout == ""


async def test_stdio_server_writes_nothing_but_protocol_to_stdout(tmp_path: Path) -> None:
    # The client parses every stdout line as JSON-RPC; a stray print would fail these calls.
    async with Client(stdio_params(tmp_path, tmp_path / "data", STUDIO_LOG_LEVEL="DEBUG")) as client:
        result = result_data(await client.call_tool("style_kits", {}))
        assert result == {"kits": []}
        listed = await client.list_resource_templates()
        assert {"studio://kits/{kit}"} <= {t.uri_template for t in listed.resource_templates}


async def test_http_transport_serves_the_same_tools(embedded_server: RunningServer) -> None:
    async with embedded_server.client() as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert {"style_ingest", "style_search", "style_kits", "style_remove"} <= names
        assert embedded_server.url.startswith("http://127.0.0.1:")


def test_start_up_imports_no_heavy_library(tmp_path: Path) -> None:
    # Cold start stays close to a bare MCP server only if these load on first use, not at start-up.
    heavy = ["torch", "sentence_transformers", "chromadb", "google.genai", "numpy", "skimage", "av", "cv2", "pypdf"]
    code = (
        "import sys; from server.app import build_server; from core import Settings; "
        f"build_server(Settings(data_dir={str(tmp_path / 'd')!r})); "
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    done = subprocess.run([str(BIN / "python"), "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


async def test_the_mcp_json_example_starts_the_server(tmp_path: Path) -> None:

    from mcp import StdioServerParameters

    entry = json.loads((REPO / "mcp.json").read_text())["mcpServers"]["studio"]
    assert Path(entry["command"]).name == "studio-mcp"
    env = {**server_env(tmp_path / "data"), **{k: v for k, v in entry["env"].items() if k != "STUDIO_DATA_DIR"}}
    env["STUDIO_ALLOWED_ROOTS"] = json.dumps([str(tmp_path)])  # the example's placeholder, made real
    params = StdioServerParameters(command=str(BIN / "studio-mcp"), args=entry["args"], env=env, cwd=str(tmp_path))
    async with Client(params) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert {"style_search", "production_create", "video_generate", "continuity_check_media"} <= names


async def test_stateless_replicas_share_one_chroma_server_and_one_state(tmp_path: Path, chroma_http: int) -> None:
    """Team mode: two stateless HTTP replicas on one Chroma server and one data directory."""
    chroma = {"STUDIO_CHROMA_MODE": "http", "STUDIO_CHROMA_HOST": "127.0.0.1", "STUDIO_CHROMA_PORT": str(chroma_http)}
    workdir = make_workdir(tmp_path / "team")
    replicas = [start_http_server(workdir, "--stateless", **chroma) for _ in range(2)]
    try:
        async with replicas[0].client() as first:
            await call(first, "style_ingest", {"kit": "team-kit", "paths": ["sample_kit/characters"]})
            created = await call(
                first,
                "production_create",
                {
                    "name": "Team Film",
                    "kit": "team-kit",
                    "logline": "Two replicas, one studio.",
                    "tone": "calm",
                },
            )
        async with replicas[1].client() as second:
            hits = (await call(second, "style_search", {"query": "silver beard", "kit": "team-kit", "k": 1}))["hits"]
            assert hits[0]["source"].endswith("characters/ode.md")
            got = await call(second, "production_get", {"production": created["id"]})
            assert got["brief"]["logline"] == "Two replicas, one studio."
    finally:
        for replica in replicas:
            stop(replica.proc)
