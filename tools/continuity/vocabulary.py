"""The words the preflight checker understands: tokens, synonyms, colour families, states, sides, times.

Every table maps a surface word to one or more canonical families; two descriptions agree on a
dimension when their families intersect ('crimson' {red} ~ 'red' {red}; 'teal' {blue, green} ~ 'blue').
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
        "short": "cropped close-cropped buzzed buzz-cut shaved bob bobbed pixie crew-cut",
        "medium": "shoulder-length chin-length mid-length",
        "long": "flowing waist-length lengthy",
    }
)
STATE_AXES: dict[str, dict[str, frozenset[str]]] = {
    "damage": _table(
        {
            "intact": "whole pristine undamaged unbroken new unworn untorn",
            "torn": "ripped tattered shredded frayed tear rip slashed",
            "broken": "shattered cracked smashed snapped splintered",
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
TIMES = _table(
    {
        "dawn": "daybreak sunrise first-light morning",
        "day": "daytime daylight midday noon afternoon morning sunlit",
        "dusk": "sunset twilight evening golden-hour sundown",
        "night": "nighttime night-time midnight moonlit moonlight evening starlit",
    }
)
WEATHERS = _table(
    {
        "rain": "rainy raining rainfall drizzle drizzling downpour storm stormy showers",
        "snow": "snowy snowing snowfall blizzard sleet",
        "fog": "foggy mist misty haze hazy",
        "clear": "sunny cloudless bright",
        "overcast": "cloudy grey-sky clouded",
        "storm": "stormy thunder thunderstorm lightning gale",
    }
)
DIRECTIONS = _table(
    {
        "ltr": "left-to-right l-r l2r left-right eastward frame-right screen-right",
        "rtl": "right-to-left r-l r2l right-left westward frame-left screen-left",
    }
)

# Attribute nouns: a key (or its synonyms) the text names; the first word of each group is the head.
NOUN_GROUPS: dict[str, str] = {
    "jacket": "jacket coat parka anorak blazer overcoat raincoat peacoat windbreaker trenchcoat trench cardigan",
    "hair": "hair haired hairdo hairstyle",
    "eyes": "eyes eye eyed",
    "scar": "scar scars scarred",
    "tattoo": "tattoo tattoos tattooed",
    "hat": "hat cap beanie beret",
    "shirt": "shirt blouse tee t-shirt",
    "trousers": "trousers pants slacks",
    "scarf": "scarf shawl",
    "dress": "dress gown frock",
    "boots": "boots boot",
    "shoes": "shoes shoe sneakers trainers",
    "glasses": "glasses spectacles specs",
    "bag": "bag satchel backpack rucksack",
    "beard": "beard bearded stubble",
    "gloves": "gloves glove",
    "car": "car sedan automobile",
    "van": "van",
    "truck": "truck lorry pickup",
    "boat": "boat ferry launch",
    "lantern": "lantern lamp",
    "map": "map chart",
}
NOUNS: dict[str, str] = {w: head for head, words in NOUN_GROUPS.items() for w in words.split()}

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
    out: set[str] = set()
    if "-" in word:
        for part in word.split("-"):
            out |= table.get(part, frozenset())
    return frozenset(out)


def phrase_families(text: str, table: dict[str, frozenset[str]]) -> frozenset[str]:
    """Families named anywhere in a short value such as 'night' or 'just before dawn'."""
    low = text.lower()
    out: set[str] = set()
    for phrase, fams in table.items():
        if " " not in phrase and "-" in phrase and phrase.replace("-", " ") in low:
            out |= fams
    for tok in tokenize(text):
        out |= families(tok.low, table)
    return frozenset(out)
