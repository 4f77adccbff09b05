"""Hand-written preflight prompts: the SECOND HELD-OUT set (never tuned on).

Written before any checker change of the round that followed the first held-out set, over a world of
its own (a night train, other names, garments, colours, scenes and must-nots than the ferry world of
`bench/preflight_natural.py`), so that it tests the principles rather than the ferry vocabulary. Half
the cases carry a violation; the controls mention the same things consistently, negated, or owned by
someone else. Its misses are reported, never fixed one by one.

Measured (lexicon only and with MiniLM alike): before that round P 0.941, R 0.681 (32/47), 2 false alarms;
once mid-round P 0.919, R 0.723 (a new false alarm on a negated removal, then fixed); after it P 0.971,
R 0.723 (34/47), 1 false alarm. Written by the engineer who then wrote the fixes, so not blind.

The world (`world()`):
- Priya Nandakumar (she): dress emerald silk; shoes red patent heels; hair long black, in a low bun;
  gloves white cotton until scene 6 (none from scene 6 on).
- Felix Hartmann (he, alias 'the doctor'): facial hair full grey beard; hat brown felt fedora; tie navy
  silk.
- Odile Marchand (she): cardigan mustard wool, 'mustard wool, burnt cuff' from scene 6; hair short
  platinum pixie cut; scar right hand.
- vase: intact, shattered from 6. window: intact, cracked from 6.
- Scenes: 2 night, snow, right-to-left; 4 dusk, rain; 6 morning, clear.
- Brief must-not: sneakers, television sets, wristwatches, neon signs.
"""

from __future__ import annotations

from bench.preflight_natural import AM, MNP, SDF, SF, STE, NaturalCase, case
from tools.continuity.ledger import Ledger
from tools.continuity.models import Fact

MUST_NOT = ["sneakers", "television sets", "wristwatches", "neon signs"]


def world() -> Ledger:
    facts: list[Fact] = []

    def fact(entity: str, attr: str, value: str, scene: str | None = None) -> None:
        facts.append(
            Fact(
                id=f"g{len(facts) + 1}",
                entity=entity,
                attribute=attr,
                value=value,
                from_scene=scene,
                created_at="2026-01-01T00:00:00",
            )
        )

    fact("Priya Nandakumar", "pronouns", "she/her")
    fact("Priya Nandakumar", "dress", "emerald silk")
    fact("Priya Nandakumar", "shoes", "red patent heels")
    fact("Priya Nandakumar", "hair", "long black, in a low bun")
    fact("Priya Nandakumar", "gloves", "white cotton")
    fact("Priya Nandakumar", "gloves", "", "6")
    fact("Felix Hartmann", "pronouns", "he/him")
    fact("Felix Hartmann", "facial_hair", "full grey beard")
    fact("Felix Hartmann", "hat", "brown felt fedora")
    fact("Felix Hartmann", "tie", "navy silk")
    fact("Odile Marchand", "pronouns", "she/her")
    fact("Odile Marchand", "cardigan", "mustard wool")
    fact("Odile Marchand", "cardigan", "mustard wool, burnt cuff", "6")
    fact("Odile Marchand", "hair", "short platinum pixie cut")
    fact("Odile Marchand", "scar", "right hand")
    fact("vase", "state", "intact")
    fact("vase", "state", "shattered", "6")
    fact("window", "state", "intact")
    fact("window", "state", "cracked", "6")
    fact("2", "time_of_day", "night")
    fact("2", "weather", "snow")
    fact("2", "screen_direction", "right-to-left")
    fact("4", "time_of_day", "dusk")
    fact("4", "weather", "rain")
    fact("6", "time_of_day", "morning")
    fact("6", "weather", "clear")
    kinds = {
        "Priya Nandakumar": "character",
        "Felix Hartmann": "character",
        "Odile Marchand": "character",
        "vase": "prop",
        "window": "prop",
        "2": "scene",
        "4": "scene",
        "6": "scene",
    }
    return Ledger("night-train", kinds=kinds, facts=facts, aliases={"Felix Hartmann": ["the doctor"]})


CASES: list[NaturalCase] = [
    # -- a first name, surname or alias alone ------------------------------------------------------------
    case("first_name", "2", "Priya smooths the skirt of her cobalt dress.", AM),
    case("first_name", "2", "Hartmann tips his grey homburg to the conductor.", AM),
    case("first_name", "2", "Odile flexes the fingers of her left hand, the scar white across the knuckles.", SF),
    case("first_name", "4", "Nandakumar waits on the platform in a lilac dress.", AM),
    case("first_name", "4", "The doctor loosens his crimson tie.", AM),
    case("first_name", "4", "Marchand pulls her bottle-green cardigan closed.", AM),
    case("first_name", "2", "Priya smooths the skirt of her emerald dress."),
    case("first_name", "2", "Hartmann tips his brown fedora to the conductor."),
    case("first_name", "2", "Odile flexes her right hand; the old scar pulls tight across the knuckles."),
    case("first_name", "4", "A porter in a crimson tie takes Felix's case."),
    case("first_name", "4", "The doctor adjusts his navy tie and sighs."),
    # -- other words for the item ------------------------------------------------------------------------
    case("synonym", "4", "Priya's scarlet frock is creased from the journey.", AM),
    case("synonym", "4", "Felix pulls his black trilby low.", AM),
    case("synonym", "4", "Priya's blue stilettos click on the tiles.", AM),
    case("synonym", "4", "Odile buttons her lavender cardie.", AM),
    case("synonym", "4", "Priya's green gown is creased from the journey."),
    case("synonym", "4", "Felix pulls his brown trilby low."),
    case("synonym", "4", "Priya's red pumps click on the tiles."),
    # -- removal and negation ----------------------------------------------------------------------------
    case("removal_negation", "2", "Felix peels off his fedora and fans himself with it.", AM),
    case("removal_negation", "2", "Hatless, the doctor steps into the snow.", AM),
    case("removal_negation", "4", "Priya tugs off her gloves finger by finger.", AM),
    case("removal_negation", "4", "Felix arrives without a tie, collar open.", AM),
    case("removal_negation", "4", "Priya slips off her heels and pads barefoot down the corridor.", AM),
    case("removal_negation", "2", "Felix keeps his fedora on against the snow."),
    case("removal_negation", "4", "Priya does not take off her white gloves, even to eat."),
    case("removal_negation", "6", "Priya, gloveless now, lifts the teacup."),
    case("removal_negation", "4", "Felix removes a speck of ash from his navy tie."),
    case("removal_negation", "2", "The doctor, hat firmly on, knocks twice."),
    # -- length and shape --------------------------------------------------------------------------------
    case("length_shape", "4", "Felix, freshly shaven, greets the conductor.", AM),
    case("length_shape", "4", "Odile's long hair spills over her collar.", AM),
    case("length_shape", "4", "Priya's hair hangs loose to her waist.", AM),
    case("length_shape", "4", "Felix's chin is smooth and bare in the lamplight.", AM),
    case("length_shape", "4", "Felix strokes his grey beard."),
    case("length_shape", "4", "Odile runs a hand over her cropped platinum hair."),
    case("length_shape", "4", "Priya pins her black bun tighter."),
    # -- a colour after a relative clause ----------------------------------------------------------------
    case("relative_clause", "4", "The dress that Priya changed into at Lyon is a pale lemon.", AM),
    case("relative_clause", "4", "The tie Felix knots in the mirror is a garish orange.", AM),
    case("relative_clause", "4", "Odile's cardigan, which her mother knitted, is a soft dove grey.", AM),
    case("relative_clause", "4", "Felix sits. The fedora he hangs on the rack is jet black.", AM),
    case("relative_clause", "4", "The dress that Priya changed into at Lyon is the same emerald silk."),
    case("relative_clause", "4", "The tie Felix knots in the mirror is navy, as ever."),
    case("relative_clause", "4", "The porter who carries Odile's case wears a grey cardigan."),
    # -- a state on another (possessed) noun -------------------------------------------------------------
    case("possessed_state", "4", "The cuff of Odile's cardigan is singed black.", STE),
    case("possessed_state", "2", "Shards of the vase litter the carpet.", STE),
    case("possessed_state", "4", "A crack snakes across the window.", STE),
    case("possessed_state", "2", "Odile's cardigan has a scorch mark at the cuff.", STE),
    case("possessed_state", "6", "The cuff of Odile's cardigan is singed black."),
    case("possessed_state", "4", "The vase stands whole on the sideboard, full of lilies."),
    case("possessed_state", "6", "A crack snakes across the window."),
    case("possessed_state", "4", "Odile brushes past a scorched pan on the stove."),
    # -- time-of-day and weather words -------------------------------------------------------------------
    case("time_weather", "2", "Bright afternoon sun floods the compartment.", AM),
    case("time_weather", "4", "Midnight. The corridor lamps burn low.", AM),
    case("time_weather", "6", "Sleet rattles against the carriage window.", AM),
    case("time_weather", "2", "Sunrise paints the snowfields pink.", AM),
    case("time_weather", "4", "The sky outside is cloudless and blue.", AM),
    case("time_weather", "6", "Moonlight silvers the empty platform.", AM),
    case("time_weather", "2", "Snow drifts past the window in the dark."),
    case("time_weather", "4", "Rain streaks the glass as the light fades."),
    case("time_weather", "6", "Morning sun glints on the teacups."),
    case("time_weather", "2", "Priya asks about the morning train as snow falls in the dark."),
    case("time_weather", "6", "Odile props a closed umbrella by the door; outside, a clear blue sky."),
    # -- screen direction on a free prompt ---------------------------------------------------------------
    case("screen_direction", "2", "The train barrels left to right across frame.", SDF),
    case("screen_direction", "2", "Felix strides toward screen right along the platform.", SDF),
    case("screen_direction", "2", "Priya enters from frame left and crosses to the door.", SDF),
    case("screen_direction", "2", "The train barrels right to left across frame."),
    case("screen_direction", "2", "Felix strides toward screen left along the platform."),
    case("screen_direction", "2", "Priya looks left, then right, before crossing."),
    # -- a brief's must-not by another word --------------------------------------------------------------
    case("must_not_synonym", "4", "Odile laces up a pair of white trainers.", MNP),
    case("must_not_synonym", "4", "A small telly murmurs in the dining car.", MNP),
    case("must_not_synonym", "4", "Felix glances at the gold Rolex on his wrist.", MNP),
    case("must_not_synonym", "4", "Pink neon tubing spells HOTEL above the platform.", MNP),
    case("must_not_synonym", "4", "Felix checks his pocket watch on its chain."),
    case("must_not_synonym", "4", "No television, no radio: just the rattle of the rails."),
    case("must_not_synonym", "4", "Priya's red heels, not sneakers, click on the tiles."),
    case("must_not_synonym", "4", "A gas lamp glows above the station cafe sign."),
    # -- a pronoun carrying the subject ------------------------------------------------------------------
    case("pronoun", "4", "Priya sits by the window. Her dress, a washed-out yellow, is creased.", AM),
    case("pronoun", "4", "Felix boards. He wears a green tie.", AM),
    case("pronoun", "4", "Odile pours tea. She has grown her hair out to her shoulders.", AM),
    case("pronoun", "4", "The doctor nods to Priya. His fedora is dove grey.", AM),
    case("pronoun", "4", "Priya sits by the window. Her dress, a deep emerald, is creased."),
    case("pronoun", "4", "Felix nods to a woman in the aisle. Her dress is yellow."),
    case("pronoun", "4", "Odile greets the guard. His tie is green."),
    case("pronoun", "4", "Felix boards. He wears his navy tie."),
    # -- named colours beyond the basic words ------------------------------------------------------------
    case("colour_names", "4", "Priya's dress is a dusty rose.", AM),
    case("colour_names", "4", "Felix's fedora is a charcoal felt.", AM),
    case("colour_names", "4", "Odile's cardigan is a deep teal.", AM),
    case("colour_names", "4", "Priya's dress is a deep jade."),
    case("colour_names", "4", "Felix's fedora is a warm chestnut."),
    case("colour_names", "4", "Odile's cardigan is the colour of English mustard."),
]
