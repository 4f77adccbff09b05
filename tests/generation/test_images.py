"""image_generate over MCP against the fake: Gemini native images (Developer API) or Imagen (Vertex),
saved as assets with provenance and a resource link, estimated and budget-checked; bad input refused."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import BlobResourceContents, ResourceLink

from core import Settings
from server.app import build_server
from tests.fake_gemini import FakeGemini
from tests.helpers import call, error_text, make_production, result_data

KEY = "image-test-key"


@pytest.fixture
def env(fake_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    return fake_env


async def production(client: Client, name: str, budget: float | None = 5.0) -> str:
    lamp = {"number": 1, "description": "The lighthouse lamp turns over a black sea.", "duration_s": 8}
    return await make_production(
        client,
        name,
        kit="image-kit",
        logline="A lighthouse keeper's last night.",
        tone="still",
        must_not=["text overlays"],
        budget_usd=budget,
        shots={"1": [lamp]},
    )


async def test_gemini_native_image_is_saved_with_provenance_and_a_link(
    fake: FakeGemini, env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env.setenv("GEMINI_API_KEY", KEY)
    async with Client(build_server(Settings(data_dir=tmp_path))) as client:
        pid = await production(client, "Image Gemini")
        result = await client.call_tool("image_generate", {"production": pid, "shot": "1/1", "aspect_ratio": "1:1"})
        image = result_data(result)
        asset = image["asset"]
        assert image["backend"] == "developer" and image["model"] == "gemini-2.5-flash-image"
        assert asset["kind"] == "image" and asset["mime_type"] == "image/png" and asset["shot"] == "1/1"
        prov = asset["provenance"]
        assert prov["brief_version"] == 1 and prov["request"]["aspect_ratio"] == "1:1"
        assert prov["request"]["prompt"] == image["prompt"] and "text overlays" in (image["negative_prompt"] or "")
        [link] = [c for c in result.content if isinstance(c, ResourceLink)]
        blob = (await client.read_resource(str(link.uri))).contents[0]
        assert isinstance(blob, BlobResourceContents)
        assert base64.b64decode(blob.blob).startswith(b"\x89PNG")
        spend = (await call(client, "production_get", {"production": pid}))["spend"]
        assert spend["spent_usd"] == pytest.approx(0.039) and spend["committed_usd"] == 0

        # The image as a reference for the next one; a free prompt without a shot.
        second = await call(
            client,
            "image_generate",
            {"production": pid, "prompt": "the keeper's coat, front view", "reference_assets": [asset["id"]]},
        )
        assert second["asset"]["provenance"]["request"]["reference_assets"] == [asset["id"]]
        [request] = fake.requests_to(":generateContent")[-1:]
        parts = request["body"]["contents"][0]["parts"]
        assert any("inlineData" in p for p in parts) and request["body"]["generationConfig"]["responseModalities"]


async def test_imagen_on_vertex_when_only_vertex_is_configured(
    fake: FakeGemini, env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    env.setenv("GOOGLE_CLOUD_PROJECT", "studio-proj")
    env.setenv("GOOGLE_APPLICATION_CREDENTIALS", fake.write_adc_file(str(tmp_path / "adc.json")))
    async with Client(build_server(Settings(data_dir=tmp_path / "data"))) as client:
        pid = await production(client, "Image Imagen")
        image = await call(client, "image_generate", {"production": pid, "prompt": "a storm lantern"})
        assert image["backend"] == "vertex" and image["model"] == "imagen-4.0-generate-001"
        assert image["asset"]["mime_type"] == "image/png" and image["estimate_usd"] == pytest.approx(0.04)
        text = error_text(
            await client.call_tool(
                "image_generate", {"production": pid, "prompt": "x", "reference_assets": [image["asset"]["id"]]}
            )
        )
        assert "GEMINI_API_KEY" in text
    [request] = fake.requests_to(":predict")
    assert request["path"].endswith(
        "/projects/studio-proj/locations/us-central1/publishers/google/models/imagen-4.0-generate-001:predict"
    )


async def test_bad_input_and_budget_are_refused_before_paying(
    fake: FakeGemini, env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with Client(build_server(Settings(data_dir=tmp_path))) as client:
        pid = await production(client, "Image Refusals", budget=0.01)
        text = error_text(await client.call_tool("image_generate", {"production": pid, "prompt": "x"}))
        assert "GEMINI_API_KEY" in text and "GOOGLE_CLOUD_PROJECT" in text  # no credentials at all
    env.setenv("GEMINI_API_KEY", KEY)
    async with Client(build_server(Settings(data_dir=tmp_path))) as client:
        cases: list[tuple[dict[str, Any], str]] = [
            ({}, "Say what to draw"),
            ({"prompt": "x", "aspect_ratio": "7:1"}, "aspect ratio '7:1'"),
            ({"prompt": "x", "reference_assets": ["a_1", "a_2", "a_3", "a_4"]}, "at most 3"),
            ({"prompt": "x", "reference_assets": ["a_00000000000000000000"]}, "No asset"),
            ({"prompt": "x", "shot": "9/9"}, "No shot '9/9'"),
            ({"prompt": "x"}, "exceed the budget"),  # $0.039 > $0.01
        ]
        for args, words in cases:
            assert words in error_text(await client.call_tool("image_generate", {"production": pid, **args})), args
        spend = (await call(client, "production_get", {"production": pid}))["spend"]
        assert spend["spent_usd"] == 0 and spend["committed_usd"] == 0
    assert fake.requests_to(":generateContent") == []


async def test_a_refused_call_releases_the_estimate(fake: FakeGemini, env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.setenv("GEMINI_API_KEY", KEY)
    fake.add_fault(":generateContent", "safety", finish_reason="IMAGE_SAFETY")
    async with Client(build_server(Settings(data_dir=tmp_path))) as client:
        pid = await production(client, "Image Blocked")
        text = error_text(await client.call_tool("image_generate", {"production": pid, "prompt": "something"}))
        assert "IMAGE_SAFETY" in text
        spend = (await call(client, "production_get", {"production": pid}))["spend"]
        assert spend["spent_usd"] == 0 and spend["committed_usd"] == 0


@pytest.mark.parametrize("billed", [True, False])
async def test_a_lost_answer_holds_the_estimate_until_the_user_settles_it(
    fake: FakeGemini, env: pytest.MonkeyPatch, tmp_path: Path, billed: bool
) -> None:
    env.setenv("GEMINI_API_KEY", KEY)
    fake.add_fault(":generateContent", "close_after")
    async with Client(build_server(Settings(data_dir=tmp_path))) as client:
        pid = await production(client, "Image Lost")
        text = error_text(await client.call_tool("image_generate", {"production": pid, "prompt": "A lamp."}))
        [job] = re.findall(r"img_[0-9a-f]{16}", text)
        assert "image_settle" in text
        held = (await call(client, "production_get", {"production": pid}))["spend"]
        assert held["committed_usd"] > 0 and held["spent_usd"] == 0

        settled = await call(client, "image_settle", production=pid, job=job, billed=billed)
        assert settled["spend"]["committed_usd"] == 0
        assert settled["spend"]["spent_usd"] == (pytest.approx(held["committed_usd"]) if billed else 0)
        # Settling twice, or a job that holds nothing, is refused and changes nothing.
        for other in (job, "img_0000000000000000", "vj_0123456789abcdef"):
            assert "held estimate" in error_text(
                await client.call_tool("image_settle", {"production": pid, "job": other, "billed": True})
            )
        after = (await call(client, "production_get", {"production": pid}))["spend"]
        assert after == settled["spend"]
    assert len(fake.paid("image")) == 1  # settling sends nothing
