"""Secrets never in tool results, errors, the server's log or any file of its data directory.

A server over HTTP, logging at DEBUG, holds distinctive fake secrets (the Gemini/Vertex key, a
Chroma token and header, a bearer token its clients present) and runs a workload that touches
every family, including upstream failures whose messages echo the API key back (a backend that
quotes the credential it refused must not make the server quote it too). Then every answer, the
log and every byte under the data directory are searched for each secret.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import RunningServer, make_workdir, start_http_server, stop
from tests.fake_gemini import FakeGeminiProcess
from tests.helpers import make_production, result_data
from tests.reliability.conftest import BEARER, SECRET_VALUES, SECRETS, genai_env
from tests.reliability.integrity import files_containing

KEY = SECRETS["GOOGLE_API_KEY"]
SHOTS = [
    {"number": 1, "description": "Mara lights the bow lantern as the ferry leaves.", "duration_s": 8},
    {"number": 2, "description": "Close on the lantern swinging in the wind.", "duration_s": 4},
]


def authorised(server: RunningServer) -> Client:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {BEARER}"}, timeout=120)
    return Client(streamable_http_client(server.url, http_client=http), read_timeout_seconds=120)


async def workload(client: Client, fake: FakeGeminiProcess) -> list[str]:
    """Calls across the families, with upstream faults; every answer's text, as the client saw it."""
    answers: list[str] = []

    async def ask(tool: str, **args: Any) -> Any:
        result = await client.call_tool(tool, args)
        answers.extend(getattr(c, "text", "") or "" for c in result.content)
        answers.append(repr(result.structured_content))
        return result

    await ask("style_ingest", kit="secret-kit", paths=["sample_kit"])
    await ask("style_search", query="Mara's coat", kit="secret-kit")
    pid = await make_production(client, "Secret Ferry", kit="secret-kit", budget_usd=50, shots={"1": SHOTS})
    await ask("continuity_set", production=pid, entity="Mara", kind="character", attributes={"coat": "red"})
    await ask("production_get", production=pid)
    image = result_data(await ask("image_generate", production=pid, shot="1/1"))
    await ask("continuity_check_media", production=pid, asset=image["asset"]["id"])
    job = result_data(await ask("video_generate", production=pid, shot="1/2", duration_s=4))
    await ask("video_job", job=job["id"], wait_s=30)
    await ask("shots_plan", production=pid, scene="2", count=2)
    await ask("continuity_check_prompt", production=pid, shot="1/1", judge=True)

    # Upstream failures that quote the key: refused credentials, a server error, a failed operation.
    echo = f"API key {KEY} is not valid for this project."
    fake.add_fault(":generateContent", "status", times=None, status=403, message=echo)
    fake.add_fault(":predict", "status", times=None, status=400, message=echo)
    await ask("shots_plan", production=pid, scene="3", count=2)
    await ask("continuity_check_prompt", production=pid, shot="1/2", judge=True)
    await ask("image_generate", production=pid, prompt="A lantern on the quay at night.")
    fake.clear_faults()
    fake.add_fault(":predictLongRunning", "status", status=500, message=echo)
    await ask("video_generate", production=pid, shot="1/1", seed=7)
    fake.add_fault(":predictLongRunning", "operation_error", message=echo)
    failed = result_data(await ask("video_generate", production=pid, shot="1/1", seed=8))
    await ask("video_job", job=failed["id"], wait_s=30)
    fake.clear_faults()

    # Hostile and wrong calls: their errors must not carry the environment either.
    await ask("style_ingest", kit="secret-kit", paths=["/proc/self/environ"])
    await ask("style_ingest", kit="secret-kit", paths=["../../../../proc/self/environ"])
    await ask("asset_get", asset="/proc/self/environ")
    await ask("video_jobs", production=pid)
    await ask("continuity_report", production=pid)
    await ask("production_get", production=pid)
    return answers


async def test_no_secret_in_answers_log_or_files(tmp_path: Path, fake_process: FakeGeminiProcess) -> None:
    fake = fake_process
    fake.reset()
    workdir = make_workdir(tmp_path / "work")
    server = start_http_server(workdir, **genai_env(fake.url), STUDIO_LOG_LEVEL="DEBUG")
    try:
        async with authorised(server) as client:
            with anyio.fail_after(240):
                answers = await workload(client, fake)
    finally:
        stop(server.proc)
    # The workload did reach the backends with the key (else the checks below prove nothing).
    assert fake.requests_to(":predictLongRunning") and fake.requests_to(":generateContent")
    assert any("403" in a or "refused" in a or "not valid" in a for a in answers), "no upstream error came back"

    leaked = {secret: [a[:300] for a in answers if secret in a] for secret in SECRET_VALUES}
    assert not any(leaked.values()), leaked
    [log] = workdir.glob("server-*.log")
    text = log.read_text(errors="replace")
    assert "DEBUG" in text, "the log is not at DEBUG: the check below would prove little"
    lines = [line[:300] for line in text.splitlines() if any(s in line for s in SECRET_VALUES)]
    assert not lines, lines
    assert files_containing(workdir / "studio-data", SECRET_VALUES) == []
