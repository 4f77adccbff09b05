"""The production family over real MCP clients: productions, append-only briefs, shots, the event
log, assets and spend. Most tests use an in-process server on their own data directory; one runs
against the shared HTTP subprocess to prove the family is wired into the real server."""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import zlib
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import anyio
import pytest
import sqlalchemy as sa
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import BlobResourceContents, ReadResourceResult, ResourceLink, TextResourceContents

from core import NotFound, Settings, StudioError
from server.app import build_server
from tests.conftest import RunningServer
from tests.helpers import App, build_app, error_text, result_data
from tools import production
from tools.production import BudgetExceeded, InvalidInput, asset_id, check_budget

T = TypeVar("T")

BRIEF = {
    "name": "Lantern Ferry",
    "kit": "lumen-moss",
    "logline": "An old ferry pilot carries lanterns across a dark harbour for the last time.",
    "tone": "quiet, warm, melancholic",
    "must": ["Mara's red coat"],
    "must_not": ["daylight"],
    "budget_usd": 20.0,
}
SHOTS = [
    {"number": 1, "description": "Wide of the harbour at dusk", "location": "harbour", "duration_s": 8},
    {"number": 2, "description": "Mara lifts a lantern", "characters": ["mara"], "framing": "close-up"},
    {"number": 3, "description": "The ferry pulls away", "camera_move": "slow push-in", "duration_s": 6},
]


def studio_server(data_dir: Path) -> App:
    """A server offering only the production family's tools, and the app behind it, so a test can call
    the service directly."""
    return build_app(data_dir, "production")


async def in_thread(fn: Callable[[], T]) -> T:
    return await anyio.to_thread.run_sync(fn)


async def get(client: Client, pid: str) -> dict[str, Any]:
    return result_data(await client.call_tool("production_get", {"production": pid}))


def digest(inputs: dict[str, Any]) -> str:
    canonical = json.dumps(inputs, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def text(read: ReadResourceResult) -> str:
    content = read.contents[0]
    assert isinstance(content, TextResourceContents), content
    return content.text


def blob(read: ReadResourceResult) -> bytes:
    content = read.contents[0]
    assert isinstance(content, BlobResourceContents), content
    return base64.b64decode(content.blob)


def png(seed: int) -> bytes:
    """A tiny valid PNG whose pixel depends on seed."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixel = zlib.compress(bytes([0, seed % 256, 40, 200]))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixel) + chunk(b"IEND", b"")


# -- productions and briefs ------------------------------------------------------------------


async def test_create_get_and_amend_keep_every_brief_version(tmp_path: Path) -> None:
    async with Client(build_server(Settings(data_dir=tmp_path))) as client:
        created = result_data(await client.call_tool("production_create", BRIEF))
        assert created["id"] == "lantern-ferry"
        assert created["brief"]["version"] == 1
        assert created["brief"]["must"] == ["Mara's red coat"]
        assert created["brief"]["must_not"] == ["daylight"]
        assert created["spend"] == {"budget_usd": 20.0, "spent_usd": 0, "committed_usd": 0, "remaining_usd": 20.0}
        # The kit has no material yet: allowed, with a warning that says how to add some.
        assert any("style_ingest" in w for w in created["warnings"])
        v1 = created["brief_history"][0]

        amended = result_data(
            await client.call_tool(
                "brief_amend",
                {
                    "production": "lantern-ferry",
                    "note": "Client wants rain",
                    "must": ["rain on the deck"],
                    "must_not": ["umbrellas", "daylight"],
                },
            )
        )
        assert [b["version"] for b in amended["brief_history"]] == [1, 2]
        assert amended["brief_history"][0] == v1, "version 1 changed after an amendment"
        v2 = amended["brief"]
        assert v2["version"] == 2 and v2["note"] == "Client wants rain"
        assert v2["must"] == ["Mara's red coat", "rain on the deck"]
        assert v2["must_not"] == ["daylight", "umbrellas"]  # the repeat is not added twice
        assert (v2["logline"], v2["tone"], v2["budget_usd"]) == (v1["logline"], v1["tone"], 20.0)

        # A new budget is an amendment too; the earlier versions keep theirs.
        amended = result_data(
            await client.call_tool(
                "brief_amend", {"production": "Lantern Ferry", "note": "more money", "budget_usd": 50}
            )
        )
        assert [b["budget_usd"] for b in amended["brief_history"]] == [20.0, 20.0, 50.0]
        assert amended["spend"]["remaining_usd"] == 50.0

        fetched = await get(client, "lantern-ferry")
        assert fetched["brief_history"][:2] == amended["brief_history"][:2]
        assert fetched["brief_history"][0] == v1

        resource = await client.read_resource("studio://productions/lantern-ferry")
        assert resource.contents[0].mime_type == "application/json"
        assert json.loads(text(resource))["brief_history"] == fetched["brief_history"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"logline": "  "}, "logline is empty"),
        ({"tone": ""}, "tone is empty"),
        ({"budget_usd": -5}, "below zero"),
        ({"kit": "not a kit!"}, "not valid"),
        ({"name": "!!!"}, "no letters or digits"),
        ({"name": ""}, "name is empty"),
        ({"must": ["night"], "must_not": ["Night"]}, "both require and forbid"),
        ({"must": ["ok", " "]}, "must item 2 is empty"),
    ],
)
async def test_create_refuses_bad_briefs_and_saves_nothing(
    tmp_path: Path, change: dict[str, Any], expected: str
) -> None:
    async with Client(build_server(Settings(data_dir=tmp_path))) as client:
        message = error_text(await client.call_tool("production_create", {**BRIEF, **change}))
        assert expected in message
        gone = error_text(await client.call_tool("production_get", {"production": "lantern-ferry"}))
        assert "no productions yet" in gone
        # The server keeps serving.
        assert result_data(await client.call_tool("production_create", BRIEF))["id"] == "lantern-ferry"


async def test_duplicate_production_names_the_existing_one(tmp_path: Path) -> None:
    async with Client(build_server(Settings(data_dir=tmp_path))) as client:
        result_data(await client.call_tool("production_create", BRIEF))
        message = error_text(
            await client.call_tool("production_create", {**BRIEF, "name": "lantern ferry!", "tone": "loud"})
        )
        assert "'lantern-ferry' already exists" in message and "'Lantern Ferry'" in message
        state = await get(client, "lantern-ferry")
        assert state["name"] == "Lantern Ferry" and state["brief"]["tone"] == BRIEF["tone"]
        assert len(state["brief_history"]) == 1
        assert [(e["tool"], e["outcome"]) for e in state["events"]] == [
            ("production_create", "ok"),
            ("production_create", "error:conflict"),
        ]


async def test_names_in_any_script_make_readable_ids_and_keep_their_display_name(tmp_path: Path) -> None:
    async with Client(build_server(Settings(data_dir=tmp_path))) as client:
        for name, expected in [
            ("Les Misérables", "les-miserables"),
            ("Łódź Nights", "lodz-nights"),
            ("千と千尋の神隠し", "qian-toqian-xun-noshen-yin-si"),
        ]:
            created = result_data(await client.call_tool("production_create", {**BRIEF, "name": name}))
            assert created["id"] == expected and created["name"] == name
            assert (await get(client, name))["id"] == expected  # found by its name as given


async def test_unknown_production_lists_known_ids(tmp_path: Path) -> None:
    async with Client(build_server(Settings(data_dir=tmp_path))) as client:
        result_data(await client.call_tool("production_create", BRIEF))
        result_data(await client.call_tool("production_create", {**BRIEF, "name": "Salt Road"}))
        calls: list[tuple[str, dict[str, Any]]] = [
            ("production_get", {"production": "nope"}),
            ("brief_amend", {"production": "nope", "note": "x"}),
            ("shots_save", {"production": "nope", "scene": "1", "shots": SHOTS}),
        ]
        for tool, args in calls:
            message = error_text(await client.call_tool(tool, args))
            assert "No production 'nope'" in message, tool
            assert "lantern-ferry" in message and "salt-road" in message and "production_create" in message
        with pytest.raises(MCPError, match="No production 'nope'"):
            await client.read_resource("studio://productions/nope")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"note": "   "}, "needs a note"),
        ({"note": "flip", "must": ["daylight"]}, "both require and forbid"),
        ({"note": "cut", "budget_usd": -1}, "below zero"),
        ({"note": "x", "must_not": [""]}, "must_not item 1 is empty"),
    ],
)
async def test_amend_refuses_bad_input_and_logs_the_attempt(
    tmp_path: Path, args: dict[str, Any], expected: str
) -> None:
    async with Client(build_server(Settings(data_dir=tmp_path))) as client:
        before = result_data(await client.call_tool("production_create", BRIEF))
        message = error_text(await client.call_tool("brief_amend", {"production": "lantern-ferry", **args}))
        assert expected in message
        after = await get(client, "lantern-ferry")
        assert after["brief_history"] == before["brief_history"]
        assert after["events"][-1]["tool"] == "brief_amend"
        assert after["events"][-1]["outcome"] == "error:invalid_input"
        assert expected in after["events"][-1]["detail"]["error"]


async def test_brief_versions_and_events_cannot_be_rewritten_in_sql(tmp_path: Path) -> None:
    app = studio_server(tmp_path)
    async with Client(app.server) as client:
        result_data(await client.call_tool("production_create", BRIEF))
        statements = [
            "UPDATE brief_versions SET tone = 'loud'",
            "DELETE FROM brief_versions",
            "UPDATE production_events SET outcome = 'ok'",
            "DELETE FROM production_events",
        ]
        for sql in statements:

            def run(sql: str = sql) -> None:
                with app.context.state.transaction() as tx:
                    tx.execute(sa.text(sql))

            with pytest.raises(sa.exc.IntegrityError, match=r"immutable|append-only"):
                await in_thread(run)
        state = await get(client, "lantern-ferry")
        assert state["brief"]["tone"] == BRIEF["tone"] and len(state["events"]) == 1


# -- shots -----------------------------------------------------------------------------------


async def test_shots_save_then_production_get_shows_scenes_in_natural_order(tmp_path: Path) -> None:
    async with Client(build_server(Settings(data_dir=tmp_path))) as client:
        result_data(await client.call_tool("production_create", BRIEF))
        for scene in ("10", "2", "10a"):
            saved = result_data(
                await client.call_tool("shots_save", {"production": "lantern-ferry", "scene": scene, "shots": SHOTS})
            )
            assert saved["added"] == [f"{scene}/1", f"{scene}/2", f"{scene}/3"]
            assert saved["changed"] == saved["removed"] == saved["unchanged"] == []
        state = await get(client, "lantern-ferry")
        assert list(state["scenes"]) == ["2", "10", "10a"]
        shots = state["scenes"]["10"]
        assert [s["ref"] for s in shots] == ["10/1", "10/2", "10/3"]
        assert shots[1]["characters"] == ["mara"] and shots[1]["framing"] == "close-up"
        assert shots[1]["duration_s"] == 8.0  # the default
        assert shots[2]["camera_move"] == "slow push-in" and shots[2]["duration_s"] == 6
        assert {(s["status"], s["source"], s["production"]) for s in shots} == {("planned", "agent", "lantern-ferry")}


async def test_replanning_a_scene_is_atomic_and_resets_only_changed_shots(tmp_path: Path) -> None:
    app = studio_server(tmp_path)
    async with Client(app.server) as client:
        result_data(await client.call_tool("production_create", BRIEF))
        result_data(await client.call_tool("shots_save", {"production": "lantern-ferry", "scene": "3", "shots": SHOTS}))
        for ref in ("3/1", "3/2"):
            await in_thread(partial(app.productions.set_shot_status, "lantern-ferry", ref, "approved"))

        replan = [
            SHOTS[0],
            {**SHOTS[1], "description": "Mara lowers the lantern"},
            {"number": 4, "description": "Lantern light on the water"},
        ]
        saved = result_data(
            await client.call_tool("shots_save", {"production": "lantern-ferry", "scene": "3", "shots": replan})
        )
        assert (saved["unchanged"], saved["changed"], saved["added"], saved["removed"]) == (
            ["3/1"],
            ["3/2"],
            ["3/4"],
            ["3/3"],
        )
        status = {s["ref"]: s["status"] for s in saved["shots"]}
        assert status == {"3/1": "approved", "3/2": "planned", "3/4": "planned"}

        # The Gemini path (shots_plan) saves through the same method and is logged as its own tool.
        spec = production.ShotSpec(number=1, description="A gull crosses the frame")
        gemini = await in_thread(lambda: app.productions.save_scene("lantern-ferry", "4", [spec], "gemini"))
        assert gemini.shots[0].source == "gemini"
        events = (await get(client, "lantern-ferry"))["events"]
        assert events[-1]["tool"] == "shots_plan" and events[-1]["detail"]["source"] == "gemini"


BAD_SHOT_LISTS = [
    ([], "has no shots"),
    ([SHOTS[0], {**SHOTS[1], "number": 1}], "shot number(s) 1 appear more than once"),
    ([{**SHOTS[0], "duration_s": 0}], "duration_s=0 is impossible"),
    ([{**SHOTS[0], "duration_s": 61}], "duration_s=61 is impossible"),
    ([{**SHOTS[0], "duration_s": -3}], "duration_s=-3 is impossible"),
    ([SHOTS[0], {"number": 2}], "shot 2 (item 3): description is missing"),
    ([{**SHOTS[0], "camera": "dolly"}], "unknown field(s) camera"),
    ([{**SHOTS[0], "number": 0}], "number=0 is out of range"),
    ([{**SHOTS[0], "int_ext": "outside"}], "int_ext"),
]


@pytest.mark.parametrize(("shots", "expected"), BAD_SHOT_LISTS)
async def test_bad_shot_lists_are_refused_whole(tmp_path: Path, shots: list[dict[str, Any]], expected: str) -> None:
    async with Client(build_server(Settings(data_dir=tmp_path))) as client:
        result_data(await client.call_tool("production_create", BRIEF))
        result_data(await client.call_tool("shots_save", {"production": "lantern-ferry", "scene": "3", "shots": SHOTS}))
        before = await get(client, "lantern-ferry")
        # A good shot beside the bad one: nothing of the list may be saved.
        bad = [{"number": 9, "description": "A good shot that must not be saved"}, *shots] if shots else shots
        message = error_text(
            await client.call_tool("shots_save", {"production": "lantern-ferry", "scene": "3", "shots": bad})
        )
        assert expected in message
        assert "not saved" in message or "no shots" in message
        after = await get(client, "lantern-ferry")
        assert after["scenes"] == before["scenes"]
        assert after["events"][-1]["outcome"] == "error:invalid_input"


async def test_bad_scene_name_and_unknown_shots_explain_the_form(tmp_path: Path) -> None:
    app = studio_server(tmp_path)
    async with Client(app.server) as client:
        result_data(await client.call_tool("production_create", BRIEF))
        message = error_text(
            await client.call_tool("shots_save", {"production": "lantern-ferry", "scene": "../3", "shots": SHOTS})
        )
        assert "not a valid scene name" in message
        result_data(await client.call_tool("shots_save", {"production": "lantern-ferry", "scene": "3", "shots": SHOTS}))

        service = app.productions
        assert (await in_thread(lambda: service.shot("lantern-ferry", "3/2"))).description == SHOTS[1]["description"]
        with pytest.raises(NotFound, match=r"scene '3' has 3/1, 3/2, 3/3"):
            await in_thread(lambda: service.shot("lantern-ferry", "3/9"))
        with pytest.raises(NotFound, match=r"no scene '7'; its scenes are 3.*'<scene>/<number>'"):
            await in_thread(lambda: service.shot("lantern-ferry", "7/1"))
        with pytest.raises(InvalidInput, match=r"use '<scene>/<number>', e.g. '3/2'"):
            await in_thread(lambda: service.shot("lantern-ferry", "shot three"))
        # A production already read finds its shots without a query, with the same answers.
        read = await in_thread(lambda: service.get("lantern-ferry"))
        assert read.find_shot("3/2") == await in_thread(lambda: service.shot("lantern-ferry", "3/2"))
        for ref in ("3/9", "7/1", "shot three"):
            with pytest.raises(StudioError) as from_query:
                await in_thread(partial(service.shot, "lantern-ferry", ref))
            with pytest.raises(StudioError) as from_read:
                read.find_shot(ref)
            assert str(from_read.value) == str(from_query.value)
        with pytest.raises(InvalidInput, match="Unknown shot status"):
            await in_thread(lambda: service.set_shot_status("lantern-ferry", "3/1", "done"))
        assert await in_thread(lambda: service.scenes("lantern-ferry")) == ["3"]
        assert production.natural_key("2") < production.natural_key("10") < production.natural_key("10a")


# -- event log -------------------------------------------------------------------------------


async def test_event_log_records_every_change_with_a_digest_of_its_inputs(tmp_path: Path) -> None:
    async with Client(build_server(Settings(data_dir=tmp_path))) as client:
        result_data(await client.call_tool("production_create", BRIEF))
        amend = {"production": "lantern-ferry", "note": "rain", "must": ["rain"], "must_not": [], "budget_usd": None}
        result_data(await client.call_tool("brief_amend", amend))
        save = {"production": "lantern-ferry", "scene": "1", "shots": SHOTS}
        result_data(await client.call_tool("shots_save", save))
        error_text(await client.call_tool("shots_save", {**save, "shots": []}))
        result_data(await client.call_tool("production_get", {"production": "lantern-ferry"}))  # reads log nothing

        events = (await get(client, "lantern-ferry"))["events"]
        assert [(e["tool"], e["outcome"]) for e in events] == [
            ("production_create", "ok"),
            ("brief_amend", "ok"),
            ("shots_save", "ok"),
            ("shots_save", "error:invalid_input"),
        ]
        assert events[0]["inputs_digest"] == digest(BRIEF)
        assert events[1]["inputs_digest"] == digest(amend)
        assert events[2]["inputs_digest"] == digest(save)
        assert events[1]["detail"]["added_must"] == ["rain"]
        assert events[2]["detail"]["added"] == ["1/1", "1/2", "1/3"]
        assert all(e["actor"] is None for e in events)
        assert [e["at"] for e in events] == sorted(e["at"] for e in events)


# -- assets ----------------------------------------------------------------------------------


async def test_asset_get_and_resource_return_the_saved_file(tmp_path: Path) -> None:
    app = studio_server(tmp_path / "data")
    service = app.productions
    async with Client(app.server) as client:
        result_data(await client.call_tool("production_create", BRIEF))
        result_data(await client.call_tool("shots_save", {"production": "lantern-ferry", "scene": "3", "shots": SHOTS}))
        data = png(1)
        provenance = {"model": "gemini-2.5-flash-image", "prompt": "a lantern", "brief_version": 1}
        asset = await in_thread(
            lambda: service.save_asset("lantern-ferry", "3/2", "image", "image/png", data, provenance)
        )
        sha = hashlib.sha256(data).hexdigest()
        assert asset.id == asset_id(asset.production, sha) and asset.sha256 == sha and asset.bytes == len(data)
        assert Path(asset.path) == (tmp_path / "data" / "media" / f"{sha}.png").resolve()

        result = await client.call_tool("asset_get", {"asset": asset.id})
        record = result_data(result)
        assert record["provenance"] == provenance and record["shot"] == "3/2" and record["kind"] == "image"
        assert record["uri"] == f"studio://assets/{asset.id}"
        links = [c for c in result.content if isinstance(c, ResourceLink)]
        assert len(links) == 1 and str(links[0].uri) == record["uri"] and links[0].mime_type == "image/png"

        read = await client.read_resource(record["uri"])
        assert blob(read) == data

        # Same bytes again: same asset, same single file, no temporary files left behind.
        again = await in_thread(lambda: service.save_asset("lantern-ferry", "3/2", "image", "image/png", data, {}))
        assert again == asset
        retake = await in_thread(
            lambda: service.save_asset("lantern-ferry", "3/2", "image", "image/png", png(2), {}, parent=asset.id)
        )
        assert retake.parent == asset.id and retake.id != asset.id
        assert sorted(p.name for p in (tmp_path / "data" / "media").iterdir()) == sorted(
            [f"{sha}.png", f"{retake.sha256}.png"]
        )

        # Importing a file by path (continuity and review do this).
        source = tmp_path / "frame.png"
        source.write_bytes(png(3))
        imported = await in_thread(
            lambda: service.add_asset_file("lantern-ferry", str(source), shot="3/1", roots=[tmp_path])
        )
        assert imported.mime_type == "image/png" and imported.provenance["imported_from"] == str(source)
        listed = await in_thread(lambda: service.assets("lantern-ferry"))
        assert {a.id for a in listed} == {asset.id, retake.id, imported.id}
        read = await client.read_resource(imported.uri)
        assert blob(read) == png(3)


async def test_bad_assets_are_refused_and_record_nothing(tmp_path: Path) -> None:
    app = studio_server(tmp_path / "data")
    service = app.productions
    async with Client(app.server) as client:
        result_data(await client.call_tool("production_create", BRIEF))
        result_data(await client.call_tool("shots_save", {"production": "lantern-ferry", "scene": "3", "shots": SHOTS}))
        huge = tmp_path / "huge.mp4"  # sparse: larger than the limit without using the disk
        with huge.open("wb") as f:
            f.truncate(int(app.context.settings.max_media_mb * 1024 * 1024) + 1)
        bad_calls: list[tuple[Callable[[], object], str]] = [
            (lambda: service.save_asset("lantern-ferry", "3/9", "image", "image/png", png(1), {}), "No shot '3/9'"),
            (
                lambda: service.save_asset("lantern-ferry", "three", "image", "image/png", png(1), {}),
                "'<scene>/<number>'",
            ),
            (lambda: service.save_asset("nope", None, "image", "image/png", png(1), {}), "No production 'nope'"),
            (lambda: service.save_asset("lantern-ferry", None, "video", "image/png", png(1), {}), "video/*"),
            (lambda: service.save_asset("lantern-ferry", None, "audio", "audio/wav", png(1), {}), "'video' or 'image'"),
            (lambda: service.save_asset("lantern-ferry", None, "image", "image/png", b"", {}), "empty"),
            (lambda: service.save_asset("lantern-ferry", None, "image", "image/png", png(1), {"x": object()}), "JSON"),
            (
                lambda: service.save_asset("lantern-ferry", None, "image", "image/png", png(1), {}, parent="a_0"),
                "No asset",
            ),
            (
                lambda: service.add_asset_file("lantern-ferry", str(tmp_path / "missing.png"), roots=[tmp_path]),
                "does not exist",
            ),
            (
                lambda: service.add_asset_file("lantern-ferry", "/etc/hostname", roots=[tmp_path]),
                "outside the allowed roots",
            ),
            (lambda: service.add_asset_file("lantern-ferry", str(huge), roots=[tmp_path]), "STUDIO_MAX_MEDIA_MB"),
        ]
        for call, expected in bad_calls:
            with pytest.raises(StudioError, match=expected.replace("*", r"\*").replace("(", r"\(")):
                await in_thread(call)
        assert await in_thread(lambda: service.assets("lantern-ferry")) == []
        media = tmp_path / "data" / "media"
        assert not media.exists() or list(media.iterdir()) == []

        message = error_text(await client.call_tool("asset_get", {"asset": "a_0123"}))
        assert "No asset 'a_0123'" in message and "20 hex digits" in message
        with pytest.raises(MCPError, match="No asset"):
            await client.read_resource("studio://assets/a_00000000000000000000")


# -- spend -----------------------------------------------------------------------------------


async def test_spend_commit_settle_release_and_budget_refusal(tmp_path: Path) -> None:
    app = studio_server(tmp_path)
    service = app.productions
    async with Client(app.server) as client:
        result_data(await client.call_tool("production_create", BRIEF))  # budget $20

        await in_thread(lambda: service.commit_spend("lantern-ferry", "job-1", 6.0))
        await in_thread(lambda: service.commit_spend("lantern-ferry", "job-1", 6.0))  # a retry: counted once
        await in_thread(lambda: service.commit_spend("lantern-ferry", "job-2", 4.0))
        await in_thread(lambda: service.commit_spend("lantern-ferry", "job-3", 3.0))
        spend = (await get(client, "lantern-ferry"))["spend"]
        assert spend == {"budget_usd": 20.0, "spent_usd": 0, "committed_usd": 13.0, "remaining_usd": 7.0}

        await in_thread(lambda: service.settle_spend("job-1", actual_usd=5.5))
        await in_thread(lambda: service.settle_spend("job-1"))  # a resumed poll: no change
        await in_thread(lambda: service.release_spend("job-2"))
        await in_thread(lambda: service.release_spend("job-1"))  # billed already: stays spent
        spend = (await get(client, "lantern-ferry"))["spend"]
        assert spend == {"budget_usd": 20.0, "spent_usd": 5.5, "committed_usd": 3.0, "remaining_usd": 11.5}

        spend_now = await in_thread(lambda: service.spend("lantern-ferry"))
        check_budget("lantern-ferry", spend_now, 11.5)
        with pytest.raises(BudgetExceeded) as refused:
            check_budget("lantern-ferry", spend_now, 12.0)
        text = str(refused.value)
        for figure in ("budget $20.00", "spent $5.50", "committed $3.00", "this estimate $12.00", "shortfall $0.50"):
            assert figure in text
        with pytest.raises(BudgetExceeded):
            await in_thread(lambda: service.commit_spend("lantern-ferry", "job-4", 12.0))
        assert (await in_thread(lambda: service.spend("lantern-ferry"))).committed_usd == 3.0
        with pytest.raises(InvalidInput, match="not an amount"):
            await in_thread(lambda: service.commit_spend("lantern-ferry", "job-5", -1.0))
        with pytest.raises(NotFound, match="job-9"):
            await in_thread(lambda: service.settle_spend("job-9"))

        result_data(await client.call_tool("production_create", {**BRIEF, "name": "No Budget", "budget_usd": None}))
        check_budget("no-budget", await in_thread(lambda: service.spend("no-budget")), 10_000.0)
        assert (await in_thread(lambda: service.spend("no-budget"))).remaining_usd is None


# -- the real server process -----------------------------------------------------------------


async def test_production_tools_over_the_http_server(embedded_server: RunningServer) -> None:
    async with embedded_server.client() as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        for name in ("production_create", "production_get", "brief_amend", "shots_save", "asset_get"):
            assert name in tools and tools[name].output_schema, name
            schema = json.dumps(tools[name].input_schema)
            assert "$ref" not in schema and "$defs" not in schema, name
        assert "camera_move" in json.dumps(tools["shots_save"].input_schema)

        created = result_data(
            await client.call_tool("production_create", {**BRIEF, "name": "HTTP Ferry", "kit": "http-kit"})
        )
        result_data(await client.call_tool("shots_save", {"production": created["id"], "scene": "1", "shots": SHOTS}))
        resource = await client.read_resource(f"studio://productions/{created['id']}")
        assert [s["ref"] for s in json.loads(text(resource))["scenes"]["1"]] == ["1/1", "1/2", "1/3"]
