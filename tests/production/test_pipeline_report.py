"""Pipeline figures over a real MCP client: takes generated against the fake Vertex server, checked,
reviewed, and the figures counted from the production's event log."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from mcp import Client

from tests.helpers import build_app, call, error_text, make_production
from tools.production.pipeline import pipeline_report

SHOTS = {
    "1": [
        {"number": 1, "description": "Mara steps onto the quay, lantern in hand.", "characters": ["Mara"]},
        {"number": 2, "description": "Mara in her yellow coat waves from the quay.", "characters": ["Mara"]},
    ],
    "2": [{"number": 1, "description": "The empty quay at dawn.", "duration_s": 6}],
}

pytestmark = pytest.mark.usefixtures("vertex_fake_env")


async def take(client: Client, pid: str, shot: str) -> str:
    job = await call(client, "video_generate", production=pid, shot=shot, duration_s=4)
    with anyio.fail_after(30):
        while job["status"] not in ("done", "failed"):
            job = await call(client, "video_job", job=job["id"], wait_s=2)
    assert job["status"] == "done", job
    return str(job["asset"]["id"])


async def test_figures_count_each_stage_per_scene_and_overall(tmp_path: Path) -> None:
    async with Client(build_app(tmp_path / "data").server) as client:
        pid = await make_production(client, "Figures", shots=SHOTS)
        await call(
            client, "continuity_set", production=pid, entity="Mara", kind="character", attributes={"coat": "red"}
        )
        empty = await call(client, "pipeline_report", production=pid)
        assert empty["overall"]["review"] == {"passed": 0, "total": 0, "rate": None}
        assert empty["overall"]["chained_stage_rate"] is None

        first = await take(client, pid, "1/1")
        await call(client, "continuity_check_media", production=pid, asset=first)
        await call(client, "review_submit", asset=first)
        await call(client, "review_decide", asset=first, decision="reject", notes="The lantern is unlit.")
        second = await take(client, pid, "1/1")
        await call(client, "review_submit", asset=second)
        await call(client, "review_decide", asset=second, decision="approve", notes="")
        # The yellow coat contradicts the ledger: refused before spending, and counted as a failed preflight.
        assert "preflight" in error_text(await client.call_tool("video_generate", {"production": pid, "shot": "1/2"}))

        report = await call(client, "pipeline_report", production=pid)
        scene = report["scenes"]["1"]
        assert scene["preflight"] == {"passed": 2, "total": 3, "rate": pytest.approx(0.6667)}
        assert scene["generation"] == {"passed": 2, "total": 2, "rate": 1.0}
        assert scene["media_check"]["total"] == 1
        assert scene["review"] == {"passed": 1, "total": 2, "rate": 0.5}
        assert scene["retakes_per_approved_shot"] == 1.0
        assert scene["end_to_end_yield"] == {"passed": 1, "total": 2, "rate": 0.5}
        assert scene["spend_usd"] > 0
        assert scene["spend_per_approved_second_usd"] == pytest.approx(scene["spend_usd"] / 4, abs=1e-4)
        assert list(report["scenes"]) == ["1"]  # scene 2 never entered the pipeline
        assert report["overall"]["review"] == scene["review"]
        production = await call(client, "production_get", production=pid)
        assert production["pipeline"] == report["overall"]


def test_a_stage_with_nothing_counted_has_no_rate_and_stops_the_chain() -> None:
    report = pipeline_report("p", [], [("preflight", "pass", {"shot": "9/9"})])
    assert report.scenes == {} and report.overall.preflight.total == 0
    assert report.overall.chained_stage_rate is None and report.overall.end_to_end_yield.rate is None
