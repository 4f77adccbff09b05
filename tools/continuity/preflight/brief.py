"""The brief: must_not_present (a never-phrase in the text, not negated) and must_missing (a required
item the text does not mention)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from tools.continuity import vocabulary as v
from tools.continuity.mentions import Doc
from tools.continuity.models import PromptFinding
from tools.continuity.preflight.common import Check, finding


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
    first = v.tokenize(doc.text[line_start : line_start + 40].lstrip(" -*"))
    return bool(first) and first[0].low in labels and len(first) > 1 and first[1].low == ":"


def brief_findings(c: Check, must: Sequence[str], must_not: Sequence[str]) -> list[PromptFinding]:
    doc, out = c.doc, []
    content = _content(doc)
    words = [w for _, w in content]
    for item in must_not:
        phrase = [_canon_word(t.low) for t in v.tokenize(item) if t.is_word and t.low not in v.STOPWORDS]
        if not phrase:
            continue
        for n in range(len(words) - len(phrase) + 1):
            if words[n : n + len(phrase)] == phrase and not _negated(doc, content[n][0]):
                ev = c.evidence(content[n][0], content[n + len(phrase) - 1][0])
                out.append(
                    finding(
                        "must_not_present",
                        None,
                        f"never: {item}",
                        ev.text,
                        ev,
                        f"remove {ev.text!r}",
                        f"The brief says never {item!r}; the text has {ev.text!r}.",
                    )
                )
                break
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
