"""Scene facts and neighbouring shots: the scene's own facts (time, weather, int/ext, location), and
time_of_day_jump, weather_jump, screen_direction_flip and unannounced_entrance against the scene's
other shots."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tools.continuity import vocabulary as v
from tools.continuity.mentions import Doc, Named, NameVariant, find_mentions, name_words
from tools.continuity.models import Evidence, PromptFinding
from tools.continuity.preflight.common import Check, finding
from tools.production import Shot

# Words before a time or weather word that put it out of the shot ('last night's storm').
_DETERMINERS = {"the", "a", "an", "this", "that", "her", "his", "their", "its"}
_ELSEWHERE = {"last", "yesterday", "tomorrow", "dreams", "dream", "remembers", "remembering", "of", "no", "not"}


@dataclass
class Valued:
    families: frozenset[str]
    text: str
    evidence: Evidence


def _from_field(value: str | None, field: str, table: dict[str, frozenset[str]]) -> Valued | None:
    if not value:
        return None
    fams = v.phrase_families(value, table)
    return Valued(fams, value, Evidence(field=field, text=value, start=0, end=len(value))) if fams else None


def _colour_use(doc: Doc, i: int) -> bool:
    """'a snowy parka', 'her jacket is snowy': a colour word describing a thing, not the weather."""
    if doc.tokens[i].low not in v.colour_table():
        return False
    toks = doc.tokens
    if i + 1 < len(toks) and v.canon(toks[i + 1].low) in v.NOUN_GROUPS:
        return True
    return i >= 2 and toks[i - 1].low in {"is", "are", "was", "were"} and v.canon(toks[i - 2].low) in v.NOUN_GROUPS


def _phrases(table: dict[str, frozenset[str]]) -> dict[tuple[str, ...], frozenset[str]]:
    out: dict[tuple[str, ...], frozenset[str]] = {}
    for phrase, fams in table.items():
        out[tuple(phrase.split())] = fams
    return out


_PHRASES: dict[int, tuple[dict[tuple[str, ...], frozenset[str]], set[str]]] = {}


def hits_in_text(
    doc: Doc,
    field: str,
    table: dict[str, frozenset[str]],
    skip: set[str] = frozenset(),  # type: ignore[assignment]
) -> list[Valued]:
    """Every time (or weather, or direction) phrase in a text, longest first at each word: 'dawn light',
    'under a blazing sun', 'exits frame left'. Single words in `skip` ('day', 'bright') count only
    inside a longer phrase; a colour use ('a snowy parka') or a reference out of the shot ('last night')
    does not count."""
    if id(table) not in _PHRASES:
        built = _phrases(table)
        _PHRASES[id(table)] = (built, {p[0] for p in built})
    phrases, firsts = _PHRASES[id(table)]
    longest = max((len(p) for p in phrases), default=1)
    toks = doc.tokens
    out: list[Valued] = []
    i = 0
    while i < len(toks):
        found = None
        if toks[i].low not in firsts and not v.families(toks[i].low, table):
            i += 1
            continue
        for n in range(min(longest, len(toks) - i), 0, -1):
            words = tuple(t.low for t in toks[i : i + n])
            if not all(t.is_word for t in toks[i : i + n]):
                continue
            fams = phrases.get(words) or (v.families(words[0], table) if n == 1 else None)
            if fams:
                found = (n, fams)
                break
        if found is None:
            i += 1
            continue
        n, fams = found
        # A skipped word names the shot's time when it qualifies its light ('evening light', 'morning sky').
        lit = i + 1 < len(toks) and v.canon(toks[i + 1].low) in v.TIME_LIGHT and table is v.TIMES
        single = n == 1 and toks[i].low in skip and not lit
        back = i - 1
        while back > 0 and toks[back].low in _DETERMINERS:  # 'remembers the morning light'
            back -= 1
        before = toks[back].low if back >= 0 else ""
        if not single and not _colour_use(doc, i) and before not in _ELSEWHERE:
            a, b = toks[i], toks[i + n - 1]
            text = doc.text[a.start : b.end]
            out.append(Valued(fams, text, Evidence(field=field, text=text, start=a.start, end=b.end)))
        i += n
    return out


def _from_text(doc: Doc, field: str, table: dict[str, frozenset[str]]) -> Valued | None:
    skip = v.TIME_SKIP if table is v.TIMES else v.WEATHER_SKIP
    hits = hits_in_text(doc, field, table, skip)
    return hits[0] if hits else None


def _direction_from_text(doc: Doc, field: str) -> Valued | None:
    hits = hits_in_text(doc, field, v.DIRECTIONS)
    return hits[0] if hits else None


@dataclass
class ShotView:
    """A shot as the neighbour rules see it: its text (or the prompt under check) and fields."""

    shot: Shot
    doc: Doc
    field: str

    @property
    def reason_text(self) -> str:
        return f"{self.doc.text}\n{self.shot.notes or ''}"

    def time(self) -> Valued | None:
        return _from_field(self.shot.time_of_day, "time_of_day", v.TIMES) or _from_text(self.doc, self.field, v.TIMES)

    def weather(self) -> Valued | None:
        return _from_field(self.shot.weather, "weather", v.WEATHERS) or _from_text(self.doc, self.field, v.WEATHERS)

    def direction(self) -> Valued | None:
        field = _from_field(self.shot.screen_direction, "screen_direction", v.DIRECTIONS)
        return field or _direction_from_text(self.doc, self.field)


def sequence_flags(values: list[frozenset[str] | None], reasons: list[bool]) -> dict[int, frozenset[str]]:
    """Which positions break the run of a value, and the value they break.

    The scene is cut into runs at positions with a stated reason. In a run of three or more values
    with a strict majority, positions that disagree with it (and with a neighbour) are the breaks;
    otherwise each change from the previous value is one, except a return to the value before an
    unexplained change (day, night, day flags only the night)."""
    flags: dict[int, frozenset[str]] = {}
    runs: list[list[int]] = []
    for i, value in enumerate(values):
        if reasons[i] or not runs:
            runs.append([])
        if value:
            runs[-1].append(i)
    for run in runs:
        if len(run) >= 3:
            counts = Counter(f for i in run for f in values[i] or ())
            top, n = counts.most_common(1)[0]
            if n * 2 > len(run):
                for pos, i in enumerate(run):
                    vi = values[i] or frozenset()
                    neighbours = [values[run[p]] or frozenset() for p in (pos - 1, pos + 1) if 0 <= p < len(run)]
                    if top not in vi and any(not (vi & nb) for nb in neighbours):
                        flags[i] = frozenset({top})
                continue
        last: frozenset[str] | None = None
        established: frozenset[str] | None = None
        last_flagged = False
        for i in run:
            vi = values[i] or frozenset()
            if last is None or vi & last:
                last_flagged = False
            elif last_flagged and established is not None and vi & established:
                last_flagged = False
            else:
                flags[i] = last
                established, last_flagged = last, True
            last = vi
    return flags


def scene_findings(
    c: Check, view: ShotView | None, views: list[ShotView], scene_shots: Sequence[Shot] = ()
) -> list[PromptFinding]:
    out: list[PromptFinding] = []
    facts = {}
    if c.scene is not None:
        scene_name = c.ledger.name(c.scene)
        if scene_name and c.ledger.kinds.get(scene_name) == "scene":
            facts = c.ledger.state(scene_name, c.scene).attributes
    if view is not None:
        own_times = [x for x in [view.time()] if x]
        own_weathers = [x for x in [view.weather()] if x]
    else:  # a free prompt: it agrees with the scene if any of its time (weather) words does
        own_times = hits_in_text(c.doc, c.field, v.TIMES, v.TIME_SKIP)
        own_weathers = hits_in_text(c.doc, c.field, v.WEATHERS, v.WEATHER_SKIP)
    for attr, owns, table in (("time_of_day", own_times, v.TIMES), ("weather", own_weathers, v.WEATHERS)):
        fact = facts.get(attr)
        fact_fams = v.phrase_families(fact, table) if fact else frozenset()
        if fact and fact_fams and owns and not any(o.families & fact_fams for o in owns):
            own = owns[0]
            out.append(
                finding(
                    "attribute_mismatch",
                    c.scene,
                    fact,
                    own.text,
                    own.evidence,
                    fact,
                    f"Scene {c.scene}'s {attr} is {fact!r}; this shot says {own.text!r}.",
                )
            )
    if view is not None:
        out += _field_facts(c, view, facts)
    elif c.scene is not None:
        out += _free_direction(c, facts.get("screen_direction"), scene_shots)
    if view is None or not views:
        return out
    idx = next(i for i, w in enumerate(views) if w.shot.number == view.shot.number)

    def neighbour_rule(
        rule: str, getter: str, reason: Callable[[str], bool], fact: str | None, table: dict[str, frozenset[str]]
    ) -> None:
        vals = [getattr(w, getter)() for w in views]
        fams: list[frozenset[str] | None] = [x.families if x else None for x in vals]
        reasons = [reason(w.reason_text) for w in views]
        if fact:
            fams, reasons = [v.phrase_families(fact, table) or None, *fams], [False, *reasons]
        flags = sequence_flags(fams, reasons)
        pos = idx + (1 if fact else 0)
        if pos in flags and vals[idx] is not None:
            mine = vals[idx]
            assert mine is not None
            expected = "/".join(sorted(flags[pos]))
            out.append(
                finding(
                    rule,
                    c.scene,
                    expected,
                    mine.text,
                    mine.evidence,
                    expected,
                    f"Shot {view.shot.ref} says {mine.text!r} where the scene's shots around it say "
                    f"{expected!r}; say why it changes (in notes) or make it {expected!r}.",
                )
            )

    if not facts.get("time_of_day"):
        neighbour_rule(
            "time_of_day_jump",
            "time",
            lambda t: v.changes(t, v.TIME_REASON, v.TIME_SUBJECT, v.TIME_CHANGE),
            None,
            v.TIMES,
        )
    if not facts.get("weather"):
        neighbour_rule(
            "weather_jump",
            "weather",
            lambda t: v.changes(t, v.WEATHER_REASON, v.WEATHER_SUBJECT, v.WEATHER_CHANGE),
            None,
            v.WEATHERS,
        )
    neighbour_rule(
        "screen_direction_flip",
        "direction",
        lambda t: bool(v.DIRECTION_REASON.search(t)),
        facts.get("screen_direction"),
        v.DIRECTIONS,
    )
    out += _entrances(c, idx, views)
    return out


def _free_direction(c: Check, fact: str | None, scene_shots: Sequence[Shot]) -> list[PromptFinding]:
    """A free prompt's screen direction against its scene's: the scene fact, else the direction every shot
    of the scene that states one agrees on. A stated reason ('turns around') lets it change."""
    expected = v.phrase_families(fact, v.DIRECTIONS) if fact else frozenset()
    source = f"Scene {c.scene}'s screen direction is {fact!r}"
    if not expected:
        stated = [v.phrase_families(s.screen_direction, v.DIRECTIONS) for s in scene_shots if s.screen_direction]
        stated = [d for d in stated if d]
        if not stated or any(d != stated[0] for d in stated):
            return []
        expected = stated[0]
        source = f"The shots of scene {c.scene} move {'/'.join(sorted(expected))}"
    if v.DIRECTION_REASON.search(c.doc.text):
        return []
    hits = hits_in_text(c.doc, c.field, v.DIRECTIONS)
    if not hits or any(h.families & expected for h in hits):
        return []
    own = hits[0]
    want = "/".join(sorted(expected))
    name = {"ltr": "left to right", "rtl": "right to left"}
    fix = " or ".join(name.get(d, d) for d in sorted(expected))
    return [
        finding(
            "screen_direction_flip",
            c.scene,
            fact or want,
            own.text,
            own.evidence,
            fix,
            f"{source}; this prompt says {own.text!r}. Keep the direction ({fix}), or say why it changes "
            "('turns around', 'crosses the line').",
        )
    ]


def _norm_int_ext(value: str | None) -> str | None:
    if not value:
        return None
    low = value.strip().lower().replace("erior", "").replace(".", "")
    return {"int": "INT", "ext": "EXT", "int/ext": "INT/EXT", "ext/int": "INT/EXT"}.get(low, value.upper())


def _field_facts(c: Check, view: ShotView, facts: dict[str, str]) -> list[PromptFinding]:
    out = []
    fact_ie, shot_ie = _norm_int_ext(facts.get("int_ext")), _norm_int_ext(view.shot.int_ext)
    if fact_ie and shot_ie and "INT/EXT" not in (fact_ie, shot_ie) and fact_ie != shot_ie:
        ev = Evidence(field="int_ext", text=view.shot.int_ext or "", start=0, end=len(view.shot.int_ext or ""))
        out.append(
            finding(
                "attribute_mismatch",
                c.scene,
                fact_ie,
                shot_ie,
                ev,
                fact_ie,
                f"Scene {c.scene} is {fact_ie}; shot {view.shot.ref} says {shot_ie}.",
            )
        )
    loc, shot_loc = facts.get("location"), view.shot.location
    if loc and shot_loc and name_words(loc) != name_words(shot_loc):
        ev = Evidence(field="location", text=shot_loc, start=0, end=len(shot_loc))
        out.append(
            finding(
                "attribute_mismatch",
                c.scene,
                loc,
                shot_loc,
                ev,
                loc,
                f"Scene {c.scene} takes place at {loc!r}; shot {view.shot.ref} says {shot_loc!r}.",
            )
        )
    return out


def _present(c: Check, view: ShotView) -> dict[str, Evidence]:
    """Characters in frame: the shot's characters field, else characters named in its text."""
    chars = {n: k for n, k in c.ledger.kinds.items() if k == "character"}
    if view.shot.characters:
        out = {}
        for name in view.shot.characters:
            key = c.ledger.name(name) or name
            out[key] = Evidence(field="characters", text=name, start=0, end=len(name))
        return out
    names = {
        n: Named(
            k,
            [
                NameVariant(tuple(name_words(n))),
                *[NameVariant(tuple(name_words(a))) for a in c.ledger.stored_aliases(n)],
                *[NameVariant(tuple(name_words(a)), capital=True) for a in c.ledger.name_part_aliases(n)],
            ],
        )
        for n, k in chars.items()
    }
    found: dict[str, Evidence] = {}
    for m in find_mentions(view.doc, names):
        if m.entity and m.entity not in found:
            tok_a, tok_b = view.doc.tokens[m.start], view.doc.tokens[m.end]
            found[m.entity] = Evidence(
                field=view.field, text=view.doc.text[tok_a.start : tok_b.end], start=tok_a.start, end=tok_b.end
            )
    return found


def _sentences_with(view: ShotView, name: str) -> list[str]:
    text = f"{view.doc.text}\n{view.shot.notes or ''}"
    parts = re.split(r"(?<=[.!?;])\s+|\n", text)
    words = name_words(name)
    return [p for p in parts if words and words[0] in {v.canon(t.low) for t in v.tokenize(p)}]


def _entered(view: ShotView, name: str) -> bool:
    if any(v.ENTRANCE.search(s) for s in _sentences_with(view, name)):
        return True
    notes = view.shot.notes or ""
    # Notes that announce an entrance without naming anyone, or name an entrance outright.
    if v.ENTRANCE.search(notes) and not _sentences_with(view, name):
        return True
    return bool(re.search(r"\b(enters|entrance)\b", notes, re.IGNORECASE))


def _entrances(c: Check, idx: int, views: list[ShotView]) -> list[PromptFinding]:
    established: set[str] | None = None
    out: list[PromptFinding] = []
    for i, view in enumerate(views[: idx + 1]):
        present = _present(c, view)
        if not present:
            continue
        if established is None:
            established = {n.lower() for n in present}
        else:
            for name, ev in present.items():
                if name.lower() not in established and not _entered(view, name) and i == idx:
                    out.append(
                        finding(
                            "unannounced_entrance",
                            name,
                            "enters on screen, or is in the previous shots",
                            "present",
                            ev,
                            f"{name} enters",
                            f"{name} is in shot {view.shot.ref} but in no earlier shot of scene "
                            f"{view.shot.scene}, and the shot does not say {name} enters.",
                        )
                    )
            established |= {n.lower() for n in present}
        for name in list(present):
            if any(v.EXIT.search(s) for s in _sentences_with(view, name)):
                established.discard(name.lower())
    return out
