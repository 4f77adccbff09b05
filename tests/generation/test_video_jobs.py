"""Veo jobs over a real MCP client against the fake Vertex server: the whole flow with progress,
idempotency, client retries, faults, budget, dry runs, bad input, and a SIGKILL in mid-flight."""

from __future__ import annotations

import base64
import os
import signal
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import BlobResourceContents, ResourceLink

from core import Settings
from server.app import build_server
from tests.conftest import make_workdir, start_http_server, stop
from tests.fake_gemini import FakeGemini, FakeGeminiProcess
from tests.helpers import VERTEX_KEY, build_app, call, error_text, make_production, result_data, vertex_env

KEY = VERTEX_KEY
SHOTS = [
    {"number": 1, "description": "The ferry slides out of the fog toward the quay.", "duration_s": 8},
    {"number": 2, "description": "Close on the bow lantern swinging in the wind.", "duration_s": 5},
]


genai_env = vertex_env


@pytest.fixture(autouse=True)
def _clean(fake: FakeGemini) -> None:
    fake.reset()


@pytest.fixture
def env(fake: FakeGemini, fake_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The in-process server reads its credentials and poll settings from the environment."""
    for name, value in genai_env(fake.url).items():
        fake_env.setenv(name, value)
    return fake_env


def in_process(tmp_path: Path) -> Client:
    return Client(build_server(Settings(data_dir=tmp_path / "data")))


async def veo_production(client: Client, name: str, budget: float | None = 20.0) -> str:
    return await make_production(
        client, name, kit="veo-test-kit", must_not=["modern smartphones"], budget_usd=budget, shots={"1": SHOTS}
    )


async def wait_final(client: Client, job: str, limit_s: float = 30) -> dict[str, Any]:
    with anyio.fail_after(limit_s):
        while True:
            view = await call(client, "video_job", {"job": job, "wait_s": 2})
            if view["status"] in ("done", "failed", "cancelled", "unknown_submission"):
                return view


async def spend(client: Client, production: str) -> dict[str, Any]:
    return (await call(client, "production_get", {"production": production}))["spend"]


# --------------------------------------------------------------------------- the whole flow


async def test_generate_wait_with_progress_and_read_the_asset(
    fake: FakeGemini, env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake.configure(default_polls=4)
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    async with in_process(tmp_path) as client:
        pid = await veo_production(client, "Veo Flow")
        built = await call(client, "prompt_build", {"production": pid, "shot": "1/1"})
        job = await call(client, "video_generate", {"production": pid, "shot": "1/1", "seed": 7})
        assert job["status"] == "pending" and job["id"].startswith("vj_") and job["operation"]
        assert job["prompt"] == built["prompt"]  # the exact prompt used, grounded
        assert job["estimate_usd"] == pytest.approx(8 * 0.15)  # veo-3.1-fast, 8 s, audio
        assert job["settings"]["duration_s"] == 8
        assert (await spend(client, pid))["committed_usd"] == pytest.approx(1.2)

        result = await client.call_tool("video_job", {"job": job["id"], "wait_s": 30}, progress_callback=on_progress)
        done = result_data(result)
        assert done["status"] == "done" and done["progress"] == 1.0
        assert seen and all(isinstance(p, float | int) and t == 100.0 for p, t, _ in seen)
        assert [p for p, _, _ in seen] == sorted(p for p, _, _ in seen)  # never goes down
        pending = [m for _, _, m in seen if m and m.startswith("pending for ")]
        assert pending and all(" s to go " in m or "longer than usual" in m for m in pending)  # state, time left

        asset = done["asset"]
        prov = asset["provenance"]
        assert asset["kind"] == "video" and asset["mime_type"] == "video/mp4" and asset["shot"] == "1/1"
        assert prov["job"] == job["id"] and prov["model"] == "veo-3.1-fast-generate-001"
        assert prov["request"]["prompt"] == built["prompt"] and prov["request"]["seed"] == 7
        assert prov["request"]["negative_prompt"] == built["negative_prompt"]
        assert prov["brief_version"] == 1 and prov["operation"] == job["operation"]
        assert prov["cost"]["estimate_usd"] == pytest.approx(1.2) and prov["timings"]["submitted_at"]
        assert {"style_chunks", "ledger_entities", "injections", "parent"} <= set(prov)

        links = [c for c in result.content if isinstance(c, ResourceLink)]
        assert [str(link.uri) for link in links] == [f"studio://assets/{asset['id']}"]
        read = await client.read_resource(str(links[0].uri))
        blob = read.contents[0]
        assert isinstance(blob, BlobResourceContents)
        assert base64.b64decode(blob.blob) == await anyio.Path(asset["path"]).read_bytes()

        money = await spend(client, pid)
        assert money["spent_usd"] == pytest.approx(1.2) and money["committed_usd"] == 0
        shot = (await call(client, "production_get", {"production": pid}))["scenes"]["1"][0]
        assert shot["status"] == "generated"

    [submit] = fake.requests_to(":predictLongRunning")
    assert submit["body"]["labels"] == {"studio-job": job["id"]}
    assert submit["body"]["parameters"]["durationSeconds"] == 8


async def test_same_request_returns_the_job_and_retakes_are_deliberate(
    fake: FakeGemini, env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with in_process(tmp_path) as client:
        pid = await veo_production(client, "Veo Idempotent")
        first = await call(client, "video_generate", {"production": pid, "shot": "1/1"})
        again = await call(client, "video_generate", {"production": pid, "shot": "1/1"})
        assert again["id"] == first["id"] and again["reused"] and "nothing submitted" in again["message"]
        done = await wait_final(client, first["id"])
        assert done["status"] == "done"
        after = await call(client, "video_generate", {"production": pid, "shot": "1/1"})
        assert after["id"] == first["id"] and after["status"] == "done"
        assert len(fake.requests_to(":predictLongRunning")) == 1

        seeded = await call(client, "video_generate", {"production": pid, "shot": "1/1", "seed": 99})
        retake = await call(client, "video_generate", {"production": pid, "shot": "1/1", "retake": True})
        retake_retry = await call(client, "video_generate", {"production": pid, "shot": "1/1", "retake": True})
        assert len({first["id"], seeded["id"], retake["id"]}) == 3
        assert retake_retry["id"] == retake["id"]  # a retried retake call is still one job
        assert retake["parent_asset"] == done["asset"]["id"]
        retaken = await wait_final(client, retake["id"])
        assert retaken["asset"]["parent"] == done["asset"]["id"]
        await wait_final(client, seeded["id"])
        assert len(fake.requests_to(":predictLongRunning")) == 3
        assert len((await call(client, "video_jobs", {"production": pid}))["jobs"]) == 3


async def test_a_client_that_times_out_and_retries_submits_once(fake: FakeGemini, tmp_path: Path) -> None:
    # Over HTTP, where the client's read timeout is real: it gives up (and cancels its request) while the
    # server is still submitting; the server finishes the submit anyway and the retry gets the same job.
    server = start_http_server(make_workdir(tmp_path / "work"), **genai_env(fake.url))
    try:
        async with server.client() as client:
            pid = await veo_production(client, "Veo Retry")
            # A first job warms the server up (google.genai imported, client built, both before a job is
            # recorded), so that the client's timeout below lands in the submit itself.
            await call(client, "video_generate", {"production": pid, "shot": "1/1"})
            fake.add_fault(":predictLongRunning", "delay", delay_s=8.0)
            args = {"production": pid, "shot": "1/2", "duration_s": 6}
            with pytest.raises(MCPError, match="timed out"):
                await client.call_tool("video_generate", args, read_timeout_seconds=3)
            retried = await call(client, "video_generate", args)
            assert retried["reused"] and retried["status"] in ("submitting", "pending")
            done = await wait_final(client, retried["id"])
            assert done["status"] == "done"
            assert len((await call(client, "video_jobs", {"production": pid}))["jobs"]) == 2
    finally:
        stop(server.proc)
    paid = fake.paid_by_label("video")
    assert paid[retried["id"]] == 1 and sorted(paid.values()) == [1, 1]  # the warm-up, and this one once
    assert len(fake.requests_to(":predictLongRunning")) == 2
    assert len(fake.operations()) == 2


# --------------------------------------------------------------------------- faults


async def test_429_on_submit_is_retried_and_503_while_polling_is_retried(
    fake: FakeGemini, env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake.add_fault(":predictLongRunning", status=429, retry_delay_s=0.01)
    fake.add_fault(":fetchPredictOperation", status=503)
    async with in_process(tmp_path) as client:
        pid = await veo_production(client, "Veo Transient")
        job = await call(client, "video_generate", {"production": pid, "shot": "1/1"})
        done = await wait_final(client, job["id"])
        assert done["status"] == "done" and done["asset"]
        assert (await spend(client, pid))["spent_usd"] == pytest.approx(1.2)
    assert len(fake.requests_to(":predictLongRunning")) == 2 and len(fake.operations()) == 1


@pytest.mark.parametrize(
    ("fault", "kind", "words"),
    [
        (
            {"kind": "operation_error", "error_code": 8, "message": "Veo quota exceeded."},
            "quota_exhausted",
            "Veo quota exceeded.",
        ),
        (
            {"kind": "rai_filtered", "rai_reasons": ["Contains a public figure."]},
            "rai_filtered",
            "Contains a public figure.",
        ),
    ],
)
async def test_failed_operations_become_failed_jobs_with_the_reason(
    fake: FakeGemini, env: pytest.MonkeyPatch, tmp_path: Path, fault: dict[str, Any], kind: str, words: str
) -> None:
    fake.add_fault(":predictLongRunning", **fault)
    async with in_process(tmp_path) as client:
        pid = await veo_production(client, "Veo Failing")
        job = await call(client, "video_generate", {"production": pid, "shot": "1/1"})
        failed = await wait_final(client, job["id"])
        assert failed["status"] == "failed" and failed["error_kind"] == kind and words in failed["error"]
        assert failed["asset"] is None
        money = await spend(client, pid)
        assert money["committed_usd"] == 0 and money["spent_usd"] == 0  # released
        shot = (await call(client, "production_get", {"production": pid}))["scenes"]["1"][0]
        assert shot["status"] == "planned"
        # A failed job does not block the same request: it is submitted afresh.
        again = await call(client, "video_generate", {"production": pid, "shot": "1/1"})
        assert again["id"] != job["id"] and not again["reused"]
        assert (await wait_final(client, again["id"]))["status"] == "done"


async def test_a_poll_that_never_finishes_is_bounded_by_the_deadline(
    fake: FakeGemini, env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env.setenv("STUDIO_VEO_JOB_DEADLINE_S", "3")  # generous: a loaded machine must still poll before it
    fake.add_fault(":predictLongRunning", "polls", polls=None)
    async with in_process(tmp_path) as client:
        pid = await veo_production(client, "Veo Deadline")
        job = await call(client, "video_generate", {"production": pid, "shot": "1/1"})
        failed = await wait_final(client, job["id"])
        assert failed["status"] == "failed" and failed["error_kind"] == "deadline_exceeded"
        assert "deadline exceeded" in failed["error"] and failed["polls"] >= 1
        assert (await spend(client, pid))["committed_usd"] == 0


async def test_a_lost_submit_reply_is_never_resubmitted(
    fake: FakeGemini, env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake.add_fault(":predictLongRunning", "status_after", status=503)  # created, but the reply was lost
    async with in_process(tmp_path) as client:
        pid = await veo_production(client, "Veo Lost Reply")
        job = await call(client, "video_generate", {"production": pid, "shot": "1/1"})
        assert job["status"] == "unknown_submission" and "retake=true" in job["message"]
        assert (await spend(client, pid))["committed_usd"] == pytest.approx(1.2)  # it may be billed
        again = await call(client, "video_generate", {"production": pid, "shot": "1/1"})
        assert again["id"] == job["id"] and again["reused"]
        cancelled = await call(client, "video_cancel", {"job": job["id"]})
        assert cancelled["status"] == "cancelled" and "released" in cancelled["message"]
        assert (await spend(client, pid))["committed_usd"] == 0
    assert len(fake.requests_to(":predictLongRunning")) == 1 and len(fake.operations()) == 1


async def test_cancel_stops_polling_and_releases_the_estimate(
    fake: FakeGemini, env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake.add_fault(":predictLongRunning", "polls", polls=None)
    async with in_process(tmp_path) as client:
        pid = await veo_production(client, "Veo Cancel")
        job = await call(client, "video_generate", {"production": pid, "shot": "1/1"})
        with anyio.fail_after(10):
            while not fake.operations() or fake.operations()[0]["polls_seen"] < 2:  # noqa: ASYNC110 - another process
                await anyio.sleep(0.05)
        cancelled = await call(client, "video_cancel", {"job": job["id"]})
        assert cancelled["status"] == "cancelled" and "no" in cancelled["message"] and "cancel" in cancelled["message"]
        assert (await spend(client, pid))["committed_usd"] == 0
        await anyio.sleep(0.3)
        polls = fake.operations()[0]["polls_seen"]
        await anyio.sleep(0.5)
        assert fake.operations()[0]["polls_seen"] == polls
        again = await call(client, "video_cancel", {"job": job["id"]})
        assert "already cancelled" in again["message"]
        listed = await call(client, "video_jobs", {"production": pid, "status": "cancelled"})
        assert [j["id"] for j in listed["jobs"]] == [job["id"]]


# --------------------------------------------------------------------------- budget, dry run, bad input


async def test_budget_refusal_names_the_figures_and_dry_run_submits_nothing(
    fake: FakeGemini, env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with in_process(tmp_path) as client:
        pid = await veo_production(client, "Veo Budget", budget=2.0)
        args = {"production": pid, "shot": "1/1", "model": "veo-3.1-generate-001"}  # 8 s x $0.40 = $3.20
        text = error_text(await client.call_tool("video_generate", args))
        assert "budget $2.00" in text and "$3.20" in text and "brief_amend" in text
        text = error_text(await client.call_tool("video_generate", {**args, "dry_run": True}))
        assert "$3.20" in text

        dry = await call(client, "video_generate", {**args, "audio": False, "dry_run": True})  # $1.60
        assert dry["status"] == "dry_run" and dry["id"] is None and dry["estimate_usd"] == pytest.approx(1.6)
        assert dry["prompt"] and "nothing recorded" in dry["message"]
        assert (await call(client, "video_jobs", {"production": pid}))["jobs"] == []
        assert (await spend(client, pid))["committed_usd"] == 0
    assert fake.requests_to(":predictLongRunning") == []


BAD_INPUTS: list[tuple[dict[str, Any], str]] = [
    ({"model": "veo-9"}, "Unknown video model"),
    ({"duration_s": 5}, "pass duration_s as one of 4, 6, 8"),
    ({"resolution": "4k"}, "`resolution` must be one of '720p', '1080p', got '4k'"),
    ({"aspect_ratio": "1:1"}, "`aspect_ratio` must be one of '16:9', '9:16', got '1:1'"),
    ({"model": "veo-2.0-generate-001"}, "does not generate audio"),
    ({"reference_assets": ["a_1", "a_2", "a_3", "a_4"]}, "at most 3"),
    ({"reference_assets": ["a_1"], "duration_s": 6}, "only with 8 s"),
    ({"reference_assets": ["a_1"], "aspect_ratio": "9:16"}, "only with aspect ratio 16:9"),
    ({"reference_assets": ["a_00000000000000000000"]}, "No asset"),
    ({"shot": "2/1"}, "No shot '2/1'"),
    ({"shot": "1/1", "production": "no-such-production"}, "No production"),
]


async def test_bad_input_is_refused_before_anything_is_paid(
    fake: FakeGemini, env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with in_process(tmp_path) as client:
        pid = await veo_production(client, "Veo Bad Input")
        other = await call(
            client,
            "production_create",
            {"name": "Veo Other", "kit": "veo-test-kit", "logline": "Another film.", "tone": "dry"},
        )
        await call(client, "shots_save", {"production": other["id"], "scene": "2", "shots": SHOTS[:1]})
        for extra, words in BAD_INPUTS:
            args = {"production": pid, "shot": "1/1", **extra}
            assert words in error_text(await client.call_tool("video_generate", args)), extra

        # A reference asset that is a video, not an image.
        job = await call(client, "video_generate", {"production": pid, "shot": "1/1"})
        video = (await wait_final(client, job["id"]))["asset"]["id"]
        text = error_text(
            await client.call_tool(
                "video_generate", {"production": pid, "shot": "1/1", "seed": 1, "reference_assets": [video]}
            )
        )
        assert "not an image" in text
        text = error_text(await client.call_tool("video_job", {"job": "vj_nope"}))
        assert "No video job" in text
        assert len((await call(client, "video_jobs", {"production": pid}))["jobs"]) == 1
        assert (await call(client, "video_jobs", {"production": other["id"]}))["jobs"] == []
        assert (await spend(client, pid))["committed_usd"] == 0
    assert len(fake.requests_to(":predictLongRunning")) == 1


async def test_without_vertex_credentials_the_error_says_what_to_set(
    fake: FakeGemini, env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_API_KEY"):
        env.delenv(name)
    async with in_process(tmp_path) as client:
        pid = await veo_production(client, "Veo No Creds")
        text = error_text(await client.call_tool("video_generate", {"production": pid, "shot": "1/1"}))
        assert "GOOGLE_GENAI_USE_VERTEXAI=true" in text and "GOOGLE_CLOUD_PROJECT" in text
        dry = await call(client, "video_generate", {"production": pid, "shot": "1/1", "dry_run": True})
        assert dry["status"] == "dry_run" and "GOOGLE_CLOUD_PROJECT" in dry["message"]
        assert (await call(client, "video_jobs", {"production": pid}))["jobs"] == []
    assert fake.requests() == []


# --------------------------------------------------------------------------- crashes


def _fake_process_env(fake: FakeGeminiProcess, **extra: str) -> dict[str, str]:
    # A short poll lease: a restarted server takes over the jobs of the one that died soon after.
    return genai_env(
        fake.url, STUDIO_VEO_POLL_INITIAL_S="0.2", STUDIO_VEO_POLL_MAX_S="0.4", STUDIO_VEO_POLL_LEASE_S="1", **extra
    )


async def test_sigkill_with_ten_jobs_in_flight_resumes_all_without_resubmitting(tmp_path: Path) -> None:
    workdir = make_workdir(tmp_path / "work")
    with FakeGeminiProcess() as fake:
        for polls in range(2, 12):  # each job needs a different number of polls: different stages
            fake.add_fault(":predictLongRunning", "polls", polls=polls)
        env = _fake_process_env(fake)
        server = start_http_server(workdir, **env)
        try:
            async with server.client() as client:
                pid = await veo_production(client, "Veo Crash")
                jobs = [
                    (await call(client, "video_generate", {"production": pid, "shot": "1/1", "seed": seed}))["id"]
                    for seed in range(10)
                ]
            with anyio.fail_after(20):  # mid-flight: some polled, none done
                while sum(op["polls_seen"] > 0 for op in fake.operations()) < 5:  # noqa: ASYNC110 - other process
                    await anyio.sleep(0.05)
            os.kill(server.proc.pid, signal.SIGKILL)
            server.proc.wait()
            at_kill = fake.operations()
            assert len(at_kill) == 10 and not all(op["done"] for op in at_kill)
            assert len({op["polls_seen"] for op in at_kill}) > 1

            server = start_http_server(workdir, **env)
            async with server.client() as client:
                with anyio.fail_after(60):
                    while True:
                        listed = (await call(client, "video_jobs", {"production": pid}))["jobs"]
                        if all(j["status"] == "done" for j in listed):
                            break
                        assert not any(j["status"] in ("failed", "unknown_submission") for j in listed), listed
                        await anyio.sleep(0.2)
                assert sorted(j["id"] for j in listed) == sorted(jobs)
                assert len({j["asset"]["id"] for j in listed}) == 10
                money = await spend(client, pid)
                assert money["spent_usd"] == pytest.approx(12.0) and money["committed_usd"] == 0
        finally:
            stop(server.proc)
        assert len(fake.requests_to(":predictLongRunning")) == 10
        assert len(fake.operations()) == 10


async def test_a_crash_between_recording_and_submitting_is_never_resubmitted(tmp_path: Path) -> None:
    workdir = make_workdir(tmp_path / "work")
    with FakeGeminiProcess() as fake:
        env = _fake_process_env(fake)
        server = start_http_server(workdir, **env, STUDIO_TEST_CRASH_AT="video_job_recorded")
        try:
            async with server.client() as client:
                pid = await veo_production(client, "Veo Crash Submit")
                with pytest.raises(Exception):  # noqa: B017 - the server died mid-call
                    # The first call loads the embedder (seconds on a busy machine) before the crash point.
                    await client.call_tool(
                        "video_generate", {"production": pid, "shot": "1/1"}, read_timeout_seconds=120
                    )
        except Exception:
            pass  # the session ends abruptly with the server
        server.proc.wait(timeout=120)
        assert server.proc.returncode == 70

        server = start_http_server(workdir, **env)
        try:
            async with server.client() as client:
                with anyio.fail_after(10):
                    while True:
                        [job] = (await call(client, "video_jobs", {"production": pid}))["jobs"]
                        if job["status"] != "submitting":
                            break
                        await anyio.sleep(0.1)
                assert job["status"] == "unknown_submission" and "not resubmitted" in job["error"]
                again = await call(client, "video_generate", {"production": pid, "shot": "1/1"})
                assert again["id"] == job["id"] and again["reused"]
                await anyio.sleep(0.5)
        finally:
            stop(server.proc)
        assert fake.requests_to(":predictLongRunning") == []


async def test_preflight_errors_refuse_unless_overridden_and_the_override_is_recorded(
    fake: FakeGemini, env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with in_process(tmp_path) as client:
        pid = await veo_production(client, "Veo Preflight")
        await call(
            client,
            "continuity_set",
            {"production": pid, "entity": "1", "kind": "scene", "attributes": {"time_of_day": "night"}},
        )
        await call(
            client,
            "shots_save",
            {"production": pid, "scene": "1", "shots": [{**SHOTS[0], "time_of_day": "noon"}, SHOTS[1]]},
        )
        check = await call(client, "continuity_check_prompt", {"production": pid, "shot": "1/1"})
        assert check["has_errors"], check
        text = error_text(await client.call_tool("video_generate", {"production": pid, "shot": "1/1"}))
        assert "continuity preflight" in text and "override_preflight=true" in text
        assert (await call(client, "video_jobs", {"production": pid}))["jobs"] == []
        assert fake.requests_to(":predictLongRunning") == []

        job = await call(client, "video_generate", {"production": pid, "shot": "1/1", "override_preflight": True})
        assert job["preflight_overridden"] and job["preflight_errors"]
        done = await wait_final(client, job["id"])
        assert done["asset"]["provenance"]["preflight"]["overridden"] is True
        events = (await call(client, "production_get", {"production": pid}))["events"]
        recorded = [e for e in events if e["tool"] == "video_generate"]
        assert recorded and recorded[-1]["detail"]["preflight_overridden"] is True


# --------------------------------------------------------------------------- resolve once, pass objects


def _reads(statements: list[str]) -> dict[str, int]:
    """How often one call read the production (resolved its name, read its row) and loaded the ledger."""
    flat = [" ".join(s.split()) for s in statements]
    return {
        "production resolved": sum("SELECT productions.id FROM productions WHERE productions.id =" in s for s in flat),
        "production read": sum(
            s.startswith("SELECT productions.id, productions.name") and "WHERE productions.id =" in s for s in flat
        ),
        "ledger loaded": sum("FROM continuity_facts WHERE continuity_facts.production =" in s for s in flat),
    }


async def test_one_video_generate_reads_the_production_once_and_the_ledger_once(
    fake: FakeGemini, env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    app = build_app(tmp_path / "data")
    async with Client(app.server) as client:
        pid = await veo_production(client, "Veo Reads")
        await call(
            client, "continuity_set", production=pid, entity="1", kind="scene", attributes={"time_of_day": "night"}
        )
        once = {"production resolved": 1, "production read": 1, "ledger loaded": 1}
        for dry_run in (True, False):
            statements: list[str] = []
            app.context.state.trace(statements.append)
            try:
                job = await call(client, "video_generate", production=pid, shot="1/1", dry_run=dry_run)
            finally:
                app.context.state.trace(None)
            assert job["status"] == ("dry_run" if dry_run else "pending")
            assert _reads(statements) == once, (dry_run, statements)
