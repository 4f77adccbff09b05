"""What a text says of a thing without naming it with its attribute noun: presence ('gloveless', 'without
his glasses', 'has taken off her gloves'), and states on its parts ('the hem of her jacket is torn',
'its edge ripped', 'a tear along the sleeve of Mara's jacket').

A removal in any tense ('Mara shrugs off her coat', 'has taken off her gloves') says the thing is absent:
the shot ends without it while the ledger says it is worn, unless the text puts it back on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tools.continuity import vocabulary as v
from tools.continuity.descriptors import dims_of
from tools.continuity.mentions import (
    PRONOUN_GENDER,
    Doc,
    Item,
    Mention,
    post_window,
    pre_window,
)

_DOUBLE_NEGATION = {"never", "not", "rarely", "seldom"}
# Before a removal verb, these keep the thing on: 'does not take off her gloves', 'without removing it'.
_KEEPS = {"not", "never", "no", "don't", "doesn't", "didn't", "won't", "can't", "without", "refuses", "refusing"}
_NP_WORDS = {"a", "an", "the", "her", "his", "their", "its", "my", "your", "pair", "of", "old", "new", "own"}
_PREPOSITIONS = {"along", "on", "in", "across", "down", "at", "through", "over", "near", "by", "around", "up"}


def presence_of(doc: Doc, i: int) -> Item:
    """('absent', at the word that says it) when the noun at i is negated ('no gloves', 'without his
    glasses', 'not wearing her beret') or taken off in any tense ('has taken off her gloves', 'pulls off her
    beret', 'pulls her beret off') and not put back on later in the text; else ('present', at the noun)."""
    toks = doc.tokens
    j, steps = i - 1, 0
    while j >= 0 and steps < 5 and doc.sentence[j] == doc.sentence[i]:
        low = toks[j].low
        if low in v.ABSENCE_WORDS or low == "no":
            before = {toks[k].low for k in range(max(0, j - 3), j) if doc.sentence[k] == doc.sentence[i]}
            # 'never without', 'never reads without', and 'without taking off her gloves': two negations
            # keep the thing on.
            removal = any(toks[k].low in forms for k in range(j + 1, i) for forms, _ in v.REMOVALS)
            return (i, "present") if before & _DOUBLE_NEGATION or removal else (j, "absent")
        if not toks[j].is_word or (low in v.PRE_STOPS and low not in {"of"}):
            break
        j, steps = j - 1, steps + 1
    base = max(0, i - 7)
    window = [t.low for t in toks[base:i]]

    def np_between(words: list[str]) -> bool:
        # Only NP words may stand between the verb and the noun ('pulls off [her grey] gloves').
        return len(words) <= 3 and not any(w in v.PRE_STOPS or not w[:1].isalnum() for w in words)

    for phrase in v.NOT_WEARING:
        n = len(phrase)
        for end in range(len(window), n - 1, -1):
            if tuple(window[end - n : end]) == phrase and np_between(window[end:]):
                return (base + end - n, "absent")
    at = _removed(doc, i, window, np_between)
    if at is not None and not _put_back(doc, i):
        return (base + at, "absent")
    stowed = _stowed(doc, i)
    if stowed is not None and not _put_back(doc, i):
        return (stowed, "absent")
    return (i, "present")


def _stowed(doc: Doc, i: int) -> int | None:
    """Where the place a thing is put away in ends ('shoves his bandana into a pocket'): it is off, out of
    sight; None if the text does not put it away. A negated verb keeps it on ('never stuffs it in a bag')."""
    toks = doc.tokens
    k = i + 1
    if k >= len(toks) or toks[k].low not in {"into", "in"}:
        return None
    before = {t.low for t in toks[max(0, i - 4) : i]}
    if before & _KEEPS:
        return None
    for n in range(k + 1, min(k + 4, len(toks))):
        if not toks[n].is_word:
            return None
        if toks[n].low in v.STOWED_IN:
            return n
        if toks[n].low not in _NP_WORDS and not toks[n].possessive:
            return None
    return None


def _removed(doc: Doc, i: int, window: list[str], np_between: Callable[[list[str]], bool]) -> int | None:
    """Where in `window` a removal verb on the noun at i stands, its particle before the object or after
    it ('takes off her gloves', 'takes her gloves off', 'has left his hat behind'); None if there is none."""
    after = [t.low for t in doc.tokens[i + 1 : i + 3]]
    for forms, particle in v.REMOVALS:
        n = len(particle)
        for at in range(len(window) - 1, -1, -1):
            if window[at] not in forms or any(w in _KEEPS for w in window[max(0, at - 3) : at]):
                continue
            if tuple(window[at + 1 : at + 1 + n]) == particle and np_between(window[at + 1 + n :]):
                return at
            if n and np_between(window[at + 1 :]) and tuple(after[:n]) == particle:
                return at
    return None


def _put_back(doc: Doc, i: int) -> bool:
    """'takes off his glasses, wipes them, and puts them back on': the thing ends the shot where it began."""
    rest = [t.low for t in doc.tokens[i + 1 :]]
    for phrase in v.REDON:
        n = len(phrase)
        for at in range(len(rest) - n + 1):
            if all(p == "*" or p == w for p, w in zip(phrase, rest[at : at + n], strict=True)):
                return True
    return False


def markers(doc: Doc) -> list[tuple[int, frozenset[str], str]]:
    """Words that speak of a thing without naming it: 'gloveless' (gloves, absent), 'shaved head' (hair,
    short). (token index, heads, descriptor word)."""
    out = []
    toks = doc.tokens
    for k, tok in enumerate(toks):
        found = v.MARKERS.get(tok.low)
        if found is None and k > 0:
            found = v.MARKERS.get(f"{toks[k - 1].low} {tok.low}")
        if found is not None:
            heads, word = found
            out.append((k, heads, word))
    return out


@dataclass
class PartStates:
    """State words found on parts, by the thing they belong to: a token (the thing's noun or the entity's
    mention) or, for 'her sleeve', the part's own token with the pronoun's gender and the possible wholes."""

    on_token: dict[int, list[Item]] = field(default_factory=dict)
    on_owner: dict[tuple[int, str | None, frozenset[str]], list[Item]] = field(default_factory=dict)


def _state_items(items: list[Item]) -> list[Item]:
    return [(k, w) for k, w in items if any(d.startswith("state:") for d in dims_of([w]))]


def _is_part(doc: Doc, k: int) -> frozenset[str] | None:
    low = doc.tokens[k].low
    if low in v.PARTS:
        return v.PARTS[low]
    single = low[:-1] if low.endswith("s") and len(low) > 3 else low
    return v.PARTS.get(single)


def _state_noun(doc: Doc, k: int) -> str | None:
    low = doc.tokens[k].low
    return v.STATE_NOUNS.get(low) or v.STATE_NOUNS.get(low[:-1] if low.endswith("s") else low)


def part_states(doc: Doc, mentions: list[Mention], heads: set[str]) -> PartStates:
    out = PartStates()
    ends = {m.end: m for m in mentions if m.entity is not None}
    starts = {m.start: m for m in mentions if m.entity is not None}

    def head_after(k: int) -> int | None:
        """The head noun of the phrase starting at k ('the sleeve', 'Mara's red jacket')."""
        n = 0
        while k < len(doc.tokens) and n < 5 and doc.sentence[k] == doc.sentence[k - 1]:
            tok = doc.tokens[k]
            if not tok.is_word:
                return None
            m = starts.get(k)
            if m is not None:
                last = doc.tokens[m.end]
                if not last.possessive:
                    return m.end
                k, n = m.end + 1, n + 1
                continue
            if tok.possessive or tok.low in _NP_WORDS or dims_of([tok.low]):
                k, n = k + 1, n + 1
                continue
            return k
        return None

    def attach(target: int, items: list[Item], depth: int = 0) -> None:
        """Give `items` to the thing at token `target`: an owned noun, an entity mention, or a part's whole."""
        if depth > 3 or not items:
            return
        if doc.head_at(target) in heads or target in ends:
            out.on_token.setdefault(target, []).extend(items)
            return
        wholes = _is_part(doc, target)
        if wholes is not None:
            resolve_part(target, wholes, items, depth + 1)

    def resolve_part(p: int, wholes: frozenset[str], items: list[Item], depth: int) -> None:
        toks = doc.tokens
        if p + 1 < len(toks) and toks[p + 1].low == "of":  # 'the hem of Mara's jacket'
            head = head_after(p + 2)
            if head is not None:
                attach(head, items, depth)
            return
        b = p - 1
        while b >= 0 and p - b <= 3 and toks[b].is_word and dims_of([toks[b].low]) and not toks[b].possessive:
            b -= 1
        if b < 0 or (doc.sentence[b] != doc.sentence[p] and toks[b].low != "its"):
            return
        tok = toks[b]
        if tok.low == "its":  # the nearest thing before: 'the map, its edge ripped'
            for k in range(b - 1, -1, -1):
                if doc.sentence[k] < doc.sentence[b] - 1:
                    break
                m = ends.get(k)
                if (m is not None and m.kind != "character") or (doc.head_at(k) in heads and k not in ends):
                    attach(k, items, depth)
                    return
            return
        if tok.low in {"her", "his", "their"} and "*" not in wholes:  # 'her sleeve': her jacket
            out.on_owner.setdefault((p, PRONOUN_GENDER[tok.low], wholes), []).extend(items)
            return
        if tok.possessive:
            m = ends.get(b)
            if m is not None and m.kind == "character":
                if "*" not in wholes:
                    out.on_owner.setdefault((p, m.gender, wholes), []).extend(items)
                return
            attach(b, items, depth)  # 'the lantern's glass', 'her jacket's hem'

    for p in range(len(doc.tokens)):
        state = _state_noun(doc, p)
        if state is not None:  # 'a ragged tear runs along the sleeve of Mara's jacket'
            items = [(p, state), *_state_items(pre_window(doc, p, set()))]
            for k in range(p + 1, min(p + 4, len(doc.tokens))):
                if not doc.tokens[k].is_word or doc.sentence[k] != doc.sentence[p]:
                    break
                if doc.tokens[k].low in _PREPOSITIONS:
                    head = head_after(k + 1)
                    if head is not None:
                        attach(head, items)
                    break
            continue
        wholes = _is_part(doc, p)
        if wholes is None or doc.head_at(p) in heads:
            continue
        post, full = post_window(doc, p)
        if not full:  # 'its hem ripped', not 'her sleeve brushes the ripped sail'
            post = [(k, w) for k, w in post if all(dims_of([doc.tokens[n].low]) for n in range(p + 1, k + 1))]
        items = _state_items(pre_window(doc, p, set()) + post)
        if items:
            resolve_part(p, wholes, items, 0)
    return out
