"""Hand-written preflight prompts in natural screenwriting language: the DEV set (tuned on).

Written before the checker was tuned, with the held-out set (`bench/preflight_heldout.py`) at the same
time. Half the cases carry a violation; the controls mention the same things consistently, negated, or
owned by someone else. Each case is tagged with the miss group of issue 9 it exercises.

The world (`world()`): the ferry production's ledger and brief.
- Juno Alvarez (she): coat yellow oilskin; boots black rubber; hair long auburn braid; gloves grey wool
  until scene 8 (lost from scene 8 on).
- Tomas Reyes (he, alias 'the skipper'): clean-shaven; coat ochre duffel; glasses round black-framed;
  scarf green knit, rust knit from scene 9.
- Mara Quint (she): jacket red wool, 'red wool, torn hem' from scene 12; scar left cheek; hair short black
  crop; hat navy beret.
- map: intact, torn from 12. lantern: unbroken, broken (cracked glass) from 14.
- Scenes: 3 night, rain, left-to-right; 5 dawn, fog; 7 day, clear.
- Brief must-not: mobile phones, brand logos, cigarettes.
"""

from __future__ import annotations

from dataclasses import dataclass

from tools.continuity.ledger import Ledger
from tools.continuity.models import Fact

AM, SF, STE, MNP, SDF = (
    "attribute_mismatch",
    "side_flip",
    "state_too_early",
    "must_not_present",
    "screen_direction_flip",
)
GROUPS = (
    "first_name",
    "synonym",
    "removal_negation",
    "length_shape",
    "relative_clause",
    "possessed_state",
    "time_weather",
    "screen_direction",
    "must_not_synonym",
    "pronoun",
    "colour_names",
)


@dataclass(frozen=True)
class NaturalCase:
    group: str
    scene: str
    text: str
    expected: frozenset[str]  # rules that must fire; empty for a control


def case(group: str, scene: str, text: str, *expected: str) -> NaturalCase:
    return NaturalCase(group, scene, text, frozenset(expected))


MUST_NOT = ["mobile phones", "brand logos", "cigarettes"]


def world() -> Ledger:
    facts: list[Fact] = []

    def fact(entity: str, attr: str, value: str, scene: str | None = None) -> None:
        facts.append(
            Fact(
                id=f"f{len(facts) + 1}",
                entity=entity,
                attribute=attr,
                value=value,
                from_scene=scene,
                created_at="2026-01-01T00:00:00",
            )
        )

    fact("Juno Alvarez", "pronouns", "she/her")
    fact("Juno Alvarez", "coat", "yellow oilskin")
    fact("Juno Alvarez", "boots", "black rubber")
    fact("Juno Alvarez", "hair", "long auburn braid")
    fact("Juno Alvarez", "gloves", "grey wool")
    fact("Juno Alvarez", "gloves", "", "8")
    fact("Tomas Reyes", "pronouns", "he/him")
    fact("Tomas Reyes", "facial_hair", "clean-shaven")
    fact("Tomas Reyes", "coat", "ochre duffel")
    fact("Tomas Reyes", "glasses", "round black-framed")
    fact("Tomas Reyes", "scarf", "green knit")
    fact("Tomas Reyes", "scarf", "rust knit", "9")
    fact("Mara Quint", "pronouns", "she/her")
    fact("Mara Quint", "jacket", "red wool")
    fact("Mara Quint", "jacket", "red wool, torn hem", "12")
    fact("Mara Quint", "scar", "left cheek")
    fact("Mara Quint", "hair", "short black crop")
    fact("Mara Quint", "hat", "navy beret")
    fact("map", "state", "intact")
    fact("map", "state", "torn", "12")
    fact("lantern", "state", "unbroken")
    fact("lantern", "state", "broken, cracked glass", "14")
    fact("3", "time_of_day", "night")
    fact("3", "weather", "rain")
    fact("3", "screen_direction", "left-to-right")
    fact("5", "time_of_day", "dawn")
    fact("5", "weather", "fog")
    fact("7", "time_of_day", "day")
    fact("7", "weather", "clear")
    kinds = {
        "Juno Alvarez": "character",
        "Tomas Reyes": "character",
        "Mara Quint": "character",
        "map": "prop",
        "lantern": "prop",
        "3": "scene",
        "5": "scene",
        "7": "scene",
    }
    return Ledger("natural", kinds=kinds, facts=facts, aliases={"Tomas Reyes": ["the skipper"]})


CASES: list[NaturalCase] = [
    # -- a first name or surname alone -------------------------------------------------------------------
    case("first_name", "5", "Juno hurries down the gangway in a navy coat.", AM),
    case("first_name", "5", "Close on Alvarez as she pulls on a green oilskin.", AM),
    case("first_name", "5", "Reyes adjusts his red scarf at the wheel.", AM),
    case("first_name", "5", "Mara tugs her blue jacket tight against the wind.", AM),
    case("first_name", "5", "Quint turns; the scar on her right cheek catches the lantern light.", SF),
    case("first_name", "5", "Juno, in white boots, steps onto the ramp.", AM),
    case("first_name", "5", "The skipper wraps a purple scarf around his throat.", AM),
    case(
        "first_name",
        "5",
        "Juno hurries down the gangway, her yellow oilskin streaming.",
    ),
    case("first_name", "5", "Reyes, green scarf knotted high, checks the gauges."),
    case("first_name", "5", "Mara Quint tugs her crimson jacket tight against the wind."),
    case("first_name", "5", "Juno passes a fisherman in a navy coat."),
    case("first_name", "5", "Tomas watches Juno; he wears his ochre duffel buttoned to the chin."),
    case("first_name", "5", "The skipper knots his green scarf and squints at the fog."),
    # -- other words for the item ------------------------------------------------------------------------
    case("synonym", "5", "Juno's red galoshes squeak on the wet deck.", AM),
    case("synonym", "5", "Tomas pushes his red specs up his nose.", AM),
    case("synonym", "5", "Mara's blonde braids whip in the wind.", AM),
    case("synonym", "5", "Juno flexes her fingers in brown woollen mittens.", AM),
    case("synonym", "5", "Mara straightens her red beanie.", AM),
    case("synonym", "5", "Tomas shrugs deeper into a crimson peacoat.", AM),
    case("synonym", "5", "Juno's black wellies squeak on the wet deck."),
    case("synonym", "5", "Tomas pushes his black specs up his nose."),
    case("synonym", "5", "Mara runs a hand through her short black hair."),
    case("synonym", "5", "Juno flexes her fingers in grey woollen mittens."),
    case("synonym", "5", "Mara straightens her navy beret."),
    case("synonym", "5", "Tomas shrugs deeper into his mustard duffel."),
    # -- removal and negation ----------------------------------------------------------------------------
    case("removal_negation", "5", "Juno has taken off her gloves; her bare hands shake on the rope.", AM),
    case("removal_negation", "5", "Bare-headed, Mara climbs to the wheelhouse.", AM),
    case("removal_negation", "5", "Tomas squints at the chart without his glasses.", AM),
    case("removal_negation", "5", "Tomas wears a scarf, not the green one today but rust.", AM),
    case("removal_negation", "9", "Tomas ties his scarf, not the rust one this time but green.", AM),
    case("removal_negation", "5", "Juno, gloveless, grips the rail.", AM),
    case("removal_negation", "5", "Juno pulls her grey gloves tighter."),
    case("removal_negation", "5", "Mara's beret stays on despite the wind."),
    case("removal_negation", "9", "Tomas ties his scarf, not the green one this time but rust."),
    case("removal_negation", "8", "Juno, gloveless now, grips the rail."),
    case("removal_negation", "5", "Tomas takes off his glasses, wipes them, and puts them back on."),
    case("removal_negation", "5", "Mara is never without her navy beret."),
    # -- length and shape --------------------------------------------------------------------------------
    case("length_shape", "5", "Tomas strokes his thick beard.", AM),
    case("length_shape", "5", "A bearded Reyes takes the helm.", AM),
    case("length_shape", "5", "Mara's hair tumbles past her shoulders.", AM),
    case("length_shape", "5", "Juno's hair is cropped close to the scalp.", AM),
    case("length_shape", "5", "Mara ties her long black hair into a ponytail.", AM),
    case("length_shape", "5", "Juno, her hair in a short bob, checks the ropes.", AM),
    case("length_shape", "5", "Tomas rubs his smooth, clean-shaven jaw."),
    case("length_shape", "5", "Juno's long braid swings as she turns."),
    case("length_shape", "5", "Mara's cropped black hair is plastered to her skull."),
    case("length_shape", "5", "Tomas, clean-shaven as always, takes the helm."),
    case("length_shape", "5", "A bearded fisherman nods at Tomas."),
    # -- a colour after a relative clause ----------------------------------------------------------------
    case("relative_clause", "5", "Tomas steps out. The coat he buttons against the wind is a deep crimson.", AM),
    case("relative_clause", "5", "The jacket that Mara wears tonight is a faded green.", AM),
    case("relative_clause", "5", "Juno's boots, which she bought in Lisbon, are a shiny red.", AM),
    case("relative_clause", "5", "The scarf Tomas wraps twice around his neck is bright red.", AM),
    case("relative_clause", "5", "Mara, whose hair now falls to her waist, watches the water.", AM),
    case("relative_clause", "5", "Mara waits by the rail. The beret she pulls low over her eyes is emerald green.", AM),
    case("relative_clause", "5", "Tomas steps out. The coat he buttons against the wind is a bright ochre."),
    case("relative_clause", "5", "The jacket that Mara wears is the same red wool as yesterday."),
    case("relative_clause", "5", "Juno's boots, which a blue tarp half covers, are black and wet."),
    case("relative_clause", "5", "The scarf Tomas wraps around his neck is green and frayed at the ends."),
    case("relative_clause", "5", "The light that falls on Mara's red jacket is blue."),
    # -- a state on another (possessed) noun -------------------------------------------------------------
    case("possessed_state", "5", "The hem of Mara's jacket is torn.", STE),
    case("possessed_state", "5", "Mara's jacket hangs open, its hem ripped and muddy.", STE),
    case("possessed_state", "5", "Juno folds the map, its edge ripped.", STE),
    case("possessed_state", "5", "A ragged tear runs along the sleeve of Mara's jacket.", STE),
    case("possessed_state", "5", "The lantern's glass is cracked.", STE),
    case("possessed_state", "5", "Juno spreads the map; its folds are split and tattered.", STE),
    case("possessed_state", "12", "The hem of Mara's jacket is torn."),
    case("possessed_state", "5", "The hem of Mara's jacket is neatly stitched."),
    case("possessed_state", "5", "Juno folds the map, its edges crisp."),
    case("possessed_state", "14", "The lantern's glass is cracked."),
    case("possessed_state", "5", "A torn poster flaps on the wall behind Mara."),
    case("possessed_state", "5", "Mara's sleeve brushes the ripped sail."),
    # -- time-of-day and weather words -------------------------------------------------------------------
    case("time_weather", "3", "Dawn light spills across the wet deck as Juno works.", AM),
    case("time_weather", "3", "Juno squints under a blazing sun.", AM),
    case("time_weather", "7", "Rain hammers the wheelhouse windows.", AM),
    case("time_weather", "7", "Stars glitter over the black harbour as Tomas casts off.", AM),
    case("time_weather", "5", "Snow settles on Mara's beret.", AM),
    case("time_weather", "3", "The noon sun bleaches the deck.", AM),
    case("time_weather", "7", "Thick fog swallows the bow.", AM),
    case("time_weather", "3", "Rain streams off Juno's oilskin in the dark."),
    case("time_weather", "5", "Dawn light creeps through the fog as Mara works."),
    case("time_weather", "7", "Tomas squints under a blazing sun."),
    case("time_weather", "3", "Night rain drums on the wheelhouse roof."),
    case("time_weather", "5", "The grey light of early morning seeps through the mist."),
    case("time_weather", "3", "A bright yellow oilskin glows under the streetlamps."),
    # -- screen direction on a free prompt ---------------------------------------------------------------
    case("screen_direction", "3", "Juno runs right to left along the quay.", SDF),
    case("screen_direction", "3", "Tomas crosses frame from right to left.", SDF),
    case("screen_direction", "3", "Mara exits frame left, heading for the stern.", SDF),
    case("screen_direction", "3", "The ferry glides screen left through the rain.", SDF),
    case("screen_direction", "3", "Juno runs left to right along the quay."),
    case("screen_direction", "3", "Tomas exits frame right."),
    case("screen_direction", "3", "Mara turns around and walks back right to left."),
    case("screen_direction", "3", "A gull flies over; Juno glances to her left."),
    # -- a brief's must-not by another word --------------------------------------------------------------
    case("must_not_synonym", "5", "Juno checks her cellphone by the rail.", MNP),
    case("must_not_synonym", "5", "A smartphone glows in Tomas's hand.", MNP),
    case("must_not_synonym", "5", "Mara puffs on a cigarette in the wheelhouse.", MNP),
    case("must_not_synonym", "5", "Tomas sneaks a quick smoke behind the wheelhouse.", MNP),
    case("must_not_synonym", "5", "The crate is stamped with a big Nike logo.", MNP),
    case("must_not_synonym", "5", "A passenger scrolls through her mobile.", MNP),
    case("must_not_synonym", "5", "Tomas taps at a cell phone.", MNP),
    case("must_not_synonym", "5", "Juno lifts the receiver of an old payphone on the quay."),
    case("must_not_synonym", "5", "No phones, no screens: Mara reads a paper map."),
    case("must_not_synonym", "5", "Smoke drifts from the ferry's funnel."),
    case("must_not_synonym", "5", "The crates are plain, unbranded wood."),
    case("must_not_synonym", "5", "Tomas phones the harbourmaster from the wheelhouse radio."),
    # -- a pronoun carrying the subject ------------------------------------------------------------------
    case("pronoun", "5", "Juno boards. Her white coat drips.", AM),
    case("pronoun", "5", "Tomas Reyes steps onto the deck. He has grown a beard.", AM),
    case("pronoun", "5", "Mara climbs the ladder. At the top she pauses, her jacket a vivid green.", AM),
    case("pronoun", "5", "Juno nods to a passing fisherman. Her boots are bright white.", AM),
    case("pronoun", "5", "Reyes waves to Mara. He tightens his blue scarf.", AM),
    case("pronoun", "5", "Juno boards. Her yellow coat drips."),
    case("pronoun", "5", "Juno nods to a passing fisherman. His coat is bright blue."),
    case("pronoun", "5", "Tomas waves to Mara. Her jacket is scarlet in the lamplight."),
    case("pronoun", "5", "Mara watches a woman on the quay. Her coat is green."),
    case("pronoun", "5", "Tomas steps onto the deck. He is clean-shaven, his ochre coat buttoned."),
    # -- named colours beyond the basic words ------------------------------------------------------------
    case("colour_names", "5", "Juno's oilskin is a deep aubergine.", AM),
    case("colour_names", "5", "Mara's jacket, a dusty periwinkle, is soaked.", AM),
    case("colour_names", "5", "Tomas's duffel is a pale seafoam.", AM),
    case("colour_names", "5", "Juno's oilskin is a sunflower yellow."),
    case("colour_names", "5", "Mara's jacket is a deep oxblood."),
    case("colour_names", "5", "Tomas's duffel is the colour of mustard."),
]
