"""Where a text mentions ledger entities and their attribute nouns, and the descriptors around them.

An entity is mentioned by its name, its aliases, or (a character with a full name) its first name or
surname alone, written with a capital. A noun ('jacket', 'parka', 'scar') belongs to the nearest
character mentioned in its sentence (preceding first), else to the last entity mentioned before it, else
to the only character of the shot; a bystander ('a fisherman') also counts as a mention, so his blue coat
is not Mara's. A possessive pronoun ('her coat') or a subject pronoun next to the noun ('the coat he
buttons') skips mentions of the other gender, when the ledger's `pronouns` or the bystander noun says it.

The words describing a noun are those before it ('her faded red jacket'), and after it those of an
appositive ('her hair, cropped short'), of a predicate ('the jacket is blue'), also past a relative
clause ('the coat he buttons against the wind is ochre'); words under a negation ('not the green one
but rust') are dropped, and a predicate after a noun inside a relative clause belongs to the clause's head.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tools.continuity import vocabulary as v
from tools.continuity.descriptors import dims_of, is_descriptive
from tools.continuity.vocabulary import Token

PERSON_NOUNS = set(
    "man woman men women fisherman fishermen stranger girl boy child children kid figure crowd someone somebody "
    "person people passenger passengers sailor sailors officer guard guards driver waiter waitress vendor "
    "customer customers bystander bystanders mother father friend friends pilot captain deckhand deckhands "
    "lady gentleman old-timer fisherwoman porter typist typists reporter reporters journalist journalists clerk "
    "clerks secretary nurse priest soldier soldiers worker workers cook chef barman barmaid bartender traveller "
    "travellers commuter commuters tourist tourists neighbour neighbours teenager student students colleague "
    "colleagues courier messenger attendant steward stewardess photographer policeman policewoman drifter "
    "drifters rancher ranchers cowboy cowboys cowhand sheriff deputy marshal outlaw outlaws bandit bandits gambler "
    "preacher farmer farmers miner miners blacksmith rider riders horseman settler settlers trader merchant "
    "shopkeeper innkeeper landlord landlady undertaker barkeep".split()
)
MALE_NOUNS = set(
    "man men fisherman fishermen boy father gentleman waiter barman steward policeman cowboy horseman landlord".split()
)
FEMALE_NOUNS = set("woman women girl mother lady waitress fisherwoman barmaid stewardess policewoman".split())
PRONOUN_GENDER = {
    "he": "m",
    "him": "m",
    "his": "m",
    "himself": "m",
    "she": "f",
    "her": "f",
    "hers": "f",
    "herself": "f",
    "they": "n",
    "them": "n",
    "their": "n",
    "its": "it",
}
POSSESSIVES = {"her", "his", "their", "its"}
SUBJECT_PRONOUNS = {"he", "she", "they", "i", "we", "you"}
RELATIVIZERS = {"that", "which", "who", "whom"}
_PREPOSITIONS = {
    "into",
    "onto",
    "of",
    "on",
    "in",
    "with",
    "under",
    "over",
    "across",
    "against",
    "beside",
    "behind",
    "beneath",
    "from",
    "to",
    "toward",
    "towards",
    "through",
    "around",
    "by",
    "near",
    "past",
    "at",
    "inside",
    "below",
    "above",
}
COPULAS = {"is", "are", "was", "were", "looks", "look", "seems", "remains", "stays", "becomes", "turns"}
NEGATORS = {"not", "never", "no", "isn't", "aren't", "wasn't", "weren't"}
# Attribute keys that are metadata, never descriptions of the entity in the picture.
META_KEYS = {"aliases", "alias", "notes", "note", "pronouns", "role", "age", "name", "story_day", "lighting"}
_SUFFIX = re.compile(r"_(colour|color|length|state|side|style|shade)$")


def noun_head(key: str) -> str | None:
    """The noun an attribute key names in text ('jacket', 'hair_colour' -> 'hair', 'facial_hair' -> 'beard');
    None for descriptors."""
    if key in v.DESCRIPTOR_KEYS or key in META_KEYS:
        return None
    base = _SUFFIX.sub("", key)
    if base in v.KEY_HEADS:
        return v.KEY_HEADS[base]
    last = base.split("_")[-1]
    return v.KEY_HEADS.get(last) or v.canon(last)


def gender_of(pronouns: str | None) -> str | None:
    """'she/her' -> 'f', 'he/him' -> 'm', 'they/them' -> 'n'; None when not said."""
    words = [w for w in re.split(r"[^a-z]+", (pronouns or "").lower()) if w]
    return PRONOUN_GENDER.get(words[0]) if words else None


def name_words(name: str) -> list[str]:
    words = [v.canon(t.low) for t in v.tokenize(name.replace("_", " ")) if t.is_word]
    return [w for w in words if w not in v.STOPWORDS] or words


@dataclass
class Mention:
    entity: str | None  # None for a bystander
    kind: str
    start: int  # token index of the first name word
    end: int  # token index of the last name word
    gender: str | None = None  # 'm', 'f', 'n' (they), or None when unknown


@dataclass(frozen=True)
class NameVariant:
    """One way a text names an entity: its words, and whether each must be written with a capital
    ('Juno' names Juno Alvarez; 'juno' in 'the juno light' does not)."""

    words: tuple[str, ...]
    capital: bool = False


@dataclass
class Named:
    kind: str
    variants: list[NameVariant]
    gender: str | None = None


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
        """The canonical noun of token i ('red-haired' -> 'hair', 'three-piece' -> 'suit')."""
        low = self.tokens[i].low
        if "-" in low and low in v.NOUNS:
            return v.NOUNS[low]
        parts = self.tokens[i].parts
        return v.canon(parts[-1]) if parts else ""


def find_mentions(doc: Doc, names: dict[str, Named]) -> list[Mention]:
    """Mentions of entities (the longest name variant wins where two overlap) and of bystanders."""
    found: list[Mention] = []
    toks = doc.tokens
    for entity, named in names.items():
        for variant in named.variants:
            words = variant.words
            if not words:
                continue
            for i in range(len(toks)):
                if doc.canon(i) != words[0] and doc.head_at(i) != words[0]:
                    continue
                if variant.capital and not toks[i].text[:1].isupper():
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
                    found.append(Mention(entity, named.kind, i, j, named.gender))
    # The longest mention wins where two overlap ('Juno Alvarez' over 'Juno').
    found.sort(key=lambda m: (-(m.end - m.start), m.start))
    out: list[Mention] = []
    taken: set[int] = set()
    for m in found:
        span = set(range(m.start, m.end + 1))
        if span & taken:
            continue
        out.append(m)
        taken |= span
    for i, tok in enumerate(toks):
        if tok.low in PERSON_NOUNS and i not in taken:
            gender = "m" if tok.low in MALE_NOUNS else "f" if tok.low in FEMALE_NOUNS else None
            out.append(Mention(None, "character", i, i, gender))
    out.sort(key=lambda m: (m.start, m.end))
    return out


def pronoun_gender(doc: Doc, i: int) -> str | None:
    """The gender a pronoun next to the noun at i gives its owner: a possessive before it ('her coat',
    'his thick beard') or a subject pronoun right after it ('the coat he buttons')."""
    j, words = i - 1, 0
    while j >= 0 and words < 4 and doc.sentence[j] == doc.sentence[i]:
        tok = doc.tokens[j]
        if not tok.is_word or tok.low in v.PRE_STOPS:
            break
        if tok.low in POSSESSIVES:
            return PRONOUN_GENDER[tok.low]
        j, words = j - 1, words + 1
    k = i + 1
    if k < len(doc.tokens) and doc.tokens[k].low in RELATIVIZERS:
        k += 1
    if k < len(doc.tokens) and doc.tokens[k].low in SUBJECT_PRONOUNS - {"i", "we", "you"}:
        return PRONOUN_GENDER[doc.tokens[k].low]
    return None


def _compatible(m: Mention, gender: str | None) -> bool:
    if gender is None or gender == "n":
        return True
    if gender == "it":
        return m.kind != "character"
    return m.gender is None or m.gender == gender or m.gender == "n"


def owner_of(
    doc: Doc, i: int, mentions: list[Mention], has_noun: set[str], sole: str | None, gender: str | None = None
) -> str | None:
    """Who a noun at token i belongs to: characters always compete; other entities only if they own the noun;
    with a pronoun's `gender`, mentions of the other gender do not."""

    def candidate(m: Mention) -> bool:
        if not _compatible(m, gender):
            return False
        return (m.kind == "character" or m.entity in has_noun) and not (m.start <= i <= m.end and m.kind != "character")

    same = [m for m in mentions if candidate(m) and doc.sentence[m.start] == doc.sentence[i] and m.end != i]
    before = [m for m in same if m.end < i]
    if before:
        nearest = max(before, key=lambda m: m.end)
        head = _relative_head(doc, nearest, i, [m for m in same if m.end < nearest.start])
        return (head or nearest).entity
    after = [m for m in same if m.start > i]
    if after:
        return min(after, key=lambda m: m.start).entity
    earlier = [m for m in mentions if candidate(m) and m.end < i]
    if earlier:
        return max(earlier, key=lambda m: m.end).entity
    if sole is not None:
        return sole
    # 'A scar above her left eyebrow; Mara turns.': the one character the text names.
    named = {m.entity for m in mentions if m.kind == "character" and _compatible(m, gender)}
    return named.pop() if len(named) == 1 else None


def _relative_head(doc: Doc, m: Mention, i: int, earlier: list[Mention]) -> Mention | None:
    """The person a relative clause is about, when mention `m` sits inside that clause and the noun at i in
    the main clause after it: 'The typist [who sits beside Nadia] wears a yellow sweater' is the typist's
    sweater. None when `m` owns the noun outright ('who borrows Nadia's sweater') or there is no clause."""
    toks = doc.tokens
    between = toks[m.end + 1 : i]
    if toks[m.end].possessive and all(t.is_word and not t.possessive for t in between) and len(between) <= 3:
        return None
    if not any(t.is_word and t.low not in POSSESSIVES and not is_descriptive(t.low) for t in between):
        return None
    for r in range(m.start - 1, 0, -1):
        if doc.sentence[r] != doc.sentence[i] or toks[r].low in {";", ":"}:
            return None
        if toks[r].low in {"who", "that"}:
            at = r - 2 if toks[r - 1].low == "," else r - 1  # 'Ruth, who sits beside Nadia, wears'
            return next((h for h in earlier if h.end == at and h.kind == "character"), None)
    return None


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
        if not tok.is_word or tok.low in v.PRE_STOPS or tok.low in RELATIVIZERS or j in stops:
            break
        if tok.low in NEGATORS:
            return [(i, p) for p in parts[:-1]]  # 'not a red coat': nothing said about its colour
        items += [(j, p) for p in words_of(tok)]
        words += 1
        j -= 1
    return items


def in_relative_clause(doc: Doc, i: int) -> bool:
    """Is the noun at i inside a relative clause ('the light that falls on her red jacket is blue')? Then a
    predicate after it belongs to the clause's head. 'whose hair' is the clause's own subject."""
    j = i - 1
    while j >= 0 and doc.sentence[j] == doc.sentence[i]:
        low = doc.tokens[j].low
        if low in {";", ":", "(", ")"}:
            return False
        if low == "whose":
            return False
        if low in RELATIVIZERS:
            return j < i - 1
        if low in COPULAS:
            return False
        j -= 1
    return False


def _skip_relative(doc: Doc, j: int, mention_starts: set[int]) -> int | None:
    """From token j just after a noun: the index of the copula that follows a relative clause on the noun
    ('coat [he buttons against the wind] is', 'boots[, which she bought in Lisbon,] are'), else None."""
    toks = doc.tokens
    if j >= len(toks):
        return None
    comma = toks[j].low == ","
    start = j + 1 if comma else j
    if start >= len(toks):
        return None
    first = toks[start].low
    opens = first in RELATIVIZERS or (not comma and (first in SUBJECT_PRONOUNS or start in mention_starts))
    if not opens:
        return None
    k = start + 1
    while k < len(toks) and k < start + 12 and doc.sentence[k] == doc.sentence[j]:
        low = toks[k].low
        if low == "," and comma:
            return k + 1 if k + 1 < len(toks) and toks[k + 1].low in COPULAS else None
        if low in {",", ";", ":", "and", "but", "while", "as"}:
            return None
        if low in COPULAS and not comma:
            return k
        k += 1
    return None


def length_items(doc: Doc, end: int) -> list[Item]:
    """Lengths said by a phrase after a noun: 'falls past her shoulders' (long), 'cropped to the scalp'."""
    toks = doc.tokens
    words: list[tuple[int, str]] = []
    k = end + 1
    while k < len(toks) and len(words) < 9 and doc.sentence[k] == doc.sentence[end]:
        if toks[k].low in {";", ":", "."}:
            break
        if toks[k].is_word:
            words.append((k, toks[k].low))
        k += 1
    out: list[Item] = []
    for phrase, lengths in v.LENGTH_PHRASES.items():
        pattern = phrase.split()
        for n in range(len(words) - len(pattern) + 1):
            if all(p == "*" or p == w for p, (_, w) in zip(pattern, words[n : n + len(pattern)], strict=False)):
                out += [(words[n + len(pattern) - 1][0], length) for length in lengths.split()]
    return out


def _describes(doc: Doc, j: int) -> bool:
    """Does a description start at j: 'now'/'not', a descriptive word, or 'a'/'an'/'the' then one within
    two words ('a dusty periwinkle')?"""
    toks = doc.tokens
    while j < len(toks) and toks[j].low in {"-", "—", "–", "("}:
        j += 1
    if j >= len(toks):
        return False
    if toks[j].low in {"now", "still", "not", "no"} or is_descriptive(toks[j].low):
        return True
    if toks[j].low in {"a", "an", "the"}:
        return any(k < len(toks) and toks[k].is_word and is_descriptive(toks[k].low) for k in (j + 1, j + 2))
    return _short_aside(doc, j)


def _short_aside(doc: Doc, j: int) -> bool:
    """An aside of at most three words, closed by a comma, dash or bracket, that ends in a descriptive word:
    'her jacket, bright orange, flaps open' / 'the coat -- washed-out blue -- hangs'."""
    toks = doc.tokens
    k = j
    while k < len(toks) and k < j + 3 and toks[k].is_word and toks[k].low not in NEGATORS | RELATIVIZERS:
        k += 1
    closed = k < len(toks) and toks[k].low in {",", "-", "—", "–", ")"} and k > j
    return closed and is_descriptive(toks[k - 1].low)


def post_window(doc: Doc, end: int, mention_starts: set[int] | None = None) -> tuple[list[Item], bool]:
    """Words after a noun. Returns (items, full): after 'is'/'on'/'cut'... every dimension counts ('scar on
    her left cheek', 'jacket is blue', also past a relative clause); otherwise only sides and body parts
    ('scarred right cheek'). Words under a negation are dropped ('not the green one today but rust')."""
    toks = doc.tokens
    j = end + 1
    appositive = False
    after_relative = _skip_relative(doc, j, mention_starts or set())
    if after_relative is not None:
        j = after_relative
    elif j < len(toks) and toks[j].low in {",", "-", "—", "–", "("} and _describes(doc, j + 1):
        # 'her hair, cropped short' / 'the map, now torn' / 'a scarf, not the green one' / 'her coat -- a deep
        # cobalt --': a description set off by a comma, a dash or a bracket.
        while j < len(toks) and toks[j].low in {",", "-", "—", "–", "("}:
            j += 1
        appositive = True
    elif j < len(toks) and toks[j].low in {"a", "an"} and _describes(doc, j):
        appositive = True  # 'she pauses, her jacket a vivid green': a verbless predicate
    if j >= len(toks):
        return [], False
    full = appositive or after_relative is not None or toks[j].low in v.POST_OPENERS
    if full and in_relative_clause(doc, end) and not appositive:
        full = False
    limit = 12 if full else 3
    placed = None if full else _placement(doc, j)
    if placed is not None:
        limit = placed - j + 6  # 'scar sits high on her right cheekbone': through the prepositional phrase
    items: list[Item] = []
    words = 0
    negated = False
    start = j
    in_object = False  # past a preposition: 'tucked into the collar of her yellow oilskin' is the oilskin's
    while j < len(toks) and words < limit:
        tok = toks[j]
        if (
            j > start
            and tok.low in _PREPOSITIONS
            and not (tok.low == "of" and v.canon(toks[j - 1].low) in v.TRANSPARENT)
        ):
            in_object = True
        if tok.low == "," and full and j + 1 < len(toks) and toks[j + 1].low == "but":
            j += 1
            continue
        if not tok.is_word:
            break
        if tok.low == "but":
            negated = False
        elif tok.low in {"and", "or"}:
            nxt = toks[j + 1].low if j + 1 < len(toks) else ""
            if not (full and (is_descriptive(nxt) or nxt in NEGATORS)):
                break
        elif tok.low in {"while", "as", "with", "than"}:
            break
        elif tok.low in NEGATORS or (tok.low == "instead" and j + 1 < len(toks) and toks[j + 1].low == "of"):
            negated = True
        elif not negated:
            found = [(j, p) for p in words_of(tok)]
            if in_object:  # a side or body part still places the noun ('scar across her left cheek')
                found = [(k, p) for k, p in found if any(d in ("side", "part") for d in dims_of([p]))]
            items += found
        words += 1
        j += 1
    if placed is not None:
        # A side past the verb counts only where the phrase names a body part it sits on.
        where = [(k, p) for k, p in items if k > placed]
        if not any("part" in dims_of([p]) for _, p in where):
            items = [(k, p) for k, p in items if k <= placed]
    return items, full


_PLACEMENT = {"on", "across", "along", "over", "above", "below", "under", "beneath", "near", "down", "around"}


def _placement(doc: Doc, j: int) -> int | None:
    """The preposition of a verb's placing phrase right after a noun ('sits [high] on', 'runs across'),
    else None."""
    toks = doc.tokens
    for off in (1, 2):
        k = j + off
        if k >= len(toks) or doc.sentence[k] != doc.sentence[j]:
            return None
        if toks[k].low in _PLACEMENT:
            between = toks[j:k]
            ok = all(t.is_word and t.low not in v.PRE_STOPS and t.low not in NEGATORS for t in between)
            return k if ok else None
    return None
