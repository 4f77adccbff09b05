"""Entity facts: attribute_mismatch, side_flip and state_too_early, from the words around each mention
of a ledger entity (or of a noun one of them owns) against its facts as of the scene."""

from __future__ import annotations

import re

from tools.continuity import vocabulary as v
from tools.continuity.descriptors import dims_of, lex_words, value_dims, words_for
from tools.continuity.ledger import Ledger, scene_le
from tools.continuity.mentions import (
    META_KEYS,
    Doc,
    Item,
    Mention,
    Named,
    NameVariant,
    find_mentions,
    gender_of,
    length_items,
    name_words,
    noun_head,
    owner_of,
    post_window,
    pre_window,
    pronoun_gender,
)
from tools.continuity.models import Evidence, PromptFinding
from tools.continuity.preflight.common import Check, finding, on_negative_list
from tools.continuity.preflight.parts import markers, part_states, presence_of


def _entity_names(ledger: Ledger, scene: str | None) -> dict[str, Named]:
    """Every non-scene entity with the ways a text names it: its name, its stored aliases (and the old
    comma-separated 'aliases' attribute), and a character's first name and surname, written capitalised."""
    out = {}
    for name, kind in ledger.kinds.items():
        if kind == "scene":
            continue
        attrs = ledger.state(name, scene).attributes
        variants = [NameVariant(tuple(name_words(name)))]
        legacy = [a for a in attrs.get("aliases", "").split(",") if a.strip()]
        variants += [NameVariant(tuple(name_words(a))) for a in [*ledger.stored_aliases(name), *legacy]]
        variants += [NameVariant(tuple(name_words(part)), capital=True) for part in ledger.name_part_aliases(name)]
        out[name] = Named(kind, variants, gender_of(attrs.get("pronouns")))
    return out


def fact_findings(c: Check, sole_character: str | None) -> list[PromptFinding]:
    ledger, doc = c.ledger, c.doc
    names = _entity_names(ledger, c.scene)
    mentions = find_mentions(doc, names)
    mention_tokens = {i for m in mentions for i in range(m.start, m.end + 1)}
    mention_starts = {m.start for m in mentions if m.entity is not None}
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
    parts = part_states(doc, mentions, set(owners))
    findings: list[PromptFinding] = []

    def check_noun(i: int, head: str, items: list[Item], gender: str | None) -> None:
        owner = owner_of(doc, i, mentions, owners[head], sole_character, gender)
        if owner is None:
            return
        for attr in sorted({f.attribute for f in ledger.facts_of(owner)}):
            if noun_head(attr) == head:
                findings.extend(_compare(c, owner, attr, items, i, head))
        for entity in owned.get((owner, head), []):
            for attr in sorted({f.attribute for f in ledger.facts_of(entity)} - META_KEYS):
                findings.extend(_compare(c, entity, attr, items, i, head))

    for i, _tok in enumerate(doc.tokens):
        head = doc.head_at(i)
        if head not in owners or (i in mention_tokens and not _is_owned_tail(mentions, i)):
            continue
        items = pre_window(doc, i, mention_tokens) + _post(doc, i, mention_starts)
        items += [(i, w) for w in _own_words(doc, i)]
        if head in v.REMOVABLE:
            items.append(presence_of(doc, i))
        items += parts.on_token.get(i, [])
        check_noun(i, head, items, pronoun_gender(doc, i))
    for k, heads, word in markers(doc):
        for head in heads & set(owners):
            check_noun(k, head, [(k, word)], pronoun_gender(doc, k))
    for (k, gender, wholes), items in parts.on_owner.items():
        for head in wholes & set(owners):
            check_noun(k, head, items, gender)
    for m in mentions:
        if m.entity is None:
            continue
        items = pre_window(doc, m.start, mention_tokens - set(range(m.start, m.end + 1)))
        items += [(k, p) for k in range(m.start + 1, m.end) for p in doc.tokens[k].parts]
        if m.end > m.start or ledger.kinds[m.entity] != "character":
            items += _post(doc, m.end, mention_starts)
        items += parts.on_token.get(m.end, [])
        for attr in sorted({f.attribute for f in ledger.facts_of(m.entity)} - META_KEYS):
            if noun_head(attr) is None:
                findings += _compare(c, m.entity, attr, items, m.end, name_words(m.entity)[-1])
    # A grounded prompt's 'Avoid: orange coats.' names what must not appear, not what the coat is.
    return [f for f in findings if not _on_negative_list(doc, f)]


def _on_negative_list(doc: Doc, f: PromptFinding) -> bool:
    ev = f.evidence
    return ev is not None and doc.text[ev.start : ev.end] == ev.text and on_negative_list(doc.text, ev.start)


def _own_words(doc: Doc, i: int) -> list[str]:
    """What the noun itself says: a braid has some length, a crop is short."""
    low = doc.tokens[i].low
    return [low] if "-" not in low and dims_of([low]) else []


def _is_owned_tail(mentions: list[Mention], i: int) -> bool:
    # 'Mara's jacket': the noun 'jacket' ends a two-word mention and is still checked as Mara's jacket.
    return any(m.end == i and m.end > m.start for m in mentions)


def _post(doc: Doc, i: int, mention_starts: set[int]) -> list[Item]:
    items, full = post_window(doc, i, mention_starts)
    lengths = length_items(doc, i)
    if full:
        return items + lengths
    return [(k, p) for k, p in items if any(d in ("side", "part") for d in dims_of([p]))] + lengths


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
        rule = "state_too_early" if too_early is not None else ("side_flip" if dim == "side" else "attribute_mismatch")
        context = [k for k, w in items if dims_of([w])]
        out.append(_fact_finding(c, rule, entity, attr, current, too_early, dim, its, anchor, noun, context))
    return out


def _fact_finding(
    c: Check,
    rule: str,
    entity: str,
    attr: str,
    current: str | None,
    too_early: str | None,
    dim: str,
    its: list[Item],
    anchor: int,
    noun: str,
    context: list[int],
) -> PromptFinding:
    doc = c.doc
    # The span runs from the noun over every descriptive word around it ('scar on her right cheek').
    lo, hi = min([anchor, *context, *(k for k, _ in its)]), max([anchor, *context, *(k for k, _ in its)])
    evidence = c.evidence(lo, hi)
    found = " ".join(dict.fromkeys(w for _, w in its))
    replacement = " ".join(words_for(current, dim)) if current else ""
    suggestion = _replace(doc, evidence, its, replacement)
    if dim == "presence":
        # The words that say it ('gloveless', 'without his glasses', 'pulls off her beret'), and the fix in words.
        found = evidence.text
        if current and "present" in value_dims(current, noun_head(attr), set()).get("presence", frozenset()):
            suggestion = f"show {entity}'s {attr}: {current}"
        else:
            suggestion = f"leave out the {noun}: {entity}'s {attr} is {current!r}"
    where = f"as of scene {c.scene}" if c.scene else "in the ledger"
    history = [f for f in c.ledger.facts_of(entity) if f.attribute == attr and f.value == too_early]
    expected: str | None
    if rule == "state_too_early":
        since = history[0].from_scene if history else "?"
        expected = f"{current or 'not yet ' + str(too_early)} (becomes {too_early!r} from scene {since})"
        message = (
            f"{entity}'s {attr} is {too_early!r} only from scene {since}, but this text ({where}) "
            f"already says {found!r}."
        )
    else:
        expected = current
        message = f"{entity}'s {attr} is {current!r} {where}, but the text says {found!r} ({noun})."
    return finding(rule, entity, expected, found, evidence, suggestion, message)


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
