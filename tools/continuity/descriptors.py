"""Descriptions as dimensions: 'faded crimson wool, torn' -> colour {red}, state:damage {torn}, lex {wool}.

Two descriptions disagree on a dimension when both name it and their families do not intersect.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from tools.continuity import vocabulary as v

Dims = dict[str, frozenset[str]]


@functools.cache
def _tables() -> list[tuple[str, dict[str, frozenset[str]]]]:
    # Built on first use: the named-colour table needs CIELAB (scikit-image), never loaded at start-up.
    return [
        ("colour", v.colour_table()),
        ("side", v.SIDES),
        ("part", v.BODY_PARTS),
        ("length", v.LENGTHS),
        ("presence", v.PRESENCE),
        *[(f"state:{axis}", table) for axis, table in v.STATE_AXES.items()],
    ]


@functools.cache
def word_dims(word: str) -> Dims:
    out: Dims = {}
    for dim, table in _tables():
        fams = v.families(word, table)
        if fams:
            out[dim] = fams
    return out


def is_descriptive(word: str) -> bool:
    return bool(word_dims(word))


def dims_of(words: Iterable[str]) -> Dims:
    out: dict[str, set[str]] = {}
    implied: set[str] = set()
    for word in words:
        for dim, fams in word_dims(word).items():
            if dim == "length" and word in v.IMPLIED_LENGTH:
                implied |= fams  # a braid has some length; 'long' or 'short' said outright wins
                continue
            out.setdefault(dim, set()).update(fams)
    if implied and "length" not in out:
        out["length"] = implied
    return {d: frozenset(f) for d, f in out.items()}


def value_words(value: str) -> list[str]:
    return [p for t in v.tokenize(value) if t.is_word for p in [t.low, *(t.parts if "-" in t.low else [])]]


def lex_words(value: str, own_noun: str | None) -> set[str]:
    """Words of a ledger value no table knows ('wool', 'denim'): the ledger's own vocabulary."""
    out = set()
    for tok in v.tokenize(value):
        if not tok.is_word:
            continue
        word = v.canon(tok.low)
        if word in v.STOPWORDS or is_descriptive(tok.low) or word == own_noun or word in v.NOUN_GROUPS:
            continue
        if tok.low.isdigit():
            continue
        out.add(word)
    return out


def value_dims(value: str, own_noun: str | None, lex_vocab: set[str]) -> Dims:
    words = value_words(value)
    dims = dims_of([w for w in words if w not in ("present", "absent")])
    dims.pop("presence", None)
    if own_noun in v.REMOVABLE:
        # 'clean-shaven', 'none' -> the thing is absent; any other value -> it is there to be seen.
        low = " ".join(words)
        none = any(w in v.NONE_VALUES for w in words) or any(" " in n and n in low for n in v.NONE_VALUES)
        dims["presence"] = frozenset({"absent" if none else "present"})
    lex = lex_words(value, own_noun) & lex_vocab
    if lex:
        dims["lex"] = frozenset(lex)
    return dims


def words_for(value: str, dim: str) -> list[str]:
    """The words of `value` that give it `dim` (to build a suggestion)."""
    if dim == "lex":
        return [
            t.text
            for t in v.tokenize(value)
            if t.is_word and not is_descriptive(t.low) and v.canon(t.low) not in v.STOPWORDS
        ][:2]
    return [t.text for t in v.tokenize(value) if t.is_word and dim in dims_of([t.low, *t.parts])]
