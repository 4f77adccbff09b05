"""Where a text mentions ledger entities and their attribute nouns, and the descriptors around them.

A noun ('jacket', 'parka', 'scar') belongs to the nearest character mentioned in its sentence
(preceding first), else to the last entity mentioned before it, else to the only character of the
shot; a bystander ('a fisherman') also counts as a mention, so his blue coat is not Mara's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tools.continuity import vocabulary as v
from tools.continuity.descriptors import is_descriptive
from tools.continuity.vocabulary import Token

PERSON_NOUNS = set(
    "man woman men women fisherman fishermen stranger girl boy child children kid figure crowd someone somebody "
    "person people passenger passengers sailor sailors officer guard guards driver waiter waitress vendor "
    "customer customers bystander bystanders mother father friend friends pilot captain".split()
)
# Attribute keys that are metadata, never descriptions of the entity in the picture.
META_KEYS = {"aliases", "alias", "notes", "note", "pronouns", "role", "age", "name", "story_day", "lighting"}
_SUFFIX = re.compile(r"_(colour|color|length|state|side|style|shade)$")


def noun_head(key: str) -> str | None:
    """The noun an attribute key names in text ('jacket', 'hair_colour' -> 'hair'); None for descriptors."""
    if key in v.DESCRIPTOR_KEYS or key in META_KEYS:
        return None
    base = _SUFFIX.sub("", key)
    return v.canon(base.split("_")[-1])


def name_words(name: str) -> list[str]:
    words = [v.canon(t.low) for t in v.tokenize(name.replace("_", " ")) if t.is_word]
    return [w for w in words if w not in v.STOPWORDS] or words


@dataclass
class Mention:
    entity: str | None  # None for a bystander
    kind: str
    start: int  # token index of the first name word
    end: int  # token index of the last name word


@dataclass
class Doc:
    text: str
    tokens: list[Token]
    sentence: list[int] = field(default_factory=list)  # sentence number of each token

    @classmethod
    def of(cls, text: str) -> Doc:
        tokens = v.tokenize(text)
        sentence, n, prev_end = [], 0, 0
        for tok in tokens:
            if "\n" in text[prev_end : tok.start]:
                n += 1
            sentence.append(n)
            if tok.low in {".", "!", "?", ";"}:
                n += 1
            prev_end = tok.end
        return cls(text, tokens, sentence)

    def canon(self, i: int) -> str:
        return v.canon(self.tokens[i].low)

    def head_at(self, i: int) -> str:
        """The canonical noun of token i ('red-haired' -> 'hair')."""
        parts = self.tokens[i].parts
        return v.canon(parts[-1]) if parts else ""


def find_mentions(doc: Doc, names: dict[str, tuple[str, list[list[str]]]]) -> list[Mention]:
    """Mentions of entities ({entity: (kind, [name words, alias words...])}) and of bystanders."""
    out: list[Mention] = []
    toks = doc.tokens
    for entity, (kind, variants) in names.items():
        for words in variants:
            if not words:
                continue
            for i in range(len(toks)):
                if doc.canon(i) != words[0] and doc.head_at(i) != words[0]:
                    continue
                j, ok = i, True
                for word in words[1:]:
                    nxt = next(
                        (
                            k
                            for k in range(j + 1, min(j + 4, len(toks)))
                            if doc.canon(k) == word or doc.head_at(k) == word
                        ),
                        None,
                    )
                    if nxt is None or any(not toks[k].is_word for k in range(j + 1, nxt)):
                        ok = False
                        break
                    j = nxt
                if ok:
                    out.append(Mention(entity, kind, i, j))
    taken = {i for m in out for i in range(m.start, m.end + 1)}
    for i, tok in enumerate(toks):
        if tok.low in PERSON_NOUNS and i not in taken:
            out.append(Mention(None, "character", i, i))
    out.sort(key=lambda m: (m.start, m.end))
    return out


def owner_of(doc: Doc, i: int, mentions: list[Mention], has_noun: set[str], sole: str | None) -> str | None:
    """Who a noun at token i belongs to: characters always compete; other entities only if they own the noun."""

    def candidate(m: Mention) -> bool:
        return (m.kind == "character" or m.entity in has_noun) and not (m.start <= i <= m.end and m.kind != "character")

    same = [m for m in mentions if candidate(m) and doc.sentence[m.start] == doc.sentence[i] and m.end != i]
    before = [m for m in same if m.end < i]
    if before:
        return max(before, key=lambda m: m.end).entity
    after = [m for m in same if m.start > i]
    if after:
        return min(after, key=lambda m: m.start).entity
    earlier = [m for m in mentions if candidate(m) and m.end < i]
    if earlier:
        return max(earlier, key=lambda m: m.end).entity
    if sole is not None:
        return sole
    # 'A scar above her left eyebrow; Mara turns.': the one character the text names.
    named = {m.entity for m in mentions if m.kind == "character"}
    return named.pop() if len(named) == 1 else None


Item = tuple[int, str]  # (token index, word or hyphen part)


def words_of(tok: Token) -> list[str]:
    """'waist-length' stays whole (the tables know it); 'salt-stained' splits into its parts."""
    return [tok.low] if "-" in tok.low and is_descriptive(tok.low) else tok.parts


def pre_window(doc: Doc, i: int, stops: set[int]) -> list[Item]:
    """Modifier words before token i: 'her faded red [jacket]' up to 4 words, stopping at clause edges."""
    items: list[Item] = []
    parts = doc.tokens[i].parts
    items += [(i, p) for p in parts[:-1]]  # 'red-haired': 'red' modifies the noun part
    j, words = i - 1, 0
    while j >= 0 and words < 4:
        tok = doc.tokens[j]
        if not tok.is_word or tok.low in v.PRE_STOPS or j in stops:
            break
        items += [(j, p) for p in words_of(tok)]
        words += 1
        j -= 1
    return items


def post_window(doc: Doc, end: int) -> tuple[list[Item], bool]:
    """Words after a noun. Returns (items, full): after 'is'/'on'/'cut'... every dimension counts ('scar on
    her left cheek', 'jacket is blue'); otherwise only sides and body parts ('scarred right cheek')."""
    toks = doc.tokens
    j = end + 1
    appositive = False
    if (
        j + 1 < len(toks)
        and toks[j].low == ","
        and (toks[j + 1].low in {"now", "still"} or is_descriptive(toks[j + 1].low))
    ):
        # 'her hair, cropped short' / 'the map, now torn': a description set off by a comma.
        j += 1
        appositive = True
    if j >= len(toks):
        return [], False
    full = appositive or toks[j].low in v.POST_OPENERS
    limit = 6 if full else 3
    items: list[Item] = []
    words = 0
    while j < len(toks) and words < limit:
        tok = toks[j]
        if not tok.is_word or tok.low in {"and", "but", "while", "as", "or", "with"}:
            break
        items += [(j, p) for p in words_of(tok)]
        words += 1
        j += 1
    return items, full
