"""The continuity ledger over a real MCP client: facts by scene, append-only history, references,
every bad input (error names the problem, nothing changes, the server keeps serving), and the
findings table and report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
import sqlalchemy as sa
from mcp import Client

from tests.conftest import RunningServer
from tests.helpers import build_app, call, error_text, make_production, result_data
from tools.continuity import FindingIn
from tools.continuity.schema import continuity_entities


async def setup(c: Client, scenes: tuple[str, ...] = ("11", "12")) -> str:
    """'Night Ferry', one shot of Mara in each scene."""
    return await make_production(
        c,
        "Night Ferry",
        kit="lumen-moss",
        shots={
            scene: [{"number": 1, "description": f"Mara on deck, scene {scene}", "characters": ["Mara"]}]
            for scene in scenes
        },
    )


async def test_fact_changes_from_scene_12_and_history_is_kept(tmp_path: Path) -> None:
    async with Client(build_app(tmp_path, "production", "continuity").server) as c:
        pid = await setup(c)
        first = await call(
            c,
            "continuity_set",
            production=pid,
            entity="Mara",
            kind="character",
            attributes={"jacket": "red wool", "Scar": "left cheek"},
            note="costume bible",
        )
        assert first["created"] is True
        assert {f["attribute"] for f in first["facts"]} == {"jacket", "scar"}  # keys normalised
        torn = await call(
            c,
            "continuity_set",
            production=pid,
            entity="mara",
            kind="character",
            attributes={"jacket": "red wool, torn"},
            from_scene="12",
            note="torn in the fight",
        )
        assert torn["created"] is False and torn["entity"] == "Mara"
        assert torn["state"]["attributes"]["jacket"] == "red wool, torn"

        at11 = await call(c, "continuity_get", production=pid, scene="11")
        at12 = await call(c, "continuity_get", production=pid, scene="12")
        mara11 = next(e for e in at11["entities"] if e["entity"] == "Mara")
        mara12 = next(e for e in at12["entities"] if e["entity"] == "Mara")
        assert mara11["attributes"] == {"jacket": "red wool", "scar": "left cheek"}
        assert mara12["attributes"] == {"jacket": "red wool, torn", "scar": "left cheek"}
        assert set(mara12["fact_ids"]) != set(mara11["fact_ids"])
        # Natural order: scene 2 is before 11, so the torn fact does not reach it; '12a' is after 12.
        await call(c, "continuity_set", production=pid, entity="2", kind="scene", attributes={"time_of_day": "night"})
        await call(c, "continuity_set", production=pid, entity="12a", kind="scene", attributes={"weather": "rain"})
        at2 = await call(c, "continuity_get", production=pid, entity="Mara", scene="2")
        assert at2["entities"][0]["attributes"]["jacket"] == "red wool"
        at12a = await call(c, "continuity_get", production=pid, entity="Mara", scene="12a")
        assert at12a["entities"][0]["attributes"]["jacket"] == "red wool, torn"

        # History: both jacket facts, in order, with their scenes and notes.
        hist = at2["history"][0]["facts"]
        jackets = [(f["value"], f["from_scene"], f["note"]) for f in hist if f["attribute"] == "jacket"]
        assert jackets == [("red wool", None, "costume bible"), ("red wool, torn", "12", "torn in the fight")]
        # A scene entity speaks for its own scene only.
        scene_entities = [e["entity"] for e in at12a["entities"]] if at12a["entities"] else []
        assert scene_entities == ["Mara"]
        all12a = await call(c, "continuity_get", production=pid, scene="12a")
        assert {e["entity"] for e in all12a["entities"]} == {"Mara", "12a"}

        # Setting the same fact again adds nothing; ending a fact with '' keeps its history.
        again = await call(
            c,
            "continuity_set",
            production=pid,
            entity="Mara",
            kind="character",
            attributes={"jacket": "red wool, torn"},
            from_scene="12",
        )
        assert again["facts"] == []
        healed = await call(
            c,
            "continuity_set",
            production=pid,
            entity="Mara",
            kind="character",
            attributes={"scar": ""},
            from_scene="12a",
        )
        assert "scar" not in healed["state"]["attributes"]
        full = await call(c, "continuity_get", production=pid, entity="Mara", history=True)
        assert len(full["history"][0]["facts"]) == 4
        assert (await call(c, "continuity_get", production=pid, entity="Mara", scene="12"))["entities"][0][
            "attributes"
        ]["scar"] == "left cheek"
        # Every change to the ledger is in the production's event log.
        events = (await call(c, "production_get", production=pid))["events"]
        ledger_events = [e for e in events if e["tool"] == "continuity_set"]
        assert len(ledger_events) == 6 and all(e["outcome"] == "ok" for e in ledger_events)
        assert ledger_events[1]["detail"] == {"facts": 1, "references": 0}


async def test_references_attach_to_entities(tmp_path: Path) -> None:
    app = build_app(tmp_path, "production", "continuity")
    async with Client(app.server) as c:
        pid = await setup(c)
        asset = app.productions.save_asset(pid, None, "image", "image/png", b"\x89PNG\r\n\x1a\n" + b"0" * 64)
        aid = asset.id
        res = await call(
            c,
            "continuity_set",
            production=pid,
            entity="Mara",
            kind="character",
            attributes={"hair": "short black"},
            references=[aid],
        )
        assert [r["asset"] for r in res["references"]] == [aid]
        got = await call(c, "continuity_get", production=pid, entity="Mara", scene="11")
        assert got["entities"][0]["references"] == [aid]
        states = (await app.families.continuity.ledger.load(app.productions.get(pid))).states("11", ["mara", "nobody"])
        assert [s.entity for s in states] == ["Mara"] and states[0].references == [aid]
        bad = await c.call_tool(
            "continuity_set",
            {"production": pid, "entity": "Mara", "kind": "character", "references": ["a_00000000000000000000"]},
        )
        assert "a_00000000000000000000" in error_text(bad)


BAD_INPUTS: list[tuple[dict[str, Any], str]] = [
    ({"kind": "costume"}, "`kind` must be one of 'character', "),
    ({"kind": "costume"}, "wardrobe"),  # lists the valid kinds
    ({"production": "no-such-production"}, "no-such-production"),
    ({"from_scene": "99"}, "'99' is not a scene"),
    ({"entity": "  "}, "entity is empty"),
    ({"attributes": {" ": "red"}}, "attribute name is empty"),
    ({"kind": "prop"}, "already a character"),
    ({"entity": "scene three", "kind": "scene"}, "not a scene name"),
    ({"references": [""]}, "reference asset id is empty"),
    ({"aliases": ["the skipper", "  "]}, "Bad aliases (alias 2:"),
    ({"aliases": [f"name {n}" for n in range(21)]}, "up to 20 other names"),
    ({"aliases": ["x" * 101]}, "Bad aliases"),
]


@pytest.mark.parametrize(("change", "expected"), BAD_INPUTS)
async def test_bad_input_is_refused_and_changes_nothing(tmp_path: Path, change: dict[str, Any], expected: str) -> None:
    async with Client(build_app(tmp_path, "production", "continuity").server) as c:
        pid = await setup(c)
        await call(c, "continuity_set", production=pid, entity="Mara", kind="character", attributes={"jacket": "red"})
        before = await call(c, "continuity_get", production=pid, history=True)
        args = {"production": pid, "entity": "Mara", "kind": "character", "attributes": {"jacket": "blue"}, **change}
        text = error_text(await c.call_tool("continuity_set", args))
        assert expected in text
        assert await call(c, "continuity_get", production=pid, history=True) == before
        # Still serving.
        assert (await call(c, "continuity_get", production=pid, entity="Mara"))["entities"][0]["attributes"] == {
            "jacket": "red"
        }


async def test_get_bad_inputs(tmp_path: Path) -> None:
    async with Client(build_app(tmp_path, "production", "continuity").server) as c:
        pid = await setup(c)
        missing = await c.call_tool("continuity_get", {"production": pid, "entity": "Ode"})
        assert "No entity 'Ode'" in error_text(missing)
        assert "'40' is not a scene" in error_text(
            await c.call_tool("continuity_get", {"production": pid, "scene": "40"})
        )
        assert "nope" in error_text(await c.call_tool("continuity_get", {"production": "nope"}))
        nothing = await c.call_tool("continuity_set", {"production": pid, "entity": "Mara", "kind": "character"})
        assert result_data(nothing)["created"] is True
        assert "Nothing to set" in error_text(
            await c.call_tool("continuity_set", {"production": pid, "entity": "Mara", "kind": "character"})
        )


async def test_scene_entity_creates_the_scene(tmp_path: Path) -> None:
    async with Client(build_app(tmp_path, "production", "continuity").server) as c:
        pid = await setup(c, scenes=())
        assert "not a scene" in error_text(
            await c.call_tool(
                "continuity_set",
                {
                    "production": pid,
                    "entity": "Mara",
                    "kind": "character",
                    "attributes": {"hair": "grey"},
                    "from_scene": "5",
                },
            )
        )
        await call(
            c,
            "continuity_set",
            production=pid,
            entity="5",
            kind="scene",
            attributes={"time_of_day": "dusk", "int_ext": "EXT"},
        )
        res = await call(
            c,
            "continuity_set",
            production=pid,
            entity="Mara",
            kind="character",
            attributes={"hair": "grey"},
            from_scene="5",
        )
        assert res["facts"][0]["from_scene"] == "5"


async def test_findings_are_recorded_resolved_and_reported_sorted(tmp_path: Path) -> None:
    app = build_app(tmp_path, "production", "continuity")
    async with Client(app.server) as c:
        pid = await setup(c, scenes=("2", "10", "10a"))
        await app.families.continuity.findings.record(
            pid,
            [
                FindingIn(severity="warning", rule="palette_shift", time_s=3.5, evidence="ΔE 14 at 3.5 s"),
                FindingIn(severity="error", rule="subject_drift", entity="Mara", time_s=8.0),
            ],
            source="media",
            shot="10/1",
            asset="a_0123456789abcdef0123",
        )
        await app.families.continuity.findings.record(
            pid,
            [FindingIn(severity="error", rule="attribute_mismatch", entity="Mara", expected="red", found="blue")],
            source="preflight",
            shot="2/1",
        )
        await app.families.continuity.findings.record(
            pid,
            [FindingIn(severity="warning", rule="must_missing", expected="lanterns")],
            source="preflight",
            shot="10a/1",
        )
        report = await call(c, "continuity_report", production=pid)
        order = [(f["shot"], f["severity"]) for f in report["findings"]]
        assert order == [("2/1", "error"), ("10/1", "error"), ("10/1", "warning"), ("10a/1", "warning")]
        assert report["counts"] == {"total": 4, "open": 4, "resolved": 0, "errors": 2, "warnings": 2, "info": 0}
        assert report["findings"][1]["time_s"] == 8.0 and report["findings"][1]["asset"] == "a_0123456789abcdef0123"
        # A re-check that no longer finds the error resolves it; one that finds it again does not duplicate.
        await app.families.continuity.findings.record(pid, [], source="preflight", shot="2/1")
        await app.families.continuity.findings.record(
            pid,
            [FindingIn(severity="warning", rule="must_missing", expected="lanterns")],
            source="preflight",
            shot="10a/1",
        )
        report = await call(c, "continuity_report", production=pid)
        assert report["counts"]["total"] == 4 and report["counts"]["resolved"] == 1
        resolved = [f for f in report["findings"] if f["resolved"]]
        assert resolved[0]["shot"] == "2/1" and resolved[0]["resolved_note"] == "not found by a later check"
        assert [s["shot"] for s in report["shots"]] == ["2/1", "10/1", "10a/1"]
        assert "nope" in error_text(await c.call_tool("continuity_report", {"production": "nope"}))


async def test_review_prompt_and_wiring_in_the_real_server(embedded_server: RunningServer) -> None:
    async with embedded_server.client() as c:
        tools = {t.name for t in (await c.list_tools()).tools}
        assert {"continuity_set", "continuity_get", "continuity_check_prompt", "continuity_report"} <= tools
        prompts = {p.name for p in (await c.list_prompts()).prompts}
        assert "continuity_review" in prompts
        got = await c.get_prompt("continuity_review", {"production": "night-ferry"})
        text = got.messages[0].content.text  # type: ignore[union-attr]
        assert "continuity_report(production='night-ferry')" in text
        pid = await make_production(
            c, "Ledger Wiring", kit="lumen-moss", shots={"1": [{"number": 1, "description": "Mara at the rail"}]}
        )
        res = result_data(
            await c.call_tool(
                "continuity_set",
                {"production": pid, "entity": "Mara", "kind": "character", "attributes": {"coat": "red"}},
            )
        )
        assert res["state"]["attributes"] == {"coat": "red"}


async def test_aliases_are_stored_append_only_and_shown(tmp_path: Path) -> None:
    async with Client(build_app(tmp_path, "production", "continuity").server) as c:
        pid = await setup(c)
        first = await call(
            c,
            "continuity_set",
            production=pid,
            entity="Tomas Reyes",
            kind="character",
            attributes={"coat": "ochre duffel"},
            aliases=["the skipper"],
            note="crew call him that",
        )
        assert [a["alias"] for a in first["aliases"]] == ["the skipper"]
        # First name and surname count by default; stored aliases come first.
        assert first["state"]["aliases"] == ["the skipper", "Tomas", "Reyes"]
        # Aliases alone are something to set; a repeat (any case) adds nothing; a new one is appended.
        again = await call(
            c, "continuity_set", production=pid, entity="tomas reyes", kind="character", aliases=["The Skipper", "Tom"]
        )
        assert [a["alias"] for a in again["aliases"]] == ["Tom"] and again["facts"] == []
        got = await call(c, "continuity_get", production=pid, entity="Tomas Reyes")
        assert got["entities"][0]["aliases"] == ["the skipper", "Tom", "Tomas", "Reyes"]
        history = got["history"][0]["aliases"]
        assert [(a["alias"], a["note"]) for a in history] == [("the skipper", "crew call him that"), ("Tom", None)]
        # A namesake makes the shared surname name nobody by default.
        sister = await call(c, "continuity_set", production=pid, entity="Ana Reyes", kind="character", attributes={})
        assert sister["state"]["aliases"] == ["Ana"]
        got = await call(c, "continuity_get", production=pid, entity="Tomas Reyes")
        assert got["entities"][0]["aliases"] == ["the skipper", "Tom", "Tomas"]
        # An alias names one entity; a scene takes none; neither refusal changes anything.
        before = await call(c, "continuity_get", production=pid, history=True)
        taken = await c.call_tool(
            "continuity_set", {"production": pid, "entity": "Ana Reyes", "kind": "character", "aliases": ["Tom"]}
        )
        assert "Alias 'Tom' already names 'Tomas Reyes'" in error_text(taken)
        named = await c.call_tool(
            "continuity_set",
            {"production": pid, "entity": "Ana Reyes", "kind": "character", "aliases": ["tomas reyes"]},
        )
        assert "already names 'Tomas Reyes'" in error_text(named)
        scene = await c.call_tool(
            "continuity_set",
            {"production": pid, "entity": "11", "kind": "scene", "attributes": {"weather": "rain"}, "aliases": ["x"]},
        )
        assert "scene entity takes no aliases" in error_text(scene)
        wrong_type = await c.call_tool(
            "continuity_set", {"production": pid, "entity": "Ana Reyes", "kind": "character", "aliases": "Tom"}
        )
        assert "aliases" in error_text(wrong_type)
        assert await call(c, "continuity_get", production=pid, history=True) == before


def test_alias_migration_is_new_and_the_first_is_unchanged() -> None:
    from tools.continuity.schema import LEDGER_MIGRATIONS, MIGRATIONS

    assert [m.id for m in LEDGER_MIGRATIONS] == ["continuity-001-ledger", "continuity-002-aliases"]
    assert [m.id for m in MIGRATIONS] == ["continuity-001-ledger", "continuity-002-aliases", "continuity-002-findings"]
    first, aliases = ([t.name for t in m.tables] for m in LEDGER_MIGRATIONS)
    assert first == ["continuity_entities", "continuity_facts", "continuity_references"]
    assert aliases == ["continuity_aliases"]


async def test_an_entity_is_one_entity_under_any_case_on_both_engines(
    state_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL has no NOCASE collation: 'Mara', 'mara' and 'MARA' (also set at the same time) must
    still be one entity, with its first spelling, and every fact under it."""
    if state_url.startswith("sqlite"):
        monkeypatch.delenv("STUDIO_STATE_URL", raising=False)  # SQLite in the data directory
    else:
        monkeypatch.setenv("STUDIO_STATE_URL", state_url)
    app = build_app(tmp_path / "data", "production", "continuity")
    async with Client(app.server) as c:
        assert app.context.state.dialect == state_url.split(":", 1)[0]
        pid = await setup(c)
        first = await call(
            c, "continuity_set", production=pid, entity="Mara", kind="character", attributes={"coat": "red"}
        )
        assert first["created"] is True
        again = await call(
            c, "continuity_set", production=pid, entity="mara", kind="character", attributes={"hat": "none"}
        )
        assert again["created"] is False and again["entity"] == "Mara"
        assert again["state"]["attributes"] == {"coat": "red", "hat": "none"}
        wrong_kind = await c.call_tool(
            "continuity_set", {"production": pid, "entity": "MARA", "kind": "prop", "attributes": {"x": "y"}}
        )
        assert "'Mara' is already a character" in error_text(wrong_kind)

        async def put(name: str, value: str) -> None:
            await call(c, "continuity_set", production=pid, entity=name, kind="prop", attributes={"colour": value})

        async with anyio.create_task_group() as tg:
            for i, name in enumerate(["Lantern", "lantern", "LANTERN", "lanTern"]):
                tg.start_soon(put, name, f"c{i}")
        got = await call(c, "continuity_get", production=pid, history=True)
        names = {e["entity"].lower(): e["entity"] for e in got["entities"]}
        assert len(got["entities"]) == 2 and names["mara"] == "Mara" and "lantern" in names  # the first set wins
        lantern = next(h for h in got["history"] if h["entity"].lower() == "lantern")
        assert len(lantern["facts"]) == 4
        assert {f["entity"] for f in lantern["facts"]} == {lantern["entity"]}
        entities = continuity_entities.c
        stored = app.context.state.rows(
            sa.select(entities.entity).where(entities.production == pid).order_by(entities.created_at)
        )
        assert [r["entity"].lower() for r in stored] == ["mara", "lantern"]
