"""cost_estimate over MCP: one price table with its source and date, overridable by STUDIO_PRICES_JSON;
unknown models refused; production_get shows spent, committed and remaining."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from core import Settings
from server.app import build_server
from tests.helpers import error_text, result_data


async def test_video_and_image_estimates_carry_their_source(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    async with Client(build_server(Settings(data_dir=tmp_path))) as client:
        veo = result_data(await client.call_tool("cost_estimate", {"model": "veo-3.1-generate-001"}))
        assert veo["estimate_usd"] == pytest.approx(3.2) and veo["unit_price_usd"] == 0.4
        assert "cloud.google.com" in veo["price_source"] and veo["price_as_of"] and not veo["price_overridden"]
        silent = result_data(
            await client.call_tool(
                "cost_estimate",
                {
                    "model": "veo-3.1-fast-generate-001",
                    "duration_s": 4,
                    "count": 2,
                    "resolution": "1080p",
                    "audio": False,
                },
            )
        )
        assert silent["estimate_usd"] == pytest.approx(0.10 * 4 * 2)
        image = result_data(await client.call_tool("cost_estimate", {"model": "gemini-2.5-flash-image", "count": 3}))
        assert image["kind"] == "image" and image["estimate_usd"] == pytest.approx(3 * 0.039)

        cases: list[tuple[dict[str, Any], str]] = [
            ({"model": "veo-9"}, "No video price for model 'veo-9'"),
            ({"model": "veo-2.0-generate-001"}, "pass audio=False"),
            ({"model": "veo-2.0-generate-001", "audio": False, "resolution": "1080p"}, "no price at '1080p'"),
            ({"model": "veo-3.1-generate-001", "count": 0}, "`count` must be an integer of at least 1, got 0"),
        ]
        for args, words in cases:
            assert words in error_text(await client.call_tool("cost_estimate", args)), args
        # Still serving.
        assert result_data(await client.call_tool("cost_estimate", {"model": "veo-3.1-generate-001"}))


async def test_prices_can_be_overridden(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    table = {
        "source": "studio contract",
        "as_of": "2026-01-01",
        "video": {"veo-3.1-generate-001": {"720p": {"audio": 0.30, "silent": 0.15}}},
        "image": {"my-image-model": 0.01},
    }
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(table))
    async with Client(build_server(Settings(data_dir=tmp_path / "data"))) as client:
        clean_env.setenv("STUDIO_PRICES_JSON", str(path))
        veo = result_data(await client.call_tool("cost_estimate", {"model": "veo-3.1-generate-001"}))
        assert veo["estimate_usd"] == pytest.approx(2.4) and veo["price_overridden"]
        assert veo["price_source"] == "studio contract" and veo["price_as_of"] == "2026-01-01"
        other = result_data(await client.call_tool("cost_estimate", {"model": "veo-3.1-fast-generate-001"}))
        assert other["estimate_usd"] == pytest.approx(1.2)  # models not overridden keep the built-in price
        clean_env.setenv("STUDIO_PRICES_JSON", json.dumps(table))  # inline JSON works too
        image = result_data(await client.call_tool("cost_estimate", {"model": "my-image-model"}))
        assert image["estimate_usd"] == pytest.approx(0.01)
        clean_env.setenv("STUDIO_PRICES_JSON", "{not json")
        assert "is not a usable price table" in error_text(
            await client.call_tool("cost_estimate", {"model": "veo-3.1-generate-001"})
        )


async def test_production_shows_budget_spent_committed_remaining(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    async with Client(build_server(Settings(data_dir=tmp_path))) as client:
        created = result_data(
            await client.call_tool(
                "production_create",
                {"name": "Cost Budget", "kit": "cost-kit", "logline": "A short film.", "tone": "dry", "budget_usd": 5},
            )
        )
        spend = created["spend"]
        assert spend == {"budget_usd": 5.0, "spent_usd": 0.0, "committed_usd": 0.0, "remaining_usd": 5.0}
