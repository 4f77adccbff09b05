"""One studio's day, end to end over stdio: the handoffs between families carry intent.

Kit -> production and brief -> ledger -> shots -> grounded prompt -> preflight -> paid Veo job (fake
Vertex) -> the clip checked against its references -> one continuity report."""

from __future__ import annotations

import shutil
from pathlib import Path

import anyio
from mcp import Client

from tests.conftest import SAMPLE_KIT, stdio_params
from tests.fake_gemini import FakeGemini
from tests.helpers import error_text, result_data, stored_text, vertex_env

KEY = "AIzaPipelineTestKey000000000000000000"


async def test_brief_to_checked_clip(tmp_path: Path, fake: FakeGemini) -> None:
    shutil.copytree(SAMPLE_KIT, tmp_path / "kit")
    env = vertex_env(fake.url, GOOGLE_API_KEY=KEY, STUDIO_VEO_POLL_INITIAL_S="0.05", STUDIO_VEO_POLL_MAX_S="0.2")
    async with Client(stdio_params(tmp_path, tmp_path / "data", **env)) as client:

        async def call(tool: str, **args: object) -> dict:
            return result_data(await client.call_tool(tool, args))

        await call("style_ingest", kit="night-ferry", paths=["kit"])
        production = (
            await call(
                "production_create",
                name="Night Ferry",
                kit="night-ferry",
                budget_usd=20,
                logline="A young deckhand keeps the lanterns lit on the last night ferry.",
                tone="quiet, cold, tender",
                must=["lantern light is the only warm accent"],
                must_not=["modern smartphones"],
            )
        )["id"]
        await call(
            "continuity_set",
            production=production,
            entity="Mara",
            kind="character",
            attributes={"coat": "red wool coat", "scar": "left eyebrow"},
        )
        await call(
            "continuity_set",
            production=production,
            entity="1",
            kind="scene",
            attributes={"time_of_day": "night", "weather": "fog"},
        )
        await call(
            "shots_save",
            production=production,
            scene="1",
            shots=[
                {
                    "number": 1,
                    "description": "Mara in her red wool coat lights the bow lantern in the fog.",
                    "characters": ["Mara"],
                    "time_of_day": "night",
                    "duration_s": 8,
                    "framing": "medium",
                },
                {
                    "number": 2,
                    "description": "Mara, in a blue parka, looks out at the lighthouse.",
                    "characters": ["Mara"],
                    "time_of_day": "night",
                    "duration_s": 8,
                },
            ],
        )

        # The grounded prompt carries the brief, the ledger and the kit, and says where each came from.
        grounded = await call("prompt_build", production=production, shot="1/1")
        assert "red wool coat" in grounded["prompt"] and "modern smartphones" in grounded["negative_prompt"]
        kinds = {i["kind"] for i in grounded["injections"]}
        assert {"brief_must", "brief_must_not", "ledger", "style"} <= kinds

        # Preflight catches the coat that changed colour before any money is spent ...
        check = await call("continuity_check_prompt", production=production, shot="1/2")
        assert check["has_errors"] and any(f["entity"] == "Mara" for f in check["findings"])
        refused = error_text(await client.call_tool("video_generate", {"production": production, "shot": "1/2"}))
        assert "preflight" in refused.lower()
        assert fake.requests_to(":predictLongRunning") == []

        # ... and the clean shot is estimated, budgeted, submitted once and finished.
        job = await call("video_generate", production=production, shot="1/1")
        assert job["prompt"] == grounded["prompt"] and job["estimate_usd"] > 0
        with anyio.fail_after(60):
            while job["status"] not in ("done", "failed"):
                job = await call("video_job", job=job["id"], wait_s=2)
        assert job["status"] == "done", job
        [submitted] = fake.requests_to(":predictLongRunning")
        sent = str(submitted["body"])
        assert "lantern light is the only warm accent" in sent and "modern smartphones" in sent
        asset = job["asset"]["id"]
        spend = (await call("production_get", production=production))["spend"]
        assert spend["committed_usd"] == 0 and spend["spent_usd"] == job["estimate_usd"]

        # The clip is checked after generation, and every finding lands in one report.
        media = await call("continuity_check_media", production=production, asset=asset)
        assert media["shot"] == "1/1" and media["analysis"]["media_type"] == "video"
        report = await call("continuity_report", production=production)
        sources = {f["source"] for f in report["findings"]}
        assert "preflight" in sources
        assert {f["shot"] for f in report["findings"]} >= {"1/2"}
    stored = stored_text(tmp_path / "data")
    assert "lantern light" in stored and KEY not in stored  # the state was read, and holds no key
