"""The generation stand-in (STUDIO_GENERATION=standin): the whole flow offline and free, through the
real google-genai client, job store, poller and assets, every result marked as a stand-in, and
nothing sent to Google even when credentials are set."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from mcp import Client

from core import Settings
from core.context import StudioContext
from server.app import build_families, serve_all
from tests.fake_gemini import FakeGemini
from tests.helpers import call, error_text, make_production

SHOT = {"number": 1, "description": "Lanterns drift across the harbour at dusk.", "duration_s": 4}


async def test_a_stand_in_take_runs_the_real_job_path_at_no_cost_and_says_so(
    tmp_path: Path, fake: FakeGemini, fake_env: pytest.MonkeyPatch
) -> None:
    # Credentials pointing at the fake: the stand-in must take precedence, so the fake sees nothing.
    fake_env.setenv("GEMINI_API_KEY", "a-real-looking-key")
    fake_env.setenv("GOOGLE_GEMINI_BASE_URL", fake.url)
    fake_env.setenv("STUDIO_VEO_POLL_INITIAL_S", "0.02")
    context = StudioContext(Settings(data_dir=tmp_path / "data", generation="standin"))
    async with Client(serve_all(context, build_families(context))) as client:
        pid = await make_production(client, "Offline", shots={"1": [SHOT]}, budget_usd=1.0)
        job = await call(client, "video_generate", production=pid, shot="1/1")
        with anyio.fail_after(30):
            while job["status"] not in ("done", "failed"):
                job = await call(client, "video_job", job=job["id"], wait_s=2)
        assert job["status"] == "done" and job["stand_in"] is True
        assert job["estimate_usd"] == 0 and "stand-in" in job["price_source"]
        asset = job["asset"]
        assert asset["kind"] == "video" and asset["provenance"]["backend"] == "standin"

        checked = await call(client, "continuity_check_media", production=pid, asset=asset["id"])
        assert checked["analysis"]["media_type"] == "video" and checked["analysis"]["duration_s"] >= 3

        image = await call(client, "image_generate", production=pid, prompt="A lantern at dusk.")
        assert image["backend"] == "standin" and image["estimate_usd"] == 0

        spend = (await call(client, "production_get", production=pid))["spend"]
        assert spend["spent_usd"] == 0 and spend["committed_usd"] == 0
        planned = error_text(await client.call_tool("shots_plan", {"production": pid, "scene": "1"}))
        assert "stand-in" in planned and "Gemini" in planned
    assert fake.requests() == []
