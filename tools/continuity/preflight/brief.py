"""The brief: must_not_present (a never-phrase in the text, not negated, also in other words: a
cellphone is a mobile phone) and must_missing (a required item the text does not mention).

Other words come from the must-not lexicon (tools/continuity/lexicon/must_not.json) and, when the
checker is given one, from an embedder: a noun phrase of the text as close to a must-not item as a
synonym is (cosine >= SIMILAR, MiniLM) counts too.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

from tools.continuity import vocabulary as v
from tools.continuity.mentions import Doc
from tools.continuity.models import PromptFinding
from tools.continuity.preflight.common import LIST_LABELS, Check, finding, on_negative_list


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
    if any(w in LIST_LABELS for w in opening):
        return True
    return on_negative_list(doc.text, doc.tokens[i].start)


# Cosine similarity (normalised MiniLM vectors) at which a noun phrase is taken for a must-not item.
SIMILAR = 0.8
# texts -> unit vectors; given by the caller (prompt_check) when the offline embedder is available.
Similar = Callable[[list[str]], list[list[float]]]


def _pattern(phrase: str) -> list[str]:
    """A lexicon entry as words to match: 'a * smoke' keeps 'a' and the one-word gap; plain entries keep
    their content words ('mobile phones' -> ['mobile', 'phone'])."""
    toks = [t for t in v.tokenize(phrase) if t.is_word or t.low == "*"]
    if any(t.low == "*" for t in toks):
        return [t.low if t.low == "*" else v.canon(t.low) for t in toks]
    return [_canon_word(t.low) for t in toks if t.low not in v.STOPWORDS]


@functools.cache
def _group_patterns() -> list[list[list[str]]]:
    return [[_pattern(m) for m in group] for group in v.MUST_NOT_GROUPS]


@functools.cache
def _variants(item: str) -> tuple[tuple[str, ...], ...]:
    own = _pattern(item)
    out = [own] if own else []
    for members in _group_patterns():
        # The item names a member ('mobile phones'), or a kind of one ('modern smartphones' ends in one).
        if own in members or any(len(m) == 1 and "*" not in m and own and own[-1] == m[0] for m in members):
            out += [m for m in members if m and m != own and m not in out]
    return tuple(dict.fromkeys(tuple(f) for f in out))


def variants(item: str) -> list[list[str]]:
    """A must-not item and, if it names a member of a must-not group, every member of that group."""
    return [list(f) for f in _variants(item)]


def _matches(doc: Doc, pattern: list[str], longer: set[str]) -> list[tuple[int, int]]:
    """Spans (first, last token) where the pattern occurs: over the text's content words (stopwords between
    are skipped, as in 'text on screen'), or over all its words for a pattern with '*' (one optional word).
    A one-word pattern that begins a longer entry ('mobile' of 'mobile phone') must end its phrase."""
    star = "*" in pattern
    words = [(i, t.low) for i, t in enumerate(doc.tokens) if t.is_word and (star or t.low not in v.STOPWORDS)]
    out = []
    for n in range(len(words)):
        last = _walk(pattern, words, 0, n)
        if last is None:
            continue
        end = words[last][0]
        if len(pattern) == 1 and pattern[0] in longer:
            nxt = doc.tokens[end + 1] if end + 1 < len(doc.tokens) else None
            if nxt is not None and nxt.is_word and nxt.low not in v.STOPWORDS and nxt.low not in v.PRE_STOPS:
                continue
        out.append((words[n][0], end))
    return out


def _walk(pattern: list[str], words: list[tuple[int, str]], p: int, w: int) -> int | None:
    """The index in `words` where `pattern[p:]` ends when it starts at words[w], else None."""
    if p == len(pattern):
        return w - 1
    if pattern[p] == "*":
        skipped = _walk(pattern, words, p + 1, w)
        return skipped if skipped is not None else _walk(pattern, words, p + 1, w + 1) if w < len(words) else None
    if w >= len(words):
        return None
    word = words[w][1]
    if pattern[p] not in (_canon_word(word), v.canon(word), word):
        return None
    return _walk(pattern, words, p + 1, w + 1)


def _noun_phrases(doc: Doc) -> list[tuple[int, int]]:
    """Short noun phrases for the embedder: each content word alone and with the word before it, but not
    the verb after a subject ('Tomas phones the harbourmaster' is no phone)."""
    spans = []
    for i, tok in enumerate(doc.tokens):
        if not tok.is_word or tok.low in v.STOPWORDS or tok.low in v.PRE_STOPS or len(tok.low) < 3:
            continue
        if _is_verb_after_subject(doc, i):
            continue
        spans.append((i, i))
        before = doc.tokens[i - 1] if i > 0 else None
        if before is not None and before.is_word and before.low not in v.STOPWORDS | v.NEGATORS:
            spans.append((i - 1, i))
    return spans


_SUBJECTS = {"he", "she", "they", "it", "who"}
_OBJECT_OPENERS = {"the", "a", "an", "her", "his", "their", "its", "my", "your", "our", "this", "that", "up", "out"}


def _is_verb_after_subject(doc: Doc, i: int) -> bool:
    """A word between a subject (a capitalised name, not possessive, or a subject pronoun) and its object's
    determiner: 'Tomas phones the harbourmaster', 'she smokes out the hive'."""
    toks = doc.tokens
    if i == 0 or i + 1 >= len(toks) or toks[i + 1].low not in _OBJECT_OPENERS:
        return False
    prev = toks[i - 1]
    named = prev.text[:1].isupper() and not prev.possessive and prev.low not in v.STOPWORDS
    return prev.is_word and (named or prev.low in _SUBJECTS)


def _must_not_finding(c: Check, item: str, a: int, b: int, how: str) -> PromptFinding:
    ev = c.evidence(a, b)
    return finding(
        "must_not_present",
        None,
        f"never: {item}",
        ev.text,
        ev,
        f"remove {ev.text!r}",
        f"The brief says never {item!r}; the text has {ev.text!r}{how}.",
    )


def brief_findings(
    c: Check, must: Sequence[str], must_not: Sequence[str], similar: Similar | None = None
) -> list[PromptFinding]:
    doc, out = c.doc, []
    content = _content(doc)
    words = [w for _, w in content]
    flagged: set[str] = set()
    for item in must_not:
        forms = variants(item)
        longer = {f[0] for f in forms if len(f) > 1}
        for form in forms:
            hit = next(((a, b) for a, b in _matches(doc, form, longer) if not _negated(doc, a)), None)
            if hit is not None:
                how = "" if form == forms[0] else f" (another word for {item!r})"
                out.append(_must_not_finding(c, item, hit[0], hit[1], how))
                flagged.add(item)
                break
    rest = [item for item in must_not if item not in flagged]
    if similar is not None and rest:
        out += _similar_findings(c, rest, similar)
    have = set(words) | {v.canon(t.low) for t in doc.tokens}
    for item in must:
        need = [
            w
            for w in (_canon_word(t.low) for t in v.tokenize(item) if t.is_word)
            if w not in v.STOPWORDS and w not in v.MUST_FILLER
        ]
        if need and sum(w in have for w in need) < math.ceil(0.6 * len(need)):
            out.append(
                finding(
                    "must_missing",
                    None,
                    item,
                    None,
                    None,
                    f"add: {item}",
                    f"The brief requires {item!r}; this text does not mention it.",
                )
            )
    return out


def similarity_inputs(text: str, must_not: Sequence[str]) -> list[str]:
    """The texts `_similar_findings` will ask vectors for (the items, then the text's noun phrases), so a
    caller can embed them ahead, off the rule code's path."""
    doc = Doc.of(text)
    spans = [(a, b) for a, b in _noun_phrases(doc) if not _negated(doc, a) and not _negated(doc, b)]
    return [*must_not, *(doc.text[doc.tokens[a].start : doc.tokens[b].end] for a, b in spans)]


def _similar_findings(c: Check, items: list[str], similar: Similar) -> list[PromptFinding]:
    """Must-not items said in words no lexicon lists, by embedding similarity of short noun phrases."""
    doc = c.doc
    spans = [(a, b) for a, b in _noun_phrases(doc) if not _negated(doc, a) and not _negated(doc, b)]
    if not spans:
        return []
    texts = [doc.text[doc.tokens[a].start : doc.tokens[b].end] for a, b in spans]
    vectors = similar([*items, *texts])
    out = []
    for n, item in enumerate(items):
        best, where = 0.0, None
        for k, span in enumerate(spans):
            score = sum(x * y for x, y in zip(vectors[n], vectors[len(items) + k], strict=True))
            if score > best:
                best, where = score, span
        if where is not None and best >= SIMILAR:
            out.append(_must_not_finding(c, item, where[0], where[1], f" (similar in meaning, {best:.2f})"))
    return out
