"""The preflight checker over a real MCP client: each rule fires on its violation and stays quiet
on its control; evidence spans point into the checked text; findings land in the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from tests.helpers import build_app, call, error_text, make_production
from tools.continuity.ledger import Ledger
from tools.continuity.models import Fact
from tools.continuity.preflight import check_text

MARA = "Mara, in her red wool jacket, lifts a lantern"


def shot(number: int, description: str, **fields: Any) -> dict[str, Any]:
    return {"number": number, "description": description, **fields}


# rule -> (scene, shots, shot checked, scene of a second copy for controls that differ only by scene)
CASES: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {
    "attribute_mismatch": (
        [shot(1, "Mara in a navy parka carries a lantern along the pier.", characters=["Mara"])],
        [shot(1, "Mara in a crimson parka carries a lantern along the pier.", characters=["Mara"])],
    ),
    "side_flip": (
        [shot(1, "Close on the scar on Mara's right cheek as she lights the lantern.", characters=["Mara"])],
        [shot(1, "Close on the scar on Mara's left cheek as she lights the lantern.", characters=["Mara"])],
    ),
    "must_not_present": (
        [shot(1, f"{MARA}; brand logos cover the ferry's hull.", characters=["Mara"])],
        [shot(1, f"{MARA}; the hull is bare, no logos anywhere.", characters=["Mara"])],
    ),
    "must_missing": (
        [shot(1, "Mara, in her red wool jacket, looks across the harbour.", characters=["Mara"])],
        [shot(1, f"{MARA} and looks across the harbour.", characters=["Mara"])],
    ),
    "time_of_day_jump": (
        [
            shot(1, f"{MARA}.", time_of_day="night", characters=["Mara"]),
            shot(2, "The lantern sways over black water.", time_of_day="night"),
            shot(3, f"{MARA} on the deck.", time_of_day="midday", characters=["Mara"]),
        ],
        [
            shot(1, f"{MARA}.", time_of_day="night", characters=["Mara"]),
            shot(2, "The lantern sways over black water.", time_of_day="night"),
            shot(3, f"{MARA} on the deck.", time_of_day="midnight", characters=["Mara"]),
        ],
    ),
    "weather_jump": (
        [
            shot(1, f"{MARA}.", weather="rain", characters=["Mara"]),
            shot(2, "The lantern hisses in the downpour.", weather="rain"),
            shot(3, f"{MARA} on the deck.", weather="clear", characters=["Mara"]),
        ],
        [
            shot(1, f"{MARA}.", weather="rain", characters=["Mara"]),
            shot(2, "The lantern hisses in the downpour.", weather="rain"),
            shot(3, f"{MARA} on the deck as the rain clears.", weather="clear", characters=["Mara"]),
        ],
    ),
    "screen_direction_flip": (
        [
            shot(1, f"{MARA} and walks aft.", screen_direction="left-to-right", characters=["Mara"]),
            shot(2, f"{MARA} and keeps walking.", screen_direction="left to right", characters=["Mara"]),
            shot(3, f"{MARA} and reaches the stern.", screen_direction="right-to-left", characters=["Mara"]),
        ],
        [
            shot(1, f"{MARA} and walks aft.", screen_direction="left-to-right", characters=["Mara"]),
            shot(2, f"{MARA} and keeps walking.", screen_direction="left to right", characters=["Mara"]),
            shot(
                3,
                f"{MARA} and reaches the stern.",
                screen_direction="right-to-left",
                characters=["Mara"],
                notes="camera crosses the line on the turn",
            ),
        ],
    ),
    "unannounced_entrance": (
        [
            shot(1, f"{MARA}.", characters=["Mara"]),
            shot(2, "Ode stands beside Mara at the lantern.", characters=["Mara", "Ode"]),
        ],
        [
            shot(1, f"{MARA}.", characters=["Mara"]),
            shot(2, "Ode steps in beside Mara at the lantern.", characters=["Mara", "Ode"]),
        ],
    ),
}


async def preflight_production(c: Client, name: str = "Preflight Ferry") -> str:
    """A production whose brief must have a lantern and no logos, with Mara, Ode and a map in the ledger."""
    pid = await make_production(
        c,
        name,
        kit="lumen-moss",
        logline="A pilot ferries lanterns across a dark harbour.",
        must=["lantern"],
        must_not=["logos"],
        shots={"12": [shot(1, f"{MARA}.", characters=["Mara"])]},
    )
    await call(
        c,
        "continuity_set",
        production=pid,
        entity="Mara",
        kind="character",
        attributes={"jacket": "red wool", "scar": "left cheek", "hair": "short black"},
    )
    await call(c, "continuity_set", production=pid, entity="Ode", kind="character", attributes={"hat": "grey cap"})
    await call(c, "continuity_set", production=pid, entity="map", kind="prop", attributes={"state": "intact"})
    await call(
        c, "continuity_set", production=pid, entity="map", kind="prop", attributes={"state": "torn"}, from_scene="12"
    )
    return pid


def rules(check: dict[str, Any]) -> set[str]:
    return {f["rule"] for f in check["findings"]}


@pytest.mark.parametrize("rule", list(CASES))
async def test_rule_fires_on_violation_and_not_on_control(tmp_path: Path, rule: str) -> None:
    violation, control = CASES[rule]
    async with Client(build_app(tmp_path, "production", "continuity").server) as c:
        pid = await preflight_production(c)
        await call(c, "shots_save", production=pid, scene="3", shots=violation)
        await call(c, "shots_save", production=pid, scene="4", shots=control)
        ref = len(violation)
        bad = await call(c, "continuity_check_prompt", production=pid, shot=f"3/{ref}")
        good = await call(c, "continuity_check_prompt", production=pid, shot=f"4/{ref}")
        assert rules(bad) == {rule}, bad["findings"]
        assert rules(good) == set(), good["findings"]
        finding = bad["findings"][0]
        assert bad["has_errors"] == (finding["severity"] == "error")
        assert finding["message"] and finding["suggestion"]
        ev = finding["evidence"]
        if ev is not None and ev["field"] == "description":
            text = next(s["description"] for s in violation if s["number"] == ref)
            assert text[ev["start"] : ev["end"]] == ev["text"]


async def test_state_too_early_then_allowed_from_its_scene(tmp_path: Path) -> None:
    async with Client(build_app(tmp_path, "production", "continuity").server) as c:
        pid = await preflight_production(c)
        text = "Mara unfolds the torn map under the lantern."
        await call(c, "shots_save", production=pid, scene="5", shots=[shot(1, text, characters=["Mara"])])
        await call(c, "shots_save", production=pid, scene="12", shots=[shot(1, text, characters=["Mara"])])
        early = await call(c, "continuity_check_prompt", production=pid, shot="5/1")
        assert rules(early) == {"state_too_early"}
        f = early["findings"][0]
        assert f["entity"] == "map" and f["found"] == "torn" and "12" in f["expected"]
        assert f["evidence"]["text"] == "torn map" and f["suggestion"] == "intact map"
        on_time = await call(c, "continuity_check_prompt", production=pid, shot="12/1")
        assert rules(on_time) == set()


async def test_prompt_checks_with_colour_synonyms_and_distractors(tmp_path: Path) -> None:
    async with Client(build_app(tmp_path, "production", "continuity").server) as c:
        pid = await preflight_production(c)
        ok = (
            "Mara, in a scarlet coat, watches a fisherman in a blue parka light his lantern. "
            "No logos on the hull.\nAvoid: lens flare; logos."
        )
        assert rules(await call(c, "continuity_check_prompt", production=pid, prompt=ok, scene="12")) == set()
        wrong = "A blonde Mara with long hair lifts the lantern; the scar on her right cheek glistens."
        res = await call(c, "continuity_check_prompt", production=pid, prompt=wrong, scene="12")
        assert rules(res) == {"attribute_mismatch", "side_flip"}
        assert res["recorded"] is False  # a raw prompt belongs to no shot
        for f in res["findings"]:
            assert wrong[f["evidence"]["start"] : f["evidence"]["end"]] == f["evidence"]["text"]
        side = next(f for f in res["findings"] if f["rule"] == "side_flip")
        assert side["expected"] == "left cheek" and "left cheek" in side["suggestion"]
        # Without a scene, any value the fact ever has is accepted (the torn map is fine).
        loose = await call(c, "continuity_check_prompt", production=pid, prompt="Mara holds the torn map by a lantern.")
        assert rules(loose) == set() and loose["notes"]


async def test_shot_findings_go_to_the_report_and_a_fix_resolves_them(tmp_path: Path) -> None:
    async with Client(build_app(tmp_path, "production", "continuity").server) as c:
        pid = await preflight_production(c)
        await call(c, "shots_save", production=pid, scene="3", shots=CASES["attribute_mismatch"][0])
        await call(c, "shots_save", production=pid, scene="10", shots=CASES["must_missing"][0])
        await call(c, "continuity_check_prompt", production=pid, shot="10/1")
        check = await call(c, "continuity_check_prompt", production=pid, shot="3/1")
        assert check["recorded"] is True and check["has_errors"] is True
        report = await call(c, "continuity_report", production=pid)
        assert [(f["shot"], f["rule"], f["source"]) for f in report["findings"]] == [
            ("3/1", "attribute_mismatch", "preflight"),
            ("10/1", "must_missing", "preflight"),
        ]
        assert report["findings"][0]["evidence"].startswith("description[")
        await call(c, "shots_save", production=pid, scene="3", shots=CASES["attribute_mismatch"][1])
        assert rules(await call(c, "continuity_check_prompt", production=pid, shot="3/1")) == set()
        report = await call(c, "continuity_report", production=pid)
        assert report["counts"]["resolved"] == 1 and report["counts"]["open"] == 1


async def test_bad_inputs(tmp_path: Path) -> None:
    async with Client(build_app(tmp_path, "production", "continuity").server) as c:
        pid = await preflight_production(c)
        cases = [
            ({"production": pid}, "Nothing to check"),
            ({"production": pid, "prompt": "   "}, "prompt is empty"),
            ({"production": pid, "shot": "99/1"}, "99/1"),
            ({"production": pid, "shot": "banana"}, "'<scene>/<number>'"),
            ({"production": "nope", "prompt": "Mara"}, "nope"),
            ({"production": pid, "prompt": "Mara", "scene": "77"}, "'77' is not a scene"),
        ]
        for args, expected in cases:
            assert expected in error_text(await c.call_tool("continuity_check_prompt", args))
        assert (await call(c, "continuity_report", production=pid))["counts"]["total"] == 0


# -- natural prose (issue 9): one violation and its control per miss group, through the pure rules -------


def natural_ledger() -> Ledger:
    """Juno Alvarez (she) and Tomas Reyes (he, 'the skipper'), a map torn from scene 12, scene 3 at night."""
    facts: list[Fact] = []

    def fact(entity: str, attr: str, value: str, scene: str | None = None) -> None:
        facts.append(
            Fact(id=f"f{len(facts) + 1}", entity=entity, attribute=attr, value=value, from_scene=scene, created_at="-")
        )

    for attr, value in {
        "pronouns": "she/her",
        "coat": "yellow oilskin",
        "boots": "black rubber",
        "hair": "long auburn braid",
        "gloves": "grey wool",
    }.items():
        fact("Juno Alvarez", attr, value)
    fact("Juno Alvarez", "gloves", "", "8")
    for attr, value in {"pronouns": "he/him", "facial_hair": "clean-shaven", "scarf": "green knit"}.items():
        fact("Tomas Reyes", attr, value)
    fact("Mara Quint", "jacket", "red wool")
    fact("Mara Quint", "jacket", "red wool, torn hem", "12")
    fact("Mara Quint", "scar", "left cheek")
    fact("map", "state", "intact")
    fact("map", "state", "torn", "12")
    fact("3", "time_of_day", "night")
    fact("3", "weather", "rain")
    fact("3", "screen_direction", "left-to-right")
    kinds = {
        "Juno Alvarez": "character",
        "Tomas Reyes": "character",
        "Mara Quint": "character",
        "map": "prop",
        "3": "scene",
    }
    return Ledger("natural", kinds=kinds, facts=facts, aliases={"Tomas Reyes": ["the skipper"]})


# group -> (scene, violation, rule, control)
NATURAL: dict[str, tuple[str, str, str, str]] = {
    "first_name": (
        "5",
        "Juno hurries down the gangway in a navy coat.",
        "attribute_mismatch",
        "Juno hurries down the gangway, her yellow oilskin streaming.",
    ),
    "alias": (
        "5",
        "The skipper wraps a purple scarf around his throat.",
        "attribute_mismatch",
        "The skipper knots his green scarf.",
    ),
    "synonym": (
        "5",
        "Juno's red galoshes squeak on the wet deck.",
        "attribute_mismatch",
        "Juno's black wellies squeak on the wet deck.",
    ),
    "removal": (
        "5",
        "Juno has taken off her gloves and grips the rope.",
        "attribute_mismatch",
        "Juno takes off her gloves, then pulls them back on.",
    ),
    "negation": (
        "5",
        "Tomas wears a scarf, not the green one today but red.",
        "attribute_mismatch",
        "Tomas wears a scarf, not the red one today but green.",
    ),
    "absence_word": (
        "5",
        "Juno, gloveless, grips the rail.",
        "attribute_mismatch",
        "Tomas, clean-shaven as always, takes the helm.",
    ),
    "shape": ("5", "A bearded Reyes takes the helm.", "attribute_mismatch", "A bearded fisherman nods at Tomas."),
    "length": (
        "5",
        "Juno's hair is cropped close to the scalp.",
        "attribute_mismatch",
        "Juno's long braid swings as she turns.",
    ),
    "relative_clause": (
        "5",
        "Tomas steps out. The scarf he knots against the wind is a deep crimson.",
        "attribute_mismatch",
        "The light that falls on Tomas's green scarf is red.",
    ),
    "possessed_state": (
        "5",
        "The hem of Mara's jacket is torn.",
        "state_too_early",
        "Mara's sleeve brushes the ripped sail.",
    ),
    "its_part": (
        "5",
        "Juno folds the map, its edge ripped.",
        "state_too_early",
        "Juno folds the map, its edges crisp.",
    ),
    "time_of_day": (
        "3",
        "Dawn light spills across the wet deck.",
        "attribute_mismatch",
        "Night rain drums on the roof.",
    ),
    "weather": (
        "3",
        "Juno squints under a blazing sun.",
        "attribute_mismatch",
        "Rain streams off Juno's oilskin in the dark.",
    ),
    "screen_direction": (
        "3",
        "Mara exits frame left, heading for the stern.",
        "screen_direction_flip",
        "Mara turns around and walks back right to left.",
    ),
    "must_not_synonym": (
        "5",
        "Juno checks her cellphone by the rail.",
        "must_not_present",
        "Juno lifts the receiver of an old payphone on the quay.",
    ),
    "pronoun": (
        "5",
        "Juno nods to a passing fisherman. Her boots are bright white.",
        "attribute_mismatch",
        "Juno nods to a passing fisherman. His boots are bright white.",
    ),
    "named_colour": (
        "5",
        "Juno's oilskin is a deep aubergine.",
        "attribute_mismatch",
        "Juno's oilskin is a sunflower yellow.",
    ),
    # A pale name the CIELAB margin puts in two families (cream: yellow and white) keeps its hand-kept one.
    "hand_kept_colour": ("5", "Juno's oilskin is cream.", "attribute_mismatch", "Juno's oilskin is canary."),
    "removal_any_tense": (
        "5",
        "Juno pulls her gloves off to tie the knot.",
        "attribute_mismatch",
        "Juno never takes off her gloves on deck.",
    ),
    "removal_undone_or_refused": (
        "5",
        "Tomas unwinds his scarf and drapes it over the rail.",
        "attribute_mismatch",
        "Juno, without taking off her gloves, ties the knot; Tomas unwinds his scarf, then winds it back on.",
    ),
    "double_negation_with_a_gap": (
        "5",
        "Juno reads the chart without her gloves.",
        "attribute_mismatch",
        "Juno never works without her gloves.",
    ),
    "colour_in_an_aside": (
        "5",
        "Juno waves. Her oilskin, deep purple, glistens.",
        "attribute_mismatch",
        "Juno waves. Her oilskin, bright canary, glistens.",
    ),
    "side_placed_by_a_verb": (
        "5",
        "Mara's scar runs down her right cheek.",
        "side_flip",
        "Mara's scar catches the light from the right porthole.",
    ),
    "relative_clause_subject": (
        "5",
        "Mara, who stands beside Juno, wears a navy jacket.",
        "attribute_mismatch",
        "The deckhand who stands beside Juno wears a navy coat.",
    ),
    "time_word_on_light": (
        "3",
        "A pale morning sky hangs over the deck.",
        "attribute_mismatch",
        "Juno asks about the morning ferry as rain falls in the dark.",
    ),
    "footwear_is_one_slot": (
        "5",
        "Juno's brown brogues squeak on the deck.",
        "attribute_mismatch",
        "Juno's black brogues squeak on the deck.",
    ),
}


@pytest.mark.parametrize("group", list(NATURAL))
def test_natural_prose_violation_and_control(group: str) -> None:
    scene, violation, rule, control = NATURAL[group]
    ledger = natural_ledger()
    bad = check_text(ledger, scene, violation, "prompt", must_not=["mobile phones"])
    good = check_text(ledger, scene, control, "prompt", must_not=["mobile phones"])
    assert rule in {f.rule for f in bad}, [f.message for f in bad]
    assert good == [], [f.message for f in good]
    for f in bad:  # every finding points at its words and says how to fix them
        assert f.evidence is not None and violation[f.evidence.start : f.evidence.end] == f.evidence.text
        assert f.suggestion


def test_a_state_on_a_part_is_fine_from_its_scene_and_first_names_need_a_capital() -> None:
    ledger = natural_ledger()
    assert check_text(ledger, "12", "The hem of Mara's jacket is torn.", "prompt") == []
    # 'juno' in lower case is no name; a surname shared by two characters names neither.
    assert check_text(ledger, "5", "The juno light falls on a navy coat.", "prompt") == []
    ledger.kinds["Ana Alvarez"] = "character"
    assert check_text(ledger, "5", "Alvarez hurries by in a navy coat.", "prompt") == []
    assert {f.rule for f in check_text(ledger, "5", "Juno hurries by in a navy coat.", "prompt")} == {
        "attribute_mismatch"
    }


def test_removal_finding_says_what_is_missing() -> None:
    [f] = check_text(natural_ledger(), "5", "Juno squints at the chart, without her gloves.", "prompt")
    assert f.entity == "Juno Alvarez" and f.expected == "grey wool" and f.found == "without her gloves"
    assert f.suggestion == "show Juno Alvarez's gloves: grey wool"
    # The evidence of a removal runs from the verb over the thing removed.
    [f] = check_text(natural_ledger(), "5", "At the rail Juno peels off her grey gloves.", "prompt")
    assert f.evidence is not None and f.evidence.text == f.found == "peels off her grey gloves"


async def test_aliases_and_first_names_through_the_tools(tmp_path: Path) -> None:
    async with Client(build_app(tmp_path, "production", "continuity").server) as c:
        pid = await preflight_production(c, "Alias Ferry")
        await call(
            c,
            "continuity_set",
            production=pid,
            entity="Tomas Reyes",
            kind="character",
            attributes={"scarf": "green knit", "pronouns": "he/him"},
            aliases=["the skipper"],
        )
        for prompt in (
            "The skipper wraps a red scarf around his neck.",
            "Reyes, red scarf knotted high, checks the gauges.",
        ):
            res = await call(c, "continuity_check_prompt", production=pid, prompt=prompt, scene="12")
            [f] = [f for f in res["findings"] if f["rule"] != "must_missing"]  # the brief wants a lantern
            assert (f["rule"], f["entity"], f["expected"]) == ("attribute_mismatch", "Tomas Reyes", "green knit")
            assert prompt[f["evidence"]["start"] : f["evidence"]["end"]] == f["evidence"]["text"]
            assert "green" in f["suggestion"]
        ok = await call(
            c,
            "continuity_check_prompt",
            production=pid,
            prompt="The skipper knots his green scarf by the lantern.",
            scene="12",
        )
        assert ok["findings"] == []


async def test_must_not_near_synonym_by_the_offline_embedder(tmp_path: Path) -> None:
    """'phones' is in no must-not lexicon group: only the MiniLM embedder links it to 'mobile phones'."""
    async with Client(build_app(tmp_path, "production", "continuity").server) as c:
        pid = await make_production(c, "Phone Ferry", kit="lumen-moss", must_not=["mobile phones"])
        bad = await call(c, "continuity_check_prompt", production=pid, prompt="Two phones buzz on the chart table.")
        [f] = bad["findings"]
        assert f["rule"] == "must_not_present" and f["evidence"]["text"] == "phones"
        assert "similar in meaning" in f["message"]
        # Without the embedder the words alone do not see it, so the embedder is what caught it.
        assert (
            check_text(Ledger(pid), None, "Two phones buzz on the chart table.", "prompt", must_not=["mobile phones"])
            == []
        )
        good = await call(c, "continuity_check_prompt", production=pid, prompt="No phones anywhere; Juno reads a map.")
        assert good["findings"] == []


def test_a_labelled_avoid_list_describes_nothing_in_the_shot() -> None:
    # prompt_build ends with the brief's must-nots: 'Avoid: red coats.' is no claim about Juno's coat.
    ledger = natural_ledger()
    grounded = "Juno Alvarez checks the lines at the rail.\nAvoid: red coats; mobile phones.\n"
    assert check_text(ledger, "5", grounded, "prompt") == []
    # The same words in the shot itself still count.
    bad = check_text(ledger, "5", "Juno checks the lines in a red coat.\nAvoid: mobile phones.\n", "prompt")
    assert {f.rule for f in bad} == {"attribute_mismatch"}
