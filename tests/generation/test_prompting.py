"""prompt_build over a real MCP client (the session's HTTP server): every injected piece sits where
the result says, the prompt is deterministic, it follows the latest brief, and bad input is refused
with the fix while state stays as it was."""

from __future__ import annotations

from typing import Any

from mcp import Client

from tests.conftest import RunningServer
from tests.helpers import call, error_text, make_production

KIT = "gen-prompt-kit"
MUST = ["Mara's scar stays over her LEFT eyebrow", "rain falls upper left to lower right"]
MUST_NOT = ["modern smartphones", "lens flares, bloom"]
SHOTS = [
    {
        "number": 1,
        "description": "Mara lights the bow lantern as the ferry leaves the quay.",
        "characters": ["Mara"],
        "props": ["bow lantern"],
        "location": "Ferry Deck",
        "time_of_day": "dusk",
        "int_ext": "EXT",
        "lens": "35mm",
        "camera_move": "slow push-in",
        "framing": "medium close-up",
        "duration_s": 6,
        "emotional_beat": "quiet resolve",
        "screen_direction": "left-to-right",
        "weather": "light rain",
        "notes": "her breath visible in the cold",
    },
    {"number": 2, "description": "Wide of the ferry crossing the harbour mouth in fog.", "duration_s": 8},
]
_ingested: set[str] = set()


async def ensure_kit(client: Client) -> None:
    # Once per server process: the kit is shared by the tests of this module.
    if KIT not in _ingested:
        await call(client, "style_ingest", {"kit": KIT, "paths": ["sample_kit"]})
        _ingested.add(KIT)


async def ferry_production(client: Client, name: str, kit: str = KIT, shots: list[dict[str, Any]] = SHOTS) -> str:
    return await make_production(
        client,
        name,
        kit=kit,
        logline="A young deckhand keeps the lanterns lit on the last night ferry.",
        tone="hushed wonder with an ache underneath",
        must=MUST,
        must_not=MUST_NOT,
        shots={"1": shots},
    )


def where(result: dict[str, Any], injection: dict[str, Any]) -> str:
    span = injection["span"]
    return str(result[span["target"]][span["start"] : span["end"]])


def assert_spans_true(result: dict[str, Any]) -> None:
    for injection in result["injections"]:
        assert where(result, injection) == injection["text"], injection


async def test_prompt_build_injects_brief_shot_and_style_where_it_says(embedded_server: RunningServer) -> None:
    async with embedded_server.client() as client:
        await ensure_kit(client)
        pid = await ferry_production(client, "Gen Prompt Grounding")
        result = await call(client, "prompt_build", {"production": pid, "shot": "1/1"})

        assert result["shot"] == "1/1" and result["brief_version"] == 1 and result["duration_s"] == 6
        assert_spans_true(result)
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for injection in result["injections"]:
            by_kind.setdefault(injection["kind"], []).append(injection)

        # Every must is in the prompt, each at its own span.
        musts = by_kind["brief_must"]
        assert [m["text"] for m in musts] == MUST
        assert all(m["span"]["target"] == "prompt" and m["ref"].startswith("brief:v1#must[") for m in musts)
        # Every must-not is in the negative prompt AND in an explicit Avoid line of the prompt.
        must_nots = by_kind["brief_must_not"]
        for item in MUST_NOT:
            targets = sorted(m["span"]["target"] for m in must_nots if m["text"] == item)
            assert targets == ["negative_prompt", "prompt"], item
            assert item in result["negative_prompt"]
        avoid = next(line for line in result["prompt"].splitlines() if line.startswith("Avoid: "))
        assert all(item in avoid for item in MUST_NOT)
        assert result["negative_prompt"] == ", ".join(MUST_NOT)
        # Intent: the logline and tone.
        assert {i["ref"] for i in by_kind["brief_intent"]} == {"brief:v1#logline", "brief:v1#tone"}

        # Every shot field is injected and traceable to it.
        shot_fields = {i["ref"].split("#", 1)[1] for i in by_kind["shot"]}
        assert shot_fields >= {
            "description",
            "framing",
            "lens",
            "camera_move",
            "time_of_day",
            "int_ext",
            "location",
            "characters",
            "props",
            "emotional_beat",
            "screen_direction",
            "duration_s",
            "weather",
        }
        assert result["prompt"].startswith(SHOTS[0]["description"])

        # Style: each injected chunk is a real passage of the kit, placed verbatim (or clipped to a prefix).
        styles = by_kind["style"]
        assert styles and [s["ref"] for s in styles] == result["style_chunks"]
        assert len(set(result["style_chunks"])) == len(result["style_chunks"])  # deduplicated
        assert sum(len(s["text"]) for s in styles) <= 2400  # the length cap
        mara = await call(
            client, "style_search", {"query": "Mara face hair wardrobe", "kit": KIT, "entities": ["mara"], "k": 50}
        )
        general = await call(client, "style_search", {"query": "look and lighting", "kit": KIT, "k": 50})
        chunks = {h["id"]: " ".join(h["text"].split()) for h in [*mara["hits"], *general["hits"]]}
        for style in styles:
            assert style["ref"] in chunks, style["ref"]
            full = chunks[style["ref"]]
            assert style["text"] == full or (style["text"].endswith("…") and full.startswith(style["text"][:-1]))
        # The character's own material leads: the first passage is about Mara.
        assert any(s["ref"] in {h["id"] for h in mara["hits"]} for s in styles[:2])
        assert all(s["sources"] for s in styles)


async def test_prompt_build_is_deterministic(embedded_server: RunningServer) -> None:
    async with embedded_server.client() as client:
        await ensure_kit(client)
        pid = await ferry_production(client, "Gen Prompt Determinism")
        first = await call(client, "prompt_build", {"production": pid, "shot": "1/1"})
        second = await call(client, "prompt_build", {"production": pid, "shot": "1/1"})
        assert first["prompt"] == second["prompt"] and first["negative_prompt"] == second["negative_prompt"]
        assert first["sha256"] == second["sha256"] and first["injections"] == second["injections"]
        other = await call(client, "prompt_build", {"production": pid, "shot": "1/2"})
        assert other["sha256"] != first["sha256"]
        assert_spans_true(other)


async def test_amended_brief_changes_the_next_prompt_and_keeps_the_old_version(
    embedded_server: RunningServer,
) -> None:
    async with embedded_server.client() as client:
        await ensure_kit(client)
        pid = await ferry_production(client, "Gen Prompt Amend")
        before = await call(client, "prompt_build", {"production": pid, "shot": "1/1"})
        await call(
            client,
            "brief_amend",
            {
                "production": pid,
                "note": "Director: no birds anywhere.",
                "must": ["the bow lantern is the brightest light"],
                "must_not": ["seagulls"],
            },
        )
        after = await call(client, "prompt_build", {"production": pid, "shot": "1/1"})

        assert (before["brief_version"], after["brief_version"]) == (1, 2)
        assert after["sha256"] != before["sha256"]
        assert "the bow lantern is the brightest light" in after["prompt"]
        assert "seagulls" in after["negative_prompt"] and "seagulls" not in before["negative_prompt"]
        assert_spans_true(after)
        refs = {i["ref"] for i in after["injections"]}
        assert "brief:v2#must[2]" in refs and "brief:v2#must_not[2]" in refs

        production = await call(client, "production_get", {"production": pid})
        history = {b["version"]: b for b in production["brief_history"]}
        assert history[1]["must"] == MUST and history[1]["must_not"] == MUST_NOT  # the old brief, unchanged
        assert history[2]["must_not"] == [*MUST_NOT, "seagulls"]


async def test_prompt_build_without_kit_material_still_builds(embedded_server: RunningServer) -> None:
    async with embedded_server.client() as client:
        pid = await ferry_production(client, "Gen Prompt No Kit", kit="gen-never-ingested")
        result = await call(client, "prompt_build", {"production": pid, "shot": "1/1"})
        assert result["style_chunks"] == [] and not [i for i in result["injections"] if i["kind"] == "style"]
        assert any("gen-never-ingested" in w for w in result["warnings"])
        assert all(m in result["prompt"] for m in MUST)


async def test_prompt_build_bad_input(embedded_server: RunningServer) -> None:
    async with embedded_server.client() as client:
        pid = await ferry_production(client, "Gen Prompt Errors", kit="gen-never-ingested")
        before = await call(client, "production_get", {"production": pid})

        text = error_text(await client.call_tool("prompt_build", {"production": "gen-no-such-film", "shot": "1/1"}))
        assert "gen-no-such-film" in text and "production_create" in text
        text = error_text(await client.call_tool("prompt_build", {"production": pid, "shot": "1/9"}))
        assert "1/9" in text and "1/1, 1/2" in text
        text = error_text(await client.call_tool("prompt_build", {"production": pid, "shot": "7/1"}))
        assert "no scene '7'" in text
        text = error_text(await client.call_tool("prompt_build", {"production": pid, "shot": "one"}))
        assert "'<scene>/<number>'" in text

        after = await call(client, "production_get", {"production": pid})
        assert after["scenes"] == before["scenes"] and after["brief"] == before["brief"]
        assert (await call(client, "prompt_build", {"production": pid, "shot": "1/2"}))["shot"] == "1/2"


async def test_prompt_build_injects_continuity_facts(embedded_server: RunningServer) -> None:
    async with embedded_server.client() as client:
        pid = await ferry_production(client, "Gen Prompt Ledger", kit="gen-never-ingested")
        await call(
            client,
            "continuity_set",
            {
                "production": pid,
                "entity": "Mara",
                "kind": "character",
                "attributes": {"coat": "red wool, buttoned", "hair": "black bob"},
            },
        )
        await call(
            client,
            "continuity_set",
            {"production": pid, "entity": "9", "kind": "scene", "attributes": {"time_of_day": "dawn"}},
        )
        await call(
            client,
            "continuity_set",
            {
                "production": pid,
                "entity": "Mara",
                "kind": "character",
                "attributes": {"coat": "red wool, hanging open"},
                "from_scene": "9",
            },
        )
        await call(
            client,
            "continuity_set",
            {
                "production": pid,
                "entity": "1",
                "kind": "scene",
                "attributes": {"time_of_day": "dusk", "weather": "light rain"},
            },
        )
        result = await call(client, "prompt_build", {"production": pid, "shot": "1/1"})
        assert_spans_true(result)
        ledger = {i["ref"]: i for i in result["injections"] if i["kind"] == "ledger"}
        mara = ledger["ledger:character:Mara"]
        assert "coat: red wool, buttoned" in mara["text"] and "hair: black bob" in mara["text"]
        assert "hanging open" not in result["prompt"]  # a later scene's fact does not leak back
        assert mara["sources"] and all(s.startswith("f") for s in mara["sources"])
        assert "time_of_day: dusk" in ledger["ledger:scene:1"]["text"]
        assert set(result["ledger_entities"]) == {"Mara", "1"}
