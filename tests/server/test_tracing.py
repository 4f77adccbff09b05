"""Tracing over real OTLP: a server subprocess exports with the OpenTelemetry SDK's exporter to a
receiver the test runs; one shot's journey, call after call, reads as one trace."""

from __future__ import annotations

import os
from pathlib import Path
from typing import cast

import anyio
import pytest
from mcp import Client
from mcp.types import RequestParamsMeta

from core import tracing
from server.app import build_server
from tests.conftest import stdio_params
from tests.fake_gemini import FakeGemini
from tests.helpers import call, make_production, vertex_env
from tests.otlp_receiver import OtlpReceiver, ReceivedSpan

CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{CLIENT_TRACE}-00f067aa0ba902b7-01"
SHOT = {"number": 1, "description": "Mara lights the lantern on the quay.", "duration_s": 4}


def named(spans: list[ReceivedSpan], name: str) -> ReceivedSpan:
    found = [s for s in spans if s.name == name]
    assert found, f"no span {name!r} among {sorted({s.name for s in spans})}"
    return found[0]


async def test_a_shots_journey_is_one_trace_with_backend_calls_as_children(tmp_path: Path, fake: FakeGemini) -> None:
    with OtlpReceiver() as receiver:
        env = vertex_env(
            fake.url,
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
            OTEL_SERVICE_NAME="studio-mcp-traced",
            OTEL_BSP_SCHEDULE_DELAY="100",
        )
        async with Client(stdio_params(tmp_path, tmp_path / "data", **env)) as client:
            pid = await make_production(client, "Traced", shots={"1": [SHOT]})
            await call(client, "prompt_build", production=pid, shot="1/1")
            result = await client.call_tool(
                "video_generate",
                {"production": pid, "shot": "1/1"},
                meta=cast(RequestParamsMeta, {"traceparent": TRACEPARENT}),
            )
            job = result.structured_content or {}
            with anyio.fail_after(30):
                while job["status"] not in ("done", "failed"):
                    job = await call(client, "video_job", job=job["id"], wait_s=2)
            asset = job["asset"]["id"]
            await call(client, "continuity_check_media", production=pid, asset=asset)
            await call(client, "review_submit", asset=asset)
            await call(client, "review_decide", asset=asset, decision="approve", notes="")
        # The server flushes its batch at exit; the receiver may still be reading it.
        spans = await anyio.to_thread.run_sync(receiver.wait_for, "review_decide 1/1", 15.0)

    root = named(spans, f"shot {pid}/1/1")
    steps = [
        "prompt_build 1/1",
        "video_generate 1/1",
        "video_poll 1/1".replace("_", " "),
        "video_job 1/1",
        "continuity_check_media 1/1",
        "review_submit 1/1",
        "review_decide 1/1",
    ]
    for step in steps:
        span = named(spans, step)
        assert span.trace_id == root.trace_id and span.parent_span_id == root.span_id, step
        assert span.service == "studio-mcp-traced"
    # Each step links back to its tool call's span, which stays in the caller's trace.
    generate_step = named(spans, "video_generate 1/1")
    call_span = named(spans, "tools/call video_generate")
    assert (call_span.trace_id, call_span.span_id) in generate_step.links
    assert call_span.trace_id == CLIENT_TRACE  # the client's traceparent is honoured
    assert call_span.attributes["studio.production"] == pid and call_span.attributes["studio.shot"] == "1/1"
    assert call_span.attributes["studio.cost_usd"] > 0 and call_span.attributes["studio.job"].startswith("vj_")
    assert call_span.attributes["studio.outcome"] == "ok"
    # Google GenAI calls are children of the step that made them, in the shot's trace.
    paid = named(spans, "gen_ai paid call")
    assert paid.trace_id == root.trace_id and paid.parent_span_id == generate_step.span_id
    # Chroma calls too: prompt_build's style searches are children of its step.
    prompt_step = named(spans, "prompt_build 1/1")
    assert any(s.name == "chroma call" and s.parent_span_id == prompt_step.span_id for s in spans)
    poll = named(spans, "gen_ai operations.get")
    assert poll.parent_span_id in {s.span_id for s in spans if s.name == "video poll 1/1"}


def test_without_otel_settings_nothing_is_installed(clean_env: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("OTEL_")]:
        clean_env.delenv(name)
    assert not tracing.exporting()
    assert tracing.start_exporting() is None
    server = build_server()
    assert not any(type(m).__name__ == "ToolCallTracing" for m in server.middleware)
