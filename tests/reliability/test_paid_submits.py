"""Paid calls under transport faults: a Veo submit or an image generation is sent exactly once.

Through the real google-genai client (on its aiohttp transport and on httpx) and the real MCP tools,
against the fake Vertex/Gemini server, which breaks the HTTP exchange on demand: it closes or resets
the connection before processing the request (nothing created) or after (created, answer lost), or
answers after the client's timeout. Each fault is sticky, so any resend would be processed and
counted too. What must hold, for every fault:
- the fake processed at most one paid call for it (exactly one when the fault struck after processing);
- a lost answer leaves its estimate committed exactly once, and the answer says a submission may
  exist and how to settle it; a call that never connected says nothing was sent and releases it;
- only a 429 (refused: nothing created) is retried, and then exactly one operation exists.
Close-before-processing looks, to the client, exactly like close-after-processing (the request was
sent, the connection dropped), so it too must be treated as "may exist": only the fake knows better.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from tests.fake_gemini import FakeGemini
from tests.helpers import App, build_app, call, error_text, make_production

KEY = "vertex-express-paid-test-key"
VIDEO_ESTIMATE = 8 * 0.15  # veo-3.1-fast, 8 s, audio
SHOTS = [{"number": 1, "description": "The ferry slides out of the fog toward the quay.", "duration_s": 8}]
LOST = ["close_after", "reset_after", "slow_after"]  # processed, answer lost
NOT_PROCESSED = ["close_before", "reset_before"]  # nothing created, but the client cannot tell
TRANSPORTS = ["auto", "httpx"]  # auto: google-genai's own choice, aiohttp (installed here)


@pytest.fixture(autouse=True)
def _clean(fake: FakeGemini) -> None:
    fake.reset()


def configure(env: pytest.MonkeyPatch, transport: str = "auto", **extra: str) -> None:
    settings = {
        "GOOGLE_GENAI_USE_VERTEXAI": "true",
        "GOOGLE_API_KEY": KEY,  # Vertex express mode, and the Developer API key for Gemini images
        "STUDIO_GENAI_TIMEOUT_S": "1",  # the slow fault answers after 3 s
        "STUDIO_GENAI_MAX_RETRIES": "2",
        "STUDIO_GENAI_RETRY_INITIAL_DELAY_S": "0.01",
        "STUDIO_GENAI_RETRY_MAX_DELAY_S": "0.05",
        "STUDIO_GENAI_RETRY_JITTER_S": "0",
        "STUDIO_GENAI_TRANSPORT": transport,
        "STUDIO_VEO_POLL_INITIAL_S": "0.02",
        "STUDIO_VEO_POLL_MAX_S": "0.1",
        **extra,
    }
    for name, value in settings.items():
        env.setenv(name, value)


async def production(client: Client, name: str) -> str:
    return await make_production(client, name, kit="paid-test-kit", budget_usd=50.0, shots={"1": SHOTS})


async def spend(client: Client, pid: str) -> dict[str, Any]:
    return (await call(client, "production_get", production=pid))["spend"]


async def events(client: Client, pid: str, tool: str) -> list[dict[str, Any]]:
    return [e for e in (await call(client, "production_get", production=pid))["events"] if e["tool"] == tool]


def dead_url() -> str:
    """A loopback URL with nothing listening: connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


# --------------------------------------------------------------------------- video_generate


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("fault", LOST + NOT_PROCESSED)
async def test_video_submit_under_a_transport_fault_is_sent_once_and_unknown(
    fake: FakeGemini, fake_env: pytest.MonkeyPatch, tmp_path: Path, fault: str, transport: str
) -> None:
    configure(fake_env, transport)
    fake.add_fault(":predictLongRunning", fault, delay_s=3.0, times=None)
    async with Client(build_app(tmp_path / "data").server) as client:
        pid = await production(client, f"Paid Video {fault} {transport}")
        job = await call(client, "video_generate", production=pid, shot="1/1")
        assert len(fake.requests_to(":predictLongRunning")) == 1  # sent once, never again
        assert fake.paid_by_label("video") == ({job["id"]: 1} if fault in LOST else {})

        assert job["status"] == "unknown_submission" and job["operation"] is None
        message = job["message"]
        assert "may have created" in message and f"studio-job={job['id']}" in message, message
        assert "retake=true" in message and "video_cancel" in message
        money = await spend(client, pid)
        assert money["committed_usd"] == pytest.approx(VIDEO_ESTIMATE) and money["spent_usd"] == 0  # held once

        again = await call(client, "video_generate", production=pid, shot="1/1")  # a client's retry
        assert again["id"] == job["id"] and again["reused"]
        assert len(fake.requests_to(":predictLongRunning")) == 1
        assert (await spend(client, pid))["committed_usd"] == pytest.approx(VIDEO_ESTIMATE)

        cancelled = await call(client, "video_cancel", job=job["id"])  # the user settles it
        assert cancelled["status"] == "cancelled" and "released" in cancelled["message"]
        assert "may still bill" in cancelled["message"]
        assert (await spend(client, pid))["committed_usd"] == 0


async def test_a_video_submit_that_cannot_connect_fails_clearly_and_a_retry_is_a_new_call(
    fake: FakeGemini, fake_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    configure(fake_env, GOOGLE_VERTEX_BASE_URL=dead_url())
    async with Client(build_app(tmp_path / "data").server) as client:
        pid = await production(client, "Paid Video Refused")
        job = await call(client, "video_generate", production=pid, shot="1/1")
        assert job["status"] == "failed" and job["error_kind"] == "connection_error"
        assert "Nothing was sent" in job["error"] and "video_generate again" in job["error"]
        assert (await spend(client, pid))["committed_usd"] == 0
    fake_env.setenv("GOOGLE_VERTEX_BASE_URL", fake.url)  # the network is back; the user retries
    async with Client(build_app(tmp_path / "data").server) as client:
        retried = await call(client, "video_generate", production=pid, shot="1/1")
        assert retried["id"] != job["id"] and not retried["reused"] and retried["status"] == "pending"
        assert (await spend(client, pid))["committed_usd"] == pytest.approx(VIDEO_ESTIMATE)
    assert fake.paid_by_label("video") == {retried["id"]: 1}


async def test_a_429_then_success_creates_exactly_one_operation(
    fake: FakeGemini, fake_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    configure(fake_env)
    fake.add_fault(":predictLongRunning", status=429, retry_delay_s=0.01)
    async with Client(build_app(tmp_path / "data").server) as client:
        pid = await production(client, "Paid Video 429")
        job = await call(client, "video_generate", production=pid, shot="1/1")
        assert job["status"] == "pending" and job["operation"]
        done = await call(client, "video_job", job=job["id"], wait_s=20)
        assert done["status"] == "done"
        money = await spend(client, pid)
        assert money["spent_usd"] == pytest.approx(VIDEO_ESTIMATE) and money["committed_usd"] == 0
    assert len(fake.requests_to(":predictLongRunning")) == 2  # the refused one, then the one that counted
    assert fake.paid_by_label("video") == {job["id"]: 1} and len(fake.operations()) == 1


async def test_429_until_the_retries_run_out_is_a_refusal_with_the_estimate_released(
    fake: FakeGemini, fake_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    configure(fake_env)
    fake.add_fault(":predictLongRunning", status=429, retry_delay_s=0.01, times=None)
    async with Client(build_app(tmp_path / "data").server) as client:
        pid = await production(client, "Paid Video 429 Exhausted")
        job = await call(client, "video_generate", production=pid, shot="1/1")
        assert job["status"] == "failed" and job["error_kind"] == "quota_exhausted"
        assert "refused" in job["error"] and "released" in job["error"]
        assert (await spend(client, pid))["committed_usd"] == 0
    assert len(fake.requests_to(":predictLongRunning")) == 3  # the first try and STUDIO_GENAI_MAX_RETRIES=2
    assert fake.paid("video") == []


# --------------------------------------------------------------------------- image_generate


def image_env(env: pytest.MonkeyPatch, fake: FakeGemini, backend: str, transport: str, tmp_path: Path) -> str:
    """Gemini native images (Developer API key) or Imagen (Vertex with a project and ADC); the endpoint."""
    configure(env, transport)
    if backend == "imagen":
        env.delenv("GOOGLE_API_KEY")
        env.setenv("GOOGLE_CLOUD_PROJECT", "paid-test-project")
        env.setenv("GOOGLE_APPLICATION_CREDENTIALS", fake.write_adc_file(str(tmp_path / "adc.json")))
        return ":predict"
    return ":generateContent"


async def image_estimate(client: Client, backend: str) -> float:
    model = "imagen-4.0-generate-001" if backend == "imagen" else "gemini-2.5-flash-image"
    return float((await call(client, "cost_estimate", model=model))["estimate_usd"])


@pytest.mark.parametrize("backend", ["gemini", "imagen"])
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("fault", LOST + NOT_PROCESSED)
async def test_image_generation_under_a_transport_fault_is_sent_once_and_held(
    fake: FakeGemini, fake_env: pytest.MonkeyPatch, tmp_path: Path, fault: str, transport: str, backend: str
) -> None:
    endpoint = image_env(fake_env, fake, backend, transport, tmp_path)
    fake.add_fault(endpoint, fault, delay_s=3.0, times=None)
    async with Client(build_app(tmp_path / "data").server) as client:
        pid = await production(client, f"Paid Image {fault} {transport} {backend}")
        estimate = await image_estimate(client, backend)
        text = error_text(await client.call_tool("image_generate", {"production": pid, "prompt": "A red lantern."}))
        assert len(fake.requests_to(endpoint)) == 1  # sent once, never again
        processed = len(fake.paid("image"))
        assert processed == (1 if fault in LOST else 0)
        assert "answer was lost" in text and "not resent" in text and "stays committed" in text, text
        assert "billed separately" in text  # a retry is the user's own, new call
        [job] = re.findall(r"img_[0-9a-f]{16}", text)
        if backend == "imagen" and processed:
            assert fake.paid_by_label("image") == {job: 1}  # Vertex billing label: findable in the export
        money = await spend(client, pid)
        assert money["committed_usd"] == pytest.approx(estimate) and money["spent_usd"] == 0  # held once
        [event] = await events(client, pid, "image_generate")
        assert event["outcome"] == "unknown_submission" and event["detail"]["job"] == job

        fake.clear_faults()  # the user retries deliberately: a new, separately billed call
        made = await call(client, "image_generate", production=pid, prompt="A red lantern.")
        assert made["asset"]["kind"] == "image"
        money = await spend(client, pid)
        assert money["spent_usd"] == pytest.approx(estimate) and money["committed_usd"] == pytest.approx(estimate)
    assert len(fake.paid("image")) == processed + 1


async def test_an_image_call_that_cannot_connect_says_nothing_was_sent_and_releases_the_estimate(
    fake_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    configure(fake_env, GOOGLE_GEMINI_BASE_URL=dead_url())
    async with Client(build_app(tmp_path / "data").server) as client:
        pid = await production(client, "Paid Image Refused")
        text = error_text(await client.call_tool("image_generate", {"production": pid, "prompt": "A red lantern."}))
        assert "Nothing was sent" in text and "released" in text, text
        money = await spend(client, pid)
        assert money["committed_usd"] == 0 and money["spent_usd"] == 0
        [event] = await events(client, pid, "image_generate")
        assert event["outcome"] == "error:connection_error"


@pytest.mark.parametrize("backend", ["gemini", "imagen"])
async def test_an_image_429_then_success_is_one_image(
    fake: FakeGemini, fake_env: pytest.MonkeyPatch, tmp_path: Path, backend: str
) -> None:
    endpoint = image_env(fake_env, fake, backend, "auto", tmp_path)
    fake.add_fault(endpoint, status=429, retry_delay_s=0.01)
    async with Client(build_app(tmp_path / "data").server) as client:
        pid = await production(client, f"Paid Image 429 {backend}")
        estimate = await image_estimate(client, backend)
        made = await call(client, "image_generate", production=pid, prompt="A red lantern.")
        assert made["asset"]["kind"] == "image"
        money = await spend(client, pid)
        assert money["spent_usd"] == pytest.approx(estimate) and money["committed_usd"] == 0
    assert len(fake.requests_to(endpoint)) == 2 and len(fake.paid("image")) == 1


# --------------------------------------------------------------------------- nothing slow after recording


async def test_the_submit_is_built_before_the_job_is_recorded(
    fake: FakeGemini, fake_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A crash between recording a job and sending it strands the job as unknown_submission with its
    # estimate held: that window must hold nothing slow (google.genai's import, the client's build).
    configure(fake_env)
    app: App = build_app(tmp_path / "data")
    seen: list[tuple[str, bool, bool]] = []  # (what was recorded, Vertex client built, Developer client built)

    def on_statement(sql: str) -> None:
        for marker in ("INSERT INTO spend_entries", "INSERT INTO video_jobs"):
            if marker in sql:
                seen.append((marker, app.context.genai.built("vertex"), app.context.genai.built("developer")))

    async with Client(app.server) as client:
        pid = await production(client, "Paid Video Order")
        assert not app.context.genai.built("vertex")  # the first video_generate after start
        app.context.state.trace(on_statement)
        try:
            job = await call(client, "video_generate", production=pid, shot="1/1")
            image = await call(client, "image_generate", production=pid, prompt="A red lantern.")
        finally:
            app.context.state.trace(None)
    assert job["status"] == "pending" and image["asset"]
    # video_generate commits its estimate and records its job once the Vertex client exists;
    # image_generate (Gemini here) commits its estimate once the Developer client exists.
    assert seen == [
        ("INSERT INTO spend_entries", True, False),
        ("INSERT INTO video_jobs", True, False),
        ("INSERT INTO spend_entries", True, True),
    ], seen


# --------------------------------------------------------------------------- video_cancel of a finished job


async def test_cancelling_a_finished_job_says_so_and_changes_nothing(
    fake: FakeGemini, fake_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Issue 10 #8: cancelling a finished job used to fail with "cannot start a transaction within a
    # transaction" (the view was read inside the cancel's transaction); it must answer plainly.
    configure(fake_env)
    async with Client(build_app(tmp_path / "data").server) as client:
        pid = await production(client, "Paid Video Cancel Done")
        job = await call(client, "video_generate", production=pid, shot="1/1")
        done = await call(client, "video_job", job=job["id"], wait_s=20)
        assert done["status"] == "done"
        before = await spend(client, pid)
        for _ in range(2):
            answer = await call(client, "video_cancel", job=job["id"])
            assert answer["status"] == "done" and "already done: nothing to cancel" in answer["message"]
            assert f"asset {done['asset']['id']}" in answer["message"] and "$1.20 is spent" in answer["message"]
        assert await spend(client, pid) == before
        assert (await call(client, "video_job", job=job["id"]))["status"] == "done"


# --------------------------------------------------------------------------- shots_plan: not paid, retried


def one_shot_plan() -> dict[str, Any]:
    shot = {"number": 1, "description": "Mara lights the bow lantern.", "duration_s": 6}
    return {"shots": [shot]}


@pytest.mark.parametrize("fault", ["close_after", "reset_after", "close_before"])
async def test_shots_plan_retries_a_transport_fault_and_saves_one_plan(
    fake: FakeGemini, fake_env: pytest.MonkeyPatch, tmp_path: Path, fault: str
) -> None:
    # A plan is structured output, not paid media: a lost answer costs a few tokens and changes nothing
    # (nothing is saved until an answer validates), so the client's default retries apply.
    configure(fake_env)
    fake.add_fault(":generateContent", fault, delay_s=3.0)
    fake.script_json("gemini", one_shot_plan())
    fake.script_json("gemini", one_shot_plan())
    async with Client(build_app(tmp_path / "data").server) as client:
        pid = await make_production(client, f"Paid Plan {fault}", kit="paid-test-kit")
        result = await call(client, "shots_plan", production=pid, scene="1", count=1)
        assert [s["number"] for s in result["shots"]] == [1]
        scenes = (await call(client, "production_get", production=pid))["scenes"]
        assert [s["number"] for s in scenes["1"]] == [1]
    assert len(fake.requests_to(":generateContent")) == 2  # the broken exchange, then the retry


@pytest.mark.parametrize(
    ("fault", "requests"),
    [
        pytest.param({"kind": "reset_after", "times": None}, 3, id="reset-every-time"),  # 1 + MAX_RETRIES=2
        # google-genai does not retry an aiohttp timeout: one request, and a clear "No answer" error.
        pytest.param({"kind": "slow_after", "delay_s": 3.0}, 1, id="slower-than-the-timeout"),
    ],
)
async def test_shots_plan_that_fails_says_so_and_saves_nothing(
    fake: FakeGemini, fake_env: pytest.MonkeyPatch, tmp_path: Path, fault: dict[str, Any], requests: int
) -> None:
    configure(fake_env)
    fake.add_fault(":generateContent", **fault)
    async with Client(build_app(tmp_path / "data").server) as client:
        pid = await make_production(client, f"Paid Plan Down {fault['kind']}", kit="paid-test-kit")
        text = error_text(await client.call_tool("shots_plan", {"production": pid, "scene": "1", "count": 1}))
        assert "Nothing was saved" in text and KEY not in text, text
        assert (await call(client, "production_get", production=pid))["scenes"] == {}
    assert len(fake.requests_to(":generateContent")) == requests
