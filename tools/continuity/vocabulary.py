"""The words the preflight checker understands: tokens, synonyms, colour families, states, sides, times.

Every table maps a surface word to one or more canonical families; two descriptions agree on a
dimension when their families intersect ('crimson' {red} ~ 'red' {red}; 'teal' {blue, green} ~ 'blue').
The large tables (named colours, item synonyms, time and weather phrases, must-not groups) are data in
`tools/continuity/lexicon/`; the short ones that encode grammar stay here.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from tools.continuity import lexicon

_WORD = re.compile(r"[A-Za-z0-9]+(?:[-'’][A-Za-z0-9]+)*|[^\sA-Za-z0-9]")


@dataclass(frozen=True)
class Token:
    text: str  # as written
    low: str  # lower-case, possessive stripped, curly apostrophes straightened
    start: int
    end: int
    possessive: bool = False

    @property
    def is_word(self) -> bool:
        return self.low[:1].isalnum()

    @property
    def parts(self) -> list[str]:
        return [p for p in self.low.split("-") if p]


def tokenize(text: str) -> list[Token]:
    tokens = []
    for m in _WORD.finditer(text):
        raw = m.group(0)
        low = raw.lower().replace("’", "'")
        possessive = low.endswith("'s") or low.endswith("s'")
        if low.endswith("'s"):
            low = low[:-2]
        elif low.endswith("s'"):
            low = low[:-1]
        tokens.append(Token(raw, low, m.start(), m.end(), possessive))
    return tokens


def _table(groups: dict[str, str]) -> dict[str, frozenset[str]]:
    """{'red': 'crimson scarlet ...'} -> {'crimson': {'red'}, ...}; a word in several groups gets all."""
    out: dict[str, set[str]] = {}
    for family, words in groups.items():
        for word in [family, *words.split()]:
            out.setdefault(word, set()).add(family)
    return {word: frozenset(families) for word, families in out.items()}


# The hand-kept colour words (hair colours included); `colour_table()` adds the named-colour lexicon.
COLOURS = _table(
    {
        "red": "crimson scarlet vermilion ruby cherry maroon burgundy wine oxblood cardinal brick carmine blood-red "
        "auburn ginger copper rust russet claret",
        "blue": "navy cobalt azure sapphire cerulean indigo teal turquoise cyan sky-blue royal-blue ultramarine "
        "denim-blue steel-blue periwinkle",
        "green": "emerald olive jade sage lime mint forest-green bottle-green teal turquoise khaki chartreuse",
        "yellow": "mustard gold golden lemon amber ochre canary saffron blonde blond",
        "orange": "tangerine amber copper rust apricot peach burnt-orange",
        "purple": "violet lavender lilac plum mauve magenta burgundy aubergine indigo",
        "pink": "rose fuchsia salmon blush magenta coral",
        "brown": "tan chocolate chestnut umber camel khaki beige sepia coffee brunette auburn mahogany "
        "walnut hazel caramel bronze maroon rust russet copper taupe",
        "black": "jet ebony onyx raven charcoal inky",
        "white": "ivory cream snow snowy pearl off-white alabaster platinum silver",
        "grey": "gray silver slate ash ashen charcoal gunmetal pewter grizzled greying graying",
        "blonde": "blond fair flaxen platinum golden towheaded sandy strawberry-blonde",
    }
)


@functools.cache
def colour_table() -> dict[str, frozenset[str]]:
    """Every colour word -> its families: the hand-kept words as kept, and the other named colours by
    CIELAB. The hand-kept families win where both know a word: the CIELAB margin puts pale and dusty names
    in several families at once (cream in yellow and white, sage in five), so two such names would always
    agree."""
    out = dict(lexicon.colour_families())
    out.update(COLOURS)
    return out


SIDES = _table({"left": "", "right": ""})
BODY_PARTS = _table(
    {
        "cheek": "cheekbone",
        "eyebrow": "brow",
        "forehead": "",
        "chin": "",
        "jaw": "jawline",
        "lip": "lips mouth",
        "neck": "throat",
        "temple": "",
        "nose": "",
        "ear": "",
        "hand": "palm",
        "wrist": "",
        "arm": "forearm",
        "shoulder": "",
        "eye": "",
        "knee": "",
        "leg": "",
    }
)
LENGTHS = _table(
    {
        "short": "cropped close-cropped buzzed buzz-cut shaved shorn crop bob bobbed pixie crew-cut cropped-short "
        "close-shaved",
        "medium": "shoulder-length chin-length mid-length bob bobbed",
        "long": "flowing waist-length lengthy hip-length braid braids braided plait plaits plaited ponytail "
        "pigtails bun topknot tresses mane",
    }
)
# Hairstyles that imply a length (a braid is medium or long), unless a length is said outright.
for _word in "braid braids braided plait plaits plaited ponytail pigtails bun topknot".split():
    LENGTHS[_word] = frozenset({"medium", "long"})
IMPLIED_LENGTH = set("braid braids braided plait plaits plaited ponytail pigtails bun topknot bob bobbed crop".split())
# Phrases after a noun that give a length ('falls past her shoulders'); '*' is any one word.
LENGTH_PHRASES: dict[str, str] = {
    "past * shoulders": "long",
    "below * shoulders": "long",
    "to * waist": "long",
    "down * back": "long",
    "small of * back": "long",
    "to * hips": "long",
    "to * shoulders": "medium",
    "at * shoulders": "medium",
    "to * chin": "medium short",
    "to * scalp": "short",
    "above * ears": "short",
}
PRESENCE = _table({"present": "", "absent": ""})
STATE_AXES: dict[str, dict[str, frozenset[str]]] = {
    "damage": _table(
        {
            "intact": "whole pristine undamaged unbroken new unworn untorn",
            "torn": "ripped tattered shredded frayed tear rip slashed split ragged holed rent gash",
            "broken": "shattered cracked smashed snapped splintered chipped",
            "mended": "repaired patched stitched darned",
            "burnt": "burned charred scorched singed",
            "dented": "crumpled",
        }
    ),
    "light": _table({"lit": "burning glowing aflame alight ablaze", "unlit": "extinguished dark snuffed"}),
    "open": _table({"open": "opened ajar", "closed": "shut"}),
    "wet": _table({"wet": "soaked drenched dripping damp sodden rain-soaked", "dry": ""}),
    "clean": _table(
        {
            "clean": "spotless",
            "dirty": "muddy mud-caked grimy filthy dusty soiled",
            "bloody": "bloodied blood-stained bloodstained blood-soaked",
        }
    ),
    "fill": _table({"empty": "", "full": "filled"}),
}


def _phrase_table(entries: dict[str, str]) -> dict[str, frozenset[str]]:
    return {phrase: frozenset(fams.split()) for phrase, fams in entries.items()}


_SCENE_WORDS = lexicon.load("scene_words")
TIMES = _phrase_table({"morning": "dawn day", **_SCENE_WORDS["times"]})
WEATHERS = _phrase_table({"bright": "clear", **_SCENE_WORDS["weathers"]})
DIRECTIONS = _phrase_table(_SCENE_WORDS["directions"])
TIME_SKIP = set(_SCENE_WORDS["time_skip"].split())  # too common in prose to date a shot
TIME_LIGHT = set(_SCENE_WORDS["time_light_nouns"].split())  # 'evening light': a skipped word that does date it
WEATHER_SKIP = set(_SCENE_WORDS["weather_skip"].split())

# Attribute nouns: a key (or its synonyms) the text names; the first word of each group is the head.
_ITEMS = lexicon.load("items")
NOUN_GROUPS: dict[str, str] = dict(_ITEMS["heads"])
KEY_HEADS: dict[str, str] = dict(_ITEMS["keys"])  # attribute keys that name a head in other words
REMOVABLE = set(_ITEMS["removable"].split())
# Parts of a thing ('hem' of a jacket): their state is the thing's; '*' = a part of anything.
PARTS: dict[str, frozenset[str]] = {part: frozenset(wholes.split()) for part, wholes in _ITEMS["parts"].items()}
TRANSPARENT = set(_ITEMS["transparent"].split())  # 'the colour of her coat': the predicate is the coat's
STATE_NOUNS: dict[str, str] = dict(_ITEMS["state_nouns"])  # 'a tear along the hem': torn
_PRESENCE = lexicon.load("presence")
# 'gloveless' -> ({'gloves'}, 'absent'); 'shaved head' -> ({'hair'}, 'short')
MARKERS: dict[str, tuple[frozenset[str], str]] = {
    phrase: (frozenset(heads.split()), word) for phrase, (heads, word) in _PRESENCE["markers"].items()
}
NONE_VALUES = set(_PRESENCE["none_values"].split())


def verb_forms(lemma: str, irregular: str = "") -> set[str]:
    """Every written form of a verb: 'pull' -> pull pulls pulling pulled; irregular forms are given."""
    stem = lemma[:-1] if lemma.endswith("e") and not lemma.endswith("ee") else lemma
    third = lemma + "es" if lemma.endswith(("sh", "ch", "s", "x", "z")) else lemma + "s"
    past = lemma + "d" if lemma.endswith("e") else lemma + "ed"
    return {lemma, third, stem + "ing", past, *irregular.split()}


def _removals() -> list[tuple[frozenset[str], tuple[str, ...]]]:
    """Removal verbs as (forms of the verb, its particle words): 'take off' -> ({take, took, ...}, ('off',))."""
    irregular: dict[str, str] = _PRESENCE["irregular_forms"]
    out = []
    for phrase in _PRESENCE["removal_verbs"].split("|"):
        verb, *particle = phrase.split()
        out.append((frozenset(verb_forms(verb, irregular.get(verb, ""))), tuple(particle)))
    return out


REMOVALS = _removals()
REDON = [tuple(p.split()) for p in _PRESENCE["redon"].split("|")]
STOWED_IN = set(_PRESENCE["stowed_in"].split())
ABSENCE_WORDS = set(_PRESENCE["absence_words"].split())
NOT_WEARING = [tuple(p.split()) for p in _PRESENCE["not_wearing"].split("|")]
MUST_NOT_GROUPS: list[list[str]] = [g.split("|") for g in lexicon.load("must_not")["groups"]]
NOUNS: dict[str, str] = {w: head for head, words in NOUN_GROUPS.items() for w in words.split()}
for _verb in _ITEMS.get("verb_forms", "").split():
    NOUNS[_verb] = _verb  # 'a buoy bobs': a verb, not the plural of the hair noun 'bob'


# Keys that describe the entity itself rather than name a part of it.
DESCRIPTOR_KEYS = {
    "colour",
    "color",
    "state",
    "condition",
    "status",
    "length",
    "size",
    "side",
    "shade",
    "material",
    "finish",
    "look",
    "appearance",
    "description",
    "style",
    "damage",
}
STOPWORDS = set(
    "a an the of and or but with in on at to from by for her his their its is are was were be been now still "
    "this that these those into onto over under near very slightly quite some as it he she they them who which "
    "while then there here".split()
)
MUST_FILLER = set(
    "visible every shot shots always frame frames scene scenes keep use show must should include includes each "
    "all throughout appear appears present seen any never avoid ensure make sure".split()
)
NEGATORS = {"no", "not", "without", "never", "avoid", "avoiding", "free", "none", "nor", "zero"}
# Words after an attribute noun that open a description of it: "jacket is blue", "scar on her left cheek".
POST_OPENERS = {
    "is",
    "are",
    "was",
    "were",
    "now",
    "still",
    "looks",
    "remains",
    "stays",
    "becomes",
    "of",
    "on",
    "over",
    "across",
    "above",
    "below",
    "under",
    "beneath",
    "along",
    "near",
    "at",
    "through",
    "cut",
    "worn",
    "cropped",
    "tied",
    "falling",
    "hanging",
    "loose",
}
PRE_STOPS = {
    "and",
    "or",
    "but",
    "while",
    "as",
    "then",
    "with",
    "in",
    "on",
    "at",
    "from",
    "to",
    "by",
    "into",
    "onto",
    "across",
    "near",
    "beside",
    "over",
    "under",
    "behind",
    "toward",
    "towards",
    "past",
    "through",
    "against",
    "of",
    "is",
    "are",
    "was",
    "were",
}
ENTRANCE = re.compile(
    r"\b(enter(s|ing|ed)?|walks? in|steps? in(to)?|comes? in(to)?|arriv(es|ing|ed)|appears?|emerg(es|ing)|"
    r"joins?|bursts? in|into (frame|view|shot)|re-?enters?|returns?|walks? into|steps? into|comes? into)\b",
    re.IGNORECASE,
)
EXIT = re.compile(r"\b(exits?|leaves|walks? out|out of (frame|view|shot)|departs?|gone)\b", re.IGNORECASE)
DIRECTION_REASON = re.compile(
    r"\b(cross(es|ing)? the line|reverse[sd]?|reversing|turns? (around|back)|doubles? back|new axis|"
    r"neutral (shot|angle)|changes? direction|u-turn)\b",
    re.IGNORECASE,
)
TIME_REASON = re.compile(
    r"\b(later|time cut|time passes|hours pass|fades to|next (morning|day|night)|montage)\b", re.IGNORECASE
)
TIME_CHANGE = re.compile(
    r"\b(falls|fall|sets|set|rises|rise|breaks|break|comes|deepens|fades|gives way)\b", re.IGNORECASE
)
TIME_SUBJECT = re.compile(
    r"\b(night|dark(ness)?|dusk|dawn|day|sun|moon|light|evening|morning|twilight)\b", re.IGNORECASE
)
WEATHER_REASON = re.compile(r"\b(starts? to|begins? to|sets in|rolls? in)\b", re.IGNORECASE)
WEATHER_CHANGE = re.compile(
    r"\b(starts?|begins?|stops?|clears?|rolls? in|breaks?|eases?|lifts?|sets in|picks up|dies down|comes down|"
    r"passes|thickens|burns off)\b",
    re.IGNORECASE,
)
WEATHER_SUBJECT = re.compile(
    r"\b(rain|snow|fog|mist|haze|storm|clouds?|sky|skies|sun|weather|drizzle|downpour|sleet|hail)\b", re.IGNORECASE
)


def changes(text: str, explicit: re.Pattern[str], subject: re.Pattern[str], change: re.Pattern[str]) -> bool:
    """Does a text say why a value changes: an explicit phrase, or a sentence with a subject and a change
    ('the rain clears', 'night falls')? A bare verb ('Mara lifts a lantern') is no reason."""
    if explicit.search(text):
        return True
    # The change must follow its subject closely: 'the fog slowly lifts', not 'fog ... Mara lifts a lantern'.
    near = re.compile(rf"(?:{subject.pattern})[^\w.;,!?]+(?:\w+\s+)?(?:{change.pattern})", re.IGNORECASE)
    return bool(near.search(text))


def canon(word: str) -> str:
    """Lower-case, possessive-free, singular-ish, with synonyms mapped to their group head."""
    low = word.lower().replace("’", "'")
    low = low[:-2] if low.endswith("'s") else low
    if low in NOUNS:
        return NOUNS[low]
    if len(low) > 3 and low.endswith("s") and not low.endswith("ss"):
        single = low[:-1]
        return NOUNS.get(single, single)
    return low


def families(word: str, table: dict[str, frozenset[str]]) -> frozenset[str]:
    """The families of a word (or of the parts of a hyphenated word) in one table."""
    if word in table:
        return table[word]
    if word.replace("-", "") in table:
        return table[word.replace("-", "")]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss") and word[:-1] in table:
        return table[word[:-1]]
    out: set[str] = set()
    if "-" in word:
        for part in word.split("-"):
            out |= table.get(part, frozenset())
    return frozenset(out)


def phrase_families(text: str, table: dict[str, frozenset[str]]) -> frozenset[str]:
    """Families named anywhere in a short value such as 'night' or 'just before dawn'."""
    low = " ".join(re.findall(r"[a-z0-9'-]+", text.lower()))
    out: set[str] = set()
    for phrase, fams in table.items():
        spaced = phrase.replace("-", " ")
        if (" " in phrase or "-" in phrase) and re.search(rf"\b{re.escape(spaced)}\b", low.replace("-", " ")):
            out |= fams
    for tok in tokenize(text):
        out |= families(tok.low, table)
    return frozenset(out)
