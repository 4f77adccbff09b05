"""continuity_check_media over MCP: planted breaks found at their time, controls quiet, references used."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from bench.synthetic_clips import make_clip
from tests.conftest import RunningServer
from tests.helpers import error_text, result_data

TOLERANCE_S = 0.5


async def _setup(client: Client, name: str) -> str:
    production = result_data(
        await client.call_tool(
            "production_create",
            {
                "name": name,
                "kit": f"{name}-kit",
                "logline": "A deckhand's last night crossing.",
                "tone": "quiet, cold",
            },
        )
    )["id"]
    result_data(
        await client.call_tool("style_ingest", {"kit": f"{name}-kit", "paths": ["sample_kit/brand_palette.json"]})
    )
    result_data(
        await client.call_tool(
            "shots_save",
            {
                "production": production,
                "scene": "1",
                "shots": [
                    {
                        "number": 1,
                        "description": "Mara coils rope on the deck.",
                        "characters": ["mara"],
                        "duration_s": 4,
                    },
                    {
                        "number": 2,
                        "description": "Mara looks up at the lighthouse.",
                        "characters": ["mara"],
                        "duration_s": 4,
                    },
                ],
            },
        )
    )
    return production


@pytest.fixture(scope="module")
def clips(embedded_server: RunningServer) -> dict[str, Any]:
    folder = embedded_server.workdir / "clips"
    folder.mkdir(exist_ok=True)
    truth = make_clip("jacket", folder / "jacket.mp4", seed=3, duration_s=3.5)
    make_clip("pan", folder / "pan.mp4", seed=2, duration_s=3.5)
    (folder / "notes.txt").write_text("not a video")
    (folder / "empty.mp4").write_bytes(b"")
    data = (folder / "jacket.mp4").read_bytes()
    (folder / "truncated.mp4").write_bytes(data[: len(data) // 3])
    return {"jacket_events": truth.events}


async def test_planted_jacket_change_is_found_at_its_time_and_reported(
    embedded_server: RunningServer, clips: dict[str, Any]
) -> None:
    async with embedded_server.client() as client:
        production = await _setup(client, "media-drift")
        result = result_data(
            await client.call_tool(
                "continuity_check_media", {"production": production, "path": "clips/jacket.mp4", "shot": "1/2"}
            )
        )
        [(t_true, kind_true)] = clips["jacket_events"]
        breaks = result["analysis"]["breaks"]
        assert [b["kind"] for b in breaks] == [kind_true]
        assert abs(breaks[0]["time_s"] - t_true) <= TOLERANCE_S
        assert len(result["analysis"]["samples"]) >= 4 * 3  # at least 4 samples a second
        drift = [f for f in result["findings"] if f["rule"] == f"media.{kind_true}"]
        assert drift and abs(drift[0]["time_s"] - t_true) <= TOLERANCE_S and drift[0]["source"] == "media"
        assert result["asset"].startswith("a_") and result["shot"] == "1/2"
        assert {"role": "brand_palette", "ref": "media-drift-kit"} == {
            k: v for k, v in result["references"][0].items() if k != "detail"
        }
        assert "#B3261E" in result["references"][0]["detail"]
        assert result["analysis"]["palette_check"]["brand_palette"]

        report = result_data(await client.call_tool("continuity_report", {"production": production}))
        media = [f for f in report["findings"] if f["source"] == "media"]
        assert any(f["rule"] == f"media.{kind_true}" and f["asset"] == result["asset"] for f in media)

        # Checking the same asset again keeps one open finding per break, not two.
        again = result_data(
            await client.call_tool("continuity_check_media", {"production": production, "asset": result["asset"]})
        )
        assert again["shot"] == "1/2"
        assert len([f for f in again["findings"] if f["rule"] == f"media.{kind_true}"]) == 1


async def test_a_camera_pan_is_not_a_break_and_references_are_used(
    embedded_server: RunningServer, clips: dict[str, Any]
) -> None:
    async with embedded_server.client() as client:
        production = await _setup(client, "media-pan")
        reference = result_data(
            await client.call_tool(
                "continuity_check_media", {"production": production, "path": "sample_kit/refs/red_coat_silhouette.png"}
            )
        )
        assert reference["analysis"]["media_type"] == "image"
        result_data(
            await client.call_tool(
                "continuity_set",
                {
                    "production": production,
                    "entity": "mara",
                    "kind": "character",
                    "attributes": {"coat": "red wool"},
                    "references": [reference["asset"]],
                },
            )
        )
        result = result_data(
            await client.call_tool(
                "continuity_check_media",
                {
                    "production": production,
                    "path": "clips/pan.mp4",
                    "shot": "1/1",
                    "against": ["clips/jacket.mp4"],
                },
            )
        )
        assert result["analysis"]["breaks"] == []
        assert not [f for f in result["findings"] if f["rule"] in ("media.subject_drift", "media.cut")]
        roles = {r["role"] for r in result["references"]}
        assert {"brand_palette", "entity_reference", "against"} <= roles
        assert len(result["analysis"]["reference_checks"]) == 1
        assert result["analysis"]["transition_check"] is not None  # the video in `against` is the previous clip


BAD = [
    ({"path": "clips/notes.txt"}, "video"),
    ({"path": "clips/empty.mp4"}, "empty"),
    ({"path": "clips/truncated.mp4"}, "truncated"),
    ({"path": "/etc/hostname"}, "outside the allowed roots"),
    ({"path": "clips/jacket.mp4", "asset": "a_0000"}, "exactly one"),
    ({}, "exactly one"),
    ({"asset": "a_doesnotexist"}, "a_doesnotexist"),
    ({"path": "clips/jacket.mp4", "shot": "9/9"}, "9/9"),
]


@pytest.mark.parametrize(("args", "expected"), BAD)
async def test_bad_media_input_is_a_clear_error_and_records_nothing(
    embedded_server: RunningServer, clips: dict[str, Any], args: dict[str, Any], expected: str
) -> None:
    async with embedded_server.client() as client:
        name = "media-bad"
        listed = (
            result_data(await client.call_tool("production_get", {"production": name}))
            if await _exists(client, name)
            else None
        )
        production = listed["id"] if listed else await _setup(client, name)
        before = result_data(await client.call_tool("continuity_report", {"production": production}))
        message = error_text(await client.call_tool("continuity_check_media", {"production": production, **args}))
        assert expected.lower() in message.lower(), message
        after = result_data(await client.call_tool("continuity_report", {"production": production}))
        assert after == before


async def _exists(client: Client, name: str) -> bool:
    return not (await client.call_tool("production_get", {"production": name})).is_error


def test_clip_generator_is_importable_from_the_bench_package() -> None:
    assert Path(make_clip.__code__.co_filename).name == "synthetic_clips.py"


async def test_the_same_file_checked_in_two_productions_is_an_asset_of_each(embedded_server: RunningServer) -> None:
    async with embedded_server.client() as client:
        first, second = await _setup(client, "media-share-a"), await _setup(client, "media-share-b")
        ref = "sample_kit/refs/harbour_dusk.png"
        a = result_data(await client.call_tool("continuity_check_media", {"production": first, "path": ref}))
        b = result_data(await client.call_tool("continuity_check_media", {"production": second, "path": ref}))
        assert a["asset"] != b["asset"]
        for production, asset in ((first, a["asset"]), (second, b["asset"])):
            got = result_data(await client.call_tool("asset_get", {"asset": asset}))
            assert got["production"] == production
