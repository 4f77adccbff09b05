"""Generated shot lists with planted continuity violations (one rule per case) and clean controls.

Every case is a small production: a ledger (two characters, a prop whose state changes in a later
scene, sometimes scene facts), a brief (must / must-not), one scene of 2-5 shots, and the shot to
check. Phrasing varies (colour synonyms, word order, pronouns, hyphenated forms), and distractors are
planted on purpose: another character or a bystander in another colour, coloured light, a negated
must-not, a direction change with a stated reason, a shot next to a planted outlier.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from tools.continuity.ledger import Ledger
from tools.continuity.models import Fact
from tools.production import Shot

COLOURS = {
    "red": ["red", "crimson", "scarlet", "brick-red", "cherry"],
    "blue": ["blue", "navy", "cobalt", "azure", "sapphire"],
    "green": ["green", "olive", "emerald", "forest-green", "jade"],
    "yellow": ["yellow", "mustard", "lemon", "canary"],
    "black": ["black", "jet", "ebony", "inky"],
    "white": ["white", "ivory", "cream", "snowy"],
    "brown": ["brown", "tan", "chocolate", "camel"],
}
HAIR_COLOURS = {
    "black": ["black", "jet-black", "raven"],
    "blonde": ["blonde", "flaxen", "fair"],
    "red": ["red", "ginger", "copper"],
    "grey": ["grey", "silver", "ash-grey"],
}
LENGTHS = {"short": ["short", "cropped", "close-cropped"], "long": ["long", "waist-length", "flowing"]}
JACKETS = ["jacket", "coat", "parka", "raincoat", "peacoat"]
PROPS = {
    "map": (["torn", "ripped", "tattered"], "torn"),
    "letter": (["burnt", "charred", "scorched"], "burnt"),
    "lantern": (["shattered", "broken", "cracked"], "broken"),
    "sail": (["torn", "shredded"], "torn"),
}
NAMES = ["Mara", "Ode", "Ines", "Tomas", "Yara", "Bex", "Lio", "Wren"]
TIMES = {
    "night": ["night", "midnight", "late night"],
    "day": ["midday", "noon", "daytime", "afternoon"],
    "dawn": ["dawn", "sunrise", "daybreak"],
    "dusk": ["dusk", "sunset", "twilight"],
}
WEATHERS = {
    "rain": ["rain", "heavy rain", "drizzle", "downpour"],
    "clear": ["clear", "sunny", "cloudless"],
    "fog": ["fog", "thick fog", "mist"],
    "snow": ["snow", "light snow", "snowfall"],
}
DIRS = {"ltr": ["left-to-right", "left to right", "L-R"], "rtl": ["right-to-left", "right to left", "R-L"]}
MUST_NOT = ["logos", "lens flare", "text on screen", "smartphones"]
MUST = ["lantern glow", "gulls", "harbour lights"]


@dataclass
class Case:
    rule: str | None  # the planted rule; None for a control
    kind: str  # which generator made it (for the report)
    ledger: Ledger
    scene: str
    shot: Shot
    scene_shots: list[Shot]
    must: list[str]
    must_not: list[str]
    note: str = ""


@dataclass
class World:
    rng: random.Random
    hero: str
    other: str
    jacket: str  # colour family
    other_jacket: str
    scar_side: str
    scar_part: str
    hair_len: str
    hair_col: str
    prop: str
    scene: int
    change_scene: int
    must: list[str]
    must_not: list[str]
    facts: list[Fact] = field(default_factory=list)

    def pick(self, items: list[str]) -> str:
        return self.rng.choice(items)

    def colour(self, family: str) -> str:
        return self.pick(COLOURS[family])

    def other_colour(self, *avoid: str) -> str:
        return self.pick([f for f in COLOURS if f not in avoid])

    def her(self) -> str:
        return "her"


def _fact(facts: list[Fact], entity: str, attr: str, value: str, scene: str | None = None) -> None:
    facts.append(
        Fact(
            id=f"f{len(facts) + 1}",
            entity=entity,
            attribute=attr,
            value=value,
            from_scene=scene,
            created_at="2025-01-01T00:00:00",
        )
    )


def make_world(rng: random.Random) -> World:
    hero, other = rng.sample(NAMES, 2)
    jacket = rng.choice(list(COLOURS))
    scene = rng.randint(2, 15)
    w = World(
        rng=rng,
        hero=hero,
        other=other,
        jacket=jacket,
        other_jacket=rng.choice([c for c in COLOURS if c != jacket]),
        scar_side=rng.choice(["left", "right"]),
        scar_part=rng.choice(["cheek", "eyebrow", "jaw"]),
        hair_len=rng.choice(list(LENGTHS)),
        hair_col=rng.choice(list(HAIR_COLOURS)),
        prop=rng.choice(list(PROPS)),
        scene=scene,
        change_scene=scene + rng.randint(1, 8),
        must=[rng.choice(MUST)],
        must_not=rng.sample(MUST_NOT, 2),
    )
    f = w.facts
    _fact(f, hero, "jacket", f"{jacket} wool")
    _fact(f, hero, "scar", f"{w.scar_side} {w.scar_part}")
    _fact(f, hero, "hair", f"{w.hair_len} {w.hair_col}")
    _fact(f, other, "jacket", w.other_jacket)
    _fact(f, w.prop, "state", "intact")
    _fact(f, w.prop, "state", PROPS[w.prop][1], str(w.change_scene))
    return w


def ledger_of(w: World, extra_kinds: dict[str, str] | None = None) -> Ledger:
    kinds = {w.hero: "character", w.other: "character", w.prop: "prop", **(extra_kinds or {})}
    return Ledger("bench", kinds=kinds, facts=list(w.facts))


def make_shot(scene: str, number: int, description: str, **fields: object) -> Shot:
    return Shot.model_validate(
        {
            "production": "bench",
            "scene": scene,
            "ref": f"{scene}/{number}",
            "number": number,
            "description": description,
            "updated_at": "2025-01-01T00:00:00",
            **fields,
        }
    )


# -- description pieces: each returns clean text for the world -----------------------------------------


def jacket_phrase(w: World, family: str | None = None) -> str:
    col, noun = w.colour(family or w.jacket), w.pick(JACKETS)
    h = w.hero
    return w.pick(
        [
            f"{h}, in her {col} {noun}, {{act}}.",
            f"{h} zips up her {col} {noun} and {{act}}.",
            f"Wearing a {col} {noun}, {h} {{act}}.",
            f"{h}'s {col} {noun} flaps in the wind as she {{act}}.",
            f"{h} stands at the rail. She tugs at her {col} {noun}, then {{act}}.",
            f"{h} {{act}}; her {noun} is {col} against the grey water.",
        ]
    )


def scar_phrase(w: World, side: str | None = None, part: str | None = None) -> str:
    s, p, h = side or w.scar_side, part or w.scar_part, w.hero
    return w.pick(
        [
            f"Close on the scar on {h}'s {s} {p}.",
            f"The scar across her {s} {p} catches the light as {h} turns.",
            f"{h}'s {s}-{p} scar is lit by the lamp.",
            f"A close-up: {h}, the old scar above her {s} {p}.",
        ]
    )


def hair_phrase(w: World, length: str | None = None, colour: str | None = None) -> str:
    ln, col, h = w.pick(LENGTHS[length or w.hair_len]), w.pick(HAIR_COLOURS[colour or w.hair_col]), w.hero
    return w.pick(
        [
            f"{h}'s {ln} {col} hair whips in the wind.",
            f"The wind lifts {h}'s {col} hair, {ln} and wet.",
            f"{h}, her {ln} {col} hair under the hood, looks out.",
            f"{col.capitalize()}-haired {h} pushes her {ln} hair back.",
        ]
    )


def distractor(w: World) -> str:
    o, col = w.other, w.colour(w.other_jacket)
    bystander = w.colour(w.other_colour(w.jacket))
    light = w.colour(w.other_colour(w.jacket))
    return w.pick(
        [
            f"Behind her, {o} in a {col} {w.pick(JACKETS)} coils a rope.",
            f"A fisherman in a {bystander} {w.pick(JACKETS)} passes on the quay.",
            f"{light.capitalize()} neon from the bar washes over the deck.",
            f"Beyond the bow, a {bystander} buoy bobs.",
            f"{o}'s {col} {w.pick(JACKETS)} hangs on a hook.",
        ]
    )


ACTS = ["lifts the lantern", "looks across the harbour", "steadies the wheel", "coils a rope", "waits"]


def clean_description(w: World, parts: int = 2) -> str:
    """A shot description with no violation: the hero's real facts in varied words, plus distractors."""
    pieces = [jacket_phrase(w).replace("{act}", w.pick(ACTS))]
    extra = [scar_phrase(w), hair_phrase(w), distractor(w), distractor(w)]
    pieces += w.rng.sample(extra, k=min(parts, len(extra)))
    w.rng.shuffle(pieces)
    return " ".join(pieces)


def with_brief(w: World, text: str, must_present: bool = True, must_not_mode: str = "absent") -> str:
    if must_present:
        text += " " + w.pick(
            [
                f"The {w.must[0]} frame the shot.",
                f"We see the {w.must[0]}.",
                f"{w.must[0].capitalize()} in the background.",
            ]
        )
    if must_not_mode == "negated":
        text += " " + w.pick(
            [f"No {w.must_not[0]}.", f"Keep it clean, without {w.must_not[0]}.", f"Avoid {w.must_not[0]}."]
        )
    return text


# -- one generator per rule: (planted violation | targeted control) ---------------------------------------


def _single(w: World, rule: str | None, text: str, kind: str, scene: str | None = None) -> Case:
    scene = scene or str(w.scene)
    shot = make_shot(scene, 1, text, characters=[w.hero])
    return Case(rule, kind, ledger_of(w), scene, shot, [shot], w.must, w.must_not)


def gen_attribute(w: World, planted: bool) -> Case:
    what = w.pick(["jacket", "jacket", "hair_colour", "hair_length", "scar_part"])
    if what == "jacket":
        piece = jacket_phrase(w, w.other_colour(w.jacket) if planted else None).replace("{act}", w.pick(ACTS))
    elif what == "hair_colour":
        piece = hair_phrase(w, colour=w.pick([c for c in HAIR_COLOURS if c != w.hair_col]) if planted else None)
    elif what == "hair_length":
        piece = hair_phrase(w, length=w.pick([n for n in LENGTHS if n != w.hair_len]) if planted else None)
    else:
        piece = scar_phrase(
            w, part=w.pick([p for p in ("cheek", "eyebrow", "jaw") if p != w.scar_part]) if planted else None
        )
    text = with_brief(w, f"{piece} {distractor(w)}")
    return _single(w, "attribute_mismatch" if planted else None, text, f"attribute:{what}")


def gen_side(w: World, planted: bool) -> Case:
    side = ("right" if w.scar_side == "left" else "left") if planted else w.scar_side
    text = with_brief(w, f"{scar_phrase(w, side=side)} {distractor(w)}")
    return _single(w, "side_flip" if planted else None, text, "side")


def gen_state(w: World, planted: bool) -> Case:
    words, _ = PROPS[w.prop]
    mode = "early" if planted else w.pick(["on_time", "no_state"])
    state = "" if mode == "no_state" else w.pick(words) + " "
    h, p = w.hero, w.prop
    piece = w.pick(
        [
            f"{h} holds up the {state}{p} to the light.",
            f"{h} stares at the {state}{p}.",
            f"On the chart table lies the {state}{p}; {h} reaches for it.",
            f"{h} picks up the {state}{p}.",
        ]
    )
    if state and w.rng.random() < 0.3:
        piece = f"{h} picks up the {p}. The {p} is {state.strip()} now."
    scene = str(w.scene) if mode != "on_time" else str(w.change_scene + w.rng.randint(0, 3))
    text = with_brief(w, f"{clean_description(w, 1)} {piece}")
    return _single(w, "state_too_early" if planted else None, text, f"state:{mode}", scene)


def gen_must_not(w: World, planted: bool) -> Case:
    item = w.must_not[0]
    surface = {
        "logos": ["logos", "a logo", "brand logos"],
        "lens flare": ["lens flare", "lens flares"],
        "text on screen": ["text on screen"],
        "smartphones": ["smartphones", "a smartphone"],
    }[item]
    text = clean_description(w, 1)
    if planted:
        text = with_brief(
            w,
            text
            + " "
            + w.pick(
                [
                    f"Add {w.pick(surface)} for energy.",
                    f"The hull shows {w.pick(surface)}.",
                    f"Hard light, {w.pick(surface)} everywhere.",
                ]
            ),
        )
    else:
        text = with_brief(w, text, must_not_mode=w.pick(["negated", "absent"]))
    return _single(w, "must_not_present" if planted else None, text, "must_not")


def gen_must(w: World, planted: bool) -> Case:
    text = with_brief(w, clean_description(w, 1), must_present=not planted)
    return _single(w, "must_missing" if planted else None, text, "must")


def _scene_case(
    w: World,
    rule: str | None,
    kind: str,
    n: int,
    idx: int,
    attr: str,
    values: list[str | None],
    texts: list[str],
    notes: list[str | None],
    field_ok: list[bool],
    mention: dict[str, str],
) -> Case:
    """A scene of n shots with one field per shot; values[i] goes to the field, or into the text."""
    scene = str(w.scene)
    shots = []
    for i in range(n):
        desc = with_brief(w, texts[i])
        fields: dict[str, object] = {"characters": [w.hero], "notes": notes[i]}
        value = values[i]
        if value is not None and field_ok[i]:
            fields[attr] = value
        elif value is not None:
            desc = f"{desc} {mention[attr].format(value)}"
        shots.append(make_shot(scene, i + 1, desc, **fields))
    return Case(rule, kind, ledger_of(w), scene, shots[idx], shots, w.must, w.must_not)


MENTIONS = {"time_of_day": "It is {0}.", "weather": "All around, {0}.", "screen_direction": "She moves {0}."}


def gen_neighbour(
    w: World, planted: bool, rule: str, attr: str, table: dict[str, list[str]], reasons: list[str]
) -> Case:
    n = w.rng.randint(3, 5)
    idx = w.rng.randrange(n)
    base = w.pick(list(table))
    new = w.pick([f for f in table if f != base])
    fams = [base] * n
    notes: list[str | None] = [None] * n
    mode = "planted" if planted else w.pick(["consistent", "reason", "next_to_outlier"])
    if mode == "planted":
        fams[idx] = new
    elif mode == "reason":
        for i in range(idx, n):
            fams[i] = new
        notes[idx] = w.pick(reasons).format(old=w.pick(table[base]), new=w.pick(table[new]))
    elif mode == "next_to_outlier":
        outlier = idx + 1 if idx + 1 < n else idx - 1
        fams[outlier] = new
    values: list[str | None] = [w.pick(table[f]) for f in fams]
    field_ok = [attr == "screen_direction" or w.rng.random() < 0.75 for _ in range(n)]
    if attr == "screen_direction":
        field_ok = [w.rng.random() < 0.8 for _ in range(n)]
    texts = [clean_description(w, 1) for _ in range(n)]
    return _scene_case(
        w, rule if planted else None, f"{rule}:{mode}", n, idx, attr, values, texts, notes, field_ok, MENTIONS
    )


TIME_REASONS = [
    "Later: {new} has come.",
    "Time cut, hours later.",
    "Hours later, it is {new}.",
    "Montage: the {old} gives way to {new}.",
]
WEATHER_REASONS = [
    "The {old} clears and {new} sets in.",
    "It starts to change: {new} rolls in.",
    "The {old} lifts; {new} begins.",
]
DIR_REASONS = [
    "The camera crosses the line as she turns.",
    "She turns around and heads back.",
    "Reverse angle: she doubles back.",
]


def gen_entrance(w: World, planted: bool) -> Case:
    n = w.rng.randint(2, 4)
    idx = w.rng.randrange(1, n)
    h, o = w.hero, w.other
    mode = "planted" if planted else w.pick(["announced", "announced", "established", "alone"])
    chars = [[h] for _ in range(n)]
    texts = [clean_description(w, 1) for _ in range(n)]
    notes: list[str | None] = [None] * n
    if mode != "alone":
        chars[idx] = [h, o]
        texts[idx] = (
            w.pick([f"{o} stands beside {h} at the rail.", f"{h} and {o} watch the lights.", f"{o} hands {h} a rope."])
            + " "
            + texts[idx]
        )
    if mode == "announced":
        if w.rng.random() < 0.3:
            notes[idx] = f"{o} enters from the wheelhouse."
        else:
            texts[idx] = (
                w.pick(
                    [
                        f"{o} steps into frame beside {h}.",
                        f"{o} enters from the wheelhouse.",
                        f"{o} walks in and joins {h}.",
                        f"{o} appears at the door.",
                    ]
                )
                + " "
                + texts[idx]
            )
    if mode == "established":
        chars[0] = [h, o]
    scene = str(w.scene)
    shots = [make_shot(scene, i + 1, with_brief(w, texts[i]), characters=chars[i], notes=notes[i]) for i in range(n)]
    return Case(
        "unannounced_entrance" if planted else None,
        f"entrance:{mode}",
        ledger_of(w),
        scene,
        shots[idx],
        shots,
        w.must,
        w.must_not,
    )


def gen_clean(w: World) -> Case:
    text = with_brief(w, clean_description(w, 3), must_not_mode=w.pick(["negated", "absent"]))
    return _single(w, None, text, "clean")


def generate(seed: int = 7, per_rule: int = 60, targeted_controls: int = 60, clean: int = 120) -> list[Case]:
    rng = random.Random(seed)
    gens = {
        "attribute_mismatch": gen_attribute,
        "side_flip": gen_side,
        "state_too_early": gen_state,
        "must_not_present": gen_must_not,
        "must_missing": gen_must,
        "unannounced_entrance": gen_entrance,
        "time_of_day_jump": lambda w, p: gen_neighbour(w, p, "time_of_day_jump", "time_of_day", TIMES, TIME_REASONS),
        "weather_jump": lambda w, p: gen_neighbour(w, p, "weather_jump", "weather", WEATHERS, WEATHER_REASONS),
        "screen_direction_flip": lambda w, p: gen_neighbour(
            w, p, "screen_direction_flip", "screen_direction", DIRS, DIR_REASONS
        ),
    }
    cases: list[Case] = []
    for gen in gens.values():
        cases += [gen(make_world(rng), True) for _ in range(per_rule)]
        cases += [gen(make_world(rng), False) for _ in range(targeted_controls)]
    cases += [gen_clean(make_world(rng)) for _ in range(clean)]
    return cases
