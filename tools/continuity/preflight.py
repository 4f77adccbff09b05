"""Preflight: a deterministic, offline check of a shot or prompt before any money is spent.

Rules (severity): attribute_mismatch, side_flip, state_too_early, must_not_present, time_of_day_jump
(errors); must_missing, weather_jump, screen_direction_flip, unannounced_entrance (warnings).
`check_text` is pure (ledger, shots, brief in; findings out); `prompt_check.PromptChecker` gathers
its inputs and stores the findings.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from tools.continuity import vocabulary as v
from tools.continuity.descriptors import Dims, dims_of, lex_words, value_dims, words_for
from tools.continuity.ledger import Ledger, scene_le
from tools.continuity.mentions import (
    META_KEYS,
    Doc,
    Item,
    Mention,
    find_mentions,
    name_words,
    noun_head,
    owner_of,
    post_window,
    pre_window,
)
from tools.continuity.models import Evidence, PromptFinding
from tools.production import Shot

ERROR_RULES = {"attribute_mismatch", "side_flip", "state_too_early", "must_not_present", "time_of_day_jump"}
RULES = (
    "attribute_mismatch", "side_flip", "state_too_early", "must_not_present", "must_missing", "time_of_day_jump",
    "weather_jump", "screen_direction_flip", "unannounced_entrance",
)
_TEXT_ONLY_SKIP = {"day", "bright", "morning", "evening"}  # too common in prose to date a shot


@dataclass
class Check:
    """One text under check, with what the rules need to know about it."""

    ledger: Ledger
    scene: str | None
    doc: Doc
    field: str

    def evidence(self, a: int, b: int) -> Evidence:
        start, end = self.doc.tokens[a].start, self.doc.tokens[b].end
        return Evidence(field=self.field, text=self.doc.text[start:end], start=start, end=end)


def _finding(rule: str, entity: str | None, expected: str | None, found: str | None, evidence: Evidence | None,
             suggestion: str | None, message: str) -> PromptFinding:
    severity: Literal["error", "warning"] = "error" if rule in ERROR_RULES else "warning"
    return PromptFinding(severity=severity, rule=rule, entity=entity, expected=expected, found=found,
                         evidence=evidence, suggestion=suggestion, message=message)


# -- entity facts -------------------------------------------------------------------------------

def _entity_names(ledger: Ledger, scene: str | None) -> dict[str, tuple[str, list[list[str]]]]:
    out = {}
    for name, kind in ledger.kinds.items():
        if kind == "scene":
            continue
        variants = [name_words(name)]
        aliases = ledger.state(name, scene).attributes.get("aliases", "")
        variants += [name_words(a) for a in aliases.split(",") if a.strip()]
        out[name] = (kind, variants)
    return out


def _fact_findings(c: Check, sole_character: str | None) -> list[PromptFinding]:
    ledger, doc = c.ledger, c.doc
    names = _entity_names(ledger, c.scene)
    mentions = find_mentions(doc, names)
    mention_tokens = {i for m in mentions for i in range(m.start, m.end + 1)}
    # noun head -> entities that have an attribute (or an owned wardrobe/prop entity) named by it
    owners: dict[str, set[str]] = {}
    owned: dict[tuple[str, str], list[str]] = {}  # (owner, noun) -> owned entities ('Mara jacket')
    for name, kind in ledger.kinds.items():
        for attr in {f.attribute for f in ledger.facts_of(name)}:
            head = noun_head(attr)
            if head:
                owners.setdefault(head, set()).add(name)
        words = name_words(name)
        if kind != "character" and len(words) >= 2:
            owner = next((n for n in ledger.kinds if n != name and name_words(n) == words[:-1]), None)
            if owner:
                owners.setdefault(words[-1], set()).add(owner)
                owned.setdefault((owner, words[-1]), []).append(name)
    findings: list[PromptFinding] = []
    for i, _tok in enumerate(doc.tokens):
        head = doc.head_at(i)
        if head not in owners or (i in mention_tokens and not _is_owned_tail(mentions, i)):
            continue
        owner = owner_of(doc, i, mentions, owners[head], sole_character)
        if owner is None:
            continue
        items = pre_window(doc, i, mention_tokens) + _post(doc, i)
        for attr in sorted({f.attribute for f in ledger.facts_of(owner)}):
            if noun_head(attr) == head:
                findings += _compare(c, owner, attr, items, i, head)
        for entity in owned.get((owner, head), []):
            for attr in sorted({f.attribute for f in ledger.facts_of(entity)} - META_KEYS):
                findings += _compare(c, entity, attr, items, i, head)
    for m in mentions:
        if m.entity is None:
            continue
        items = pre_window(doc, m.start, mention_tokens - set(range(m.start, m.end + 1)))
        items += [(k, p) for k in range(m.start + 1, m.end) for p in doc.tokens[k].parts]
        if m.end > m.start or ledger.kinds[m.entity] != "character":
            items += _post(doc, m.end)
        for attr in sorted({f.attribute for f in ledger.facts_of(m.entity)} - META_KEYS):
            if noun_head(attr) is None:
                findings += _compare(c, m.entity, attr, items, m.end, name_words(m.entity)[-1])
    return findings


def _is_owned_tail(mentions: list[Mention], i: int) -> bool:
    # 'Mara's jacket': the noun 'jacket' ends a two-word mention and is still checked as Mara's jacket.
    return any(m.end == i and m.end > m.start for m in mentions)


def _post(doc: Doc, i: int) -> list[Item]:
    items, full = post_window(doc, i)
    if full:
        return items
    return [(k, p) for k, p in items if any(d in ("side", "part") for d in dims_of([p]))]


def _compare(c: Check, entity: str, attr: str, items: list[Item], anchor: int, noun: str) -> list[PromptFinding]:
    """Findings for one attribute of one entity against the words around one mention of it."""
    history = [f for f in c.ledger.facts_of(entity) if f.attribute == attr]
    own = noun_head(attr)
    vocab: set[str] = set()
    for f in history:
        lex = lex_words(f.value, own)
        if 0 < len(lex) <= 2:
            vocab |= lex
    state = c.ledger.state(entity, c.scene).attributes
    current = state.get(attr)
    expected = value_dims(current, own, vocab) if current else {}
    found_items: dict[str, list[Item]] = {}
    for k, word in items:
        dims = dims_of([word])
        canon = v.canon(word)
        if canon in vocab:
            dims["lex"] = frozenset({canon})
        for dim in dims:
            found_items.setdefault(dim, []).append((k, word))
    later = [f.value for f in history if c.scene is not None and not scene_le(f.from_scene, c.scene) and f.value]
    everything = [f.value for f in history if f.value]
    out = []
    for dim, its in found_items.items():
        if dim == "lex":
            found = frozenset(v.canon(w) for _, w in its)
        else:
            found = dims_of([w for _, w in its]).get(dim, frozenset())
        exp = expected.get(dim)
        if exp and found & exp:
            continue
        if c.scene is None:
            if any(found & value_dims(val, own, vocab).get(dim, frozenset()) for val in everything):
                continue
            if not exp:
                continue
        too_early = next((val for val in later if found & value_dims(val, own, vocab).get(dim, frozenset())), None)
        if too_early is None and not exp:
            continue
        rule = "state_too_early" if too_early is not None else ("side_flip" if dim == "side" else
                                                                 "attribute_mismatch")
        context = [k for k, w in items if dims_of([w])]
        out.append(_fact_finding(c, rule, entity, attr, current, too_early, dim, its, anchor, noun, context))
    return out


def _fact_finding(c: Check, rule: str, entity: str, attr: str, current: str | None, too_early: str | None,
                  dim: str, its: list[Item], anchor: int, noun: str, context: list[int]) -> PromptFinding:
    doc = c.doc
    # The span runs from the noun over every descriptive word around it ('scar on her right cheek').
    lo, hi = min([anchor, *context, *(k for k, _ in its)]), max([anchor, *context, *(k for k, _ in its)])
    evidence = c.evidence(lo, hi)
    found = " ".join(dict.fromkeys(w for _, w in its))
    replacement = " ".join(words_for(current, dim)) if current else ""
    suggestion = _replace(doc, evidence, its, replacement)
    where = f"as of scene {c.scene}" if c.scene else "in the ledger"
    history = [f for f in c.ledger.facts_of(entity) if f.attribute == attr and f.value == too_early]
    expected: str | None
    if rule == "state_too_early":
        since = history[0].from_scene if history else "?"
        expected = f"{current or 'not yet ' + str(too_early)} (becomes {too_early!r} from scene {since})"
        message = (f"{entity}'s {attr} is {too_early!r} only from scene {since}, but this text ({where}) "
                   f"already says {found!r}.")
    else:
        expected = current
        message = f"{entity}'s {attr} is {current!r} {where}, but the text says {found!r} ({noun})."
    return _finding(rule, entity, expected, found, evidence, suggestion, message)


def _replace(doc: Doc, evidence: Evidence, its: list[Item], replacement: str) -> str:
    """The evidence span with the offending words replaced by the ledger's (the first) or dropped (the rest)."""
    text = evidence.text
    edits: list[tuple[int, int, str]] = []
    seen: set[tuple[int, str]] = set()
    for n, (k, word) in enumerate(sorted(its)):
        if (k, word) in seen:
            continue
        seen.add((k, word))
        tok = doc.tokens[k]
        m = re.search(re.escape(word), tok.text, re.IGNORECASE)
        if m is None:
            continue
        start, end = tok.start + m.start() - evidence.start, tok.start + m.end() - evidence.start
        edits.append((start, end, replacement if n == 0 else ""))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return re.sub(r"\s+", " ", re.sub(r"-(?=\s|$)|(?<=\s)-", "", text)).strip()


# -- brief ----------------------------------------------------------------------------------------

def _canon_word(word: str) -> str:
    fams = v.COLOURS.get(word)
    if fams and len(fams) == 1:
        return next(iter(fams))
    return v.canon(word)


def _content(doc: Doc) -> list[tuple[int, str]]:
    return [(i, _canon_word(t.low)) for i, t in enumerate(doc.tokens) if t.is_word and t.low not in v.STOPWORDS]


def _negated(doc: Doc, i: int) -> bool:
    sent = doc.sentence[i]
    before = [k for k in range(max(0, i - 3), i) if doc.sentence[k] == sent]
    if any(doc.tokens[k].low in v.NEGATORS for k in before):
        return True
    opening = [t.low for k, t in enumerate(doc.tokens) if doc.sentence[k] == sent][:3]
    labels = v.NEGATORS | {"exclude", "negative", "don't", "avoid"}
    if any(w in labels for w in opening):
        return True
    # A labelled list line: 'Avoid: logos; daylight.' negates every item on it.
    line_start = doc.text.rfind("\n", 0, doc.tokens[i].start) + 1
    first = v.tokenize(doc.text[line_start:line_start + 40].lstrip(" -*"))
    return bool(first) and first[0].low in labels and len(first) > 1 and first[1].low == ":"


def _brief_findings(c: Check, must: Sequence[str], must_not: Sequence[str]) -> list[PromptFinding]:
    doc, out = c.doc, []
    content = _content(doc)
    words = [w for _, w in content]
    for item in must_not:
        phrase = [_canon_word(t.low) for t in v.tokenize(item) if t.is_word and t.low not in v.STOPWORDS]
        if not phrase:
            continue
        for n in range(len(words) - len(phrase) + 1):
            if words[n:n + len(phrase)] == phrase and not _negated(doc, content[n][0]):
                ev = c.evidence(content[n][0], content[n + len(phrase) - 1][0])
                out.append(_finding("must_not_present", None, f"never: {item}", ev.text, ev,
                                    f"remove {ev.text!r}", f"The brief says never {item!r}; the text has {ev.text!r}."))
                break
    have = set(words) | {v.canon(t.low) for t in doc.tokens}
    for item in must:
        need = [w for w in (_canon_word(t.low) for t in v.tokenize(item) if t.is_word)
                if w not in v.STOPWORDS and w not in v.MUST_FILLER]
        if need and sum(w in have for w in need) < math.ceil(0.6 * len(need)):
            out.append(_finding("must_missing", None, item, None, None, f"add: {item}",
                                f"The brief requires {item!r}; this text does not mention it."))
    return out


# -- scene facts and neighbouring shots --------------------------------------------------------------

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
    if doc.tokens[i].low not in v.COLOURS:
        return False
    toks = doc.tokens
    if i + 1 < len(toks) and v.canon(toks[i + 1].low) in v.NOUN_GROUPS:
        return True
    return i >= 2 and toks[i - 1].low in {"is", "are", "was", "were"} and v.canon(toks[i - 2].low) in v.NOUN_GROUPS


def _from_text(doc: Doc, field: str, table: dict[str, frozenset[str]]) -> Valued | None:
    for i, tok in enumerate(doc.tokens):
        # 'day' and 'bright' are too common in prose to date or forecast a shot.
        if tok.low in _TEXT_ONLY_SKIP or not tok.is_word or _colour_use(doc, i):
            continue
        fams = v.families(tok.low, table)
        if fams:
            ev = Evidence(field=field, text=tok.text, start=tok.start, end=tok.end)
            return Valued(fams, tok.text, ev)
    return None


_LTR = re.compile(r"\bleft[\s-]+to[\s-]+right\b|\bL-R\b", re.IGNORECASE)
_RTL = re.compile(r"\bright[\s-]+to[\s-]+left\b|\bR-L\b", re.IGNORECASE)


def _direction_from_text(doc: Doc, field: str) -> Valued | None:
    for pattern, fam in ((_LTR, "ltr"), (_RTL, "rtl")):
        m = pattern.search(doc.text)
        if m:
            return Valued(frozenset({fam}), m.group(0), Evidence(field=field, text=m.group(0), start=m.start(),
                                                                 end=m.end()))
    return None


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


def _scene_findings(c: Check, view: ShotView | None, views: list[ShotView]) -> list[PromptFinding]:
    out: list[PromptFinding] = []
    facts = {}
    if c.scene is not None:
        scene_name = c.ledger.name(c.scene)
        if scene_name and c.ledger.kinds.get(scene_name) == "scene":
            facts = c.ledger.state(scene_name, c.scene).attributes
    own_time = view.time() if view else _from_text(c.doc, c.field, v.TIMES)
    own_weather = view.weather() if view else _from_text(c.doc, c.field, v.WEATHERS)
    for attr, own, table in (("time_of_day", own_time, v.TIMES), ("weather", own_weather, v.WEATHERS)):
        fact = facts.get(attr)
        if fact and own and not (own.families & v.phrase_families(fact, table)) and v.phrase_families(fact, table):
            out.append(_finding("attribute_mismatch", c.scene, fact, own.text, own.evidence, fact,
                                f"Scene {c.scene}'s {attr} is {fact!r}; this shot says {own.text!r}."))
    if view is not None:
        out += _field_facts(c, view, facts)
    if view is None or not views:
        return out
    idx = next(i for i, w in enumerate(views) if w.shot.number == view.shot.number)

    def neighbour_rule(rule: str, getter: str, reason: Callable[[str], bool], fact: str | None,
                       table: dict[str, frozenset[str]]) -> None:
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
            out.append(_finding(rule, c.scene, expected, mine.text, mine.evidence, expected,
                                f"Shot {view.shot.ref} says {mine.text!r} where the scene's shots around it say "
                                f"{expected!r}; say why it changes (in notes) or make it {expected!r}."))

    if not facts.get("time_of_day"):
        neighbour_rule("time_of_day_jump", "time", lambda t: v.changes(t, v.TIME_REASON, v.TIME_SUBJECT,
                                                                       v.TIME_CHANGE), None, v.TIMES)
    if not facts.get("weather"):
        neighbour_rule("weather_jump", "weather", lambda t: v.changes(t, v.WEATHER_REASON, v.WEATHER_SUBJECT,
                                                                      v.WEATHER_CHANGE), None, v.WEATHERS)
    neighbour_rule("screen_direction_flip", "direction", lambda t: bool(v.DIRECTION_REASON.search(t)),
                   facts.get("screen_direction"), v.DIRECTIONS)
    out += _entrances(c, idx, views)
    return out


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
        out.append(_finding("attribute_mismatch", c.scene, fact_ie, shot_ie, ev, fact_ie,
                            f"Scene {c.scene} is {fact_ie}; shot {view.shot.ref} says {shot_ie}."))
    loc, shot_loc = facts.get("location"), view.shot.location
    if loc and shot_loc and name_words(loc) != name_words(shot_loc):
        ev = Evidence(field="location", text=shot_loc, start=0, end=len(shot_loc))
        out.append(_finding("attribute_mismatch", c.scene, loc, shot_loc, ev, loc,
                            f"Scene {c.scene} takes place at {loc!r}; shot {view.shot.ref} says {shot_loc!r}."))
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
    names = {n: (k, [name_words(n)]) for n, k in chars.items()}
    found: dict[str, Evidence] = {}
    for m in find_mentions(view.doc, names):
        if m.entity and m.entity not in found:
            tok_a, tok_b = view.doc.tokens[m.start], view.doc.tokens[m.end]
            found[m.entity] = Evidence(field=view.field, text=view.doc.text[tok_a.start:tok_b.end],
                                       start=tok_a.start, end=tok_b.end)
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
                    out.append(_finding(
                        "unannounced_entrance", name, "enters on screen, or is in the previous shots", "present", ev,
                        f"{name} enters", f"{name} is in shot {view.shot.ref} but in no earlier shot of scene "
                        f"{view.shot.scene}, and the shot does not say {name} enters."))
            established |= {n.lower() for n in present}
        for name in list(present):
            if any(v.EXIT.search(s) for s in _sentences_with(view, name)):
                established.discard(name.lower())
    return out


# -- the whole check --------------------------------------------------------------------------------

def check_text(
    ledger: Ledger, scene: str | None, text: str, field: str, *, shot: Shot | None = None,
    scene_shots: Sequence[Shot] = (), must: Sequence[str] = (), must_not: Sequence[str] = (),
) -> list[PromptFinding]:
    """Every rule over one text: a prompt (field='prompt') or a shot's description."""
    c = Check(ledger=ledger, scene=scene, doc=Doc.of(text), field=field)
    sole = None
    if shot is not None and len(shot.characters) == 1:
        sole = ledger.name(shot.characters[0])
    findings = _fact_findings(c, sole)
    findings += _brief_findings(c, must, must_not)
    # A built prompt also carries the brief, the ledger and style passages: a shot's own time, weather,
    # direction and cast come from its fields and description, not from that material.
    view = None
    if shot is not None:
        view = ShotView(shot, c.doc, field) if field != "prompt" else ShotView(shot, Doc.of(shot.description),
                                                                                "description")
    views = []
    if shot is not None:
        others = sorted(scene_shots, key=lambda s: s.number)
        if not any(s.number == shot.number for s in others):
            others = sorted([*others, shot], key=lambda s: s.number)
        views = [view if s.number == shot.number else ShotView(s, Doc.of(s.description), "description")
                 for s in others]
    findings += _scene_findings(c, view, [w for w in views if w is not None])
    seen, out = set(), []
    for f in findings:
        key = (f.rule, (f.entity or "").lower(), f.expected, f.found)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return sorted(out, key=lambda f: (f.severity != "error", f.evidence.start if f.evidence else 1 << 30))


__all__ = ["RULES", "Dims", "check_text", "dims_of", "sequence_flags"]
