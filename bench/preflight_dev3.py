"""Hand-written preflight prompts, DEV (tuned on): a third world (a 1970s newsroom), written after the
second held-out set was measured and before this set was first run, to find general gaps on material
other than the ferry world without looking at the held-out cases. Tuned on: never evidence of
generalisation.

The world (`world()`):
- Ruth Okonkwo (she): blazer camel wool; boots brown leather ankle boots; hair grey curls,
  shoulder-length; glasses tortoiseshell.
- Walter Brandt (he, alias 'the editor'): moustache thick black; suit charcoal pinstripe; cap tweed flat
  cap.
- Nadia Kessler (she): sweater cream cable-knit; hair long blonde ponytail; tattoo left wrist.
- photograph: intact, torn from 5. mug: intact, chipped from 5.
- Scenes: 1 morning, clear, left-to-right; 3 evening, rain; 5 night, thunderstorm.
- Brief must-not: computers, modern cars, denim.
"""

from __future__ import annotations

from bench.preflight_natural import AM, MNP, SDF, SF, STE, NaturalCase, case
from tools.continuity.ledger import Ledger
from tools.continuity.models import Fact

MUST_NOT = ["computers", "modern cars", "denim"]


def world() -> Ledger:
    facts: list[Fact] = []

    def fact(entity: str, attr: str, value: str, scene: str | None = None) -> None:
        facts.append(
            Fact(
                id=f"n{len(facts) + 1}",
                entity=entity,
                attribute=attr,
                value=value,
                from_scene=scene,
                created_at="2026-01-01T00:00:00",
            )
        )

    fact("Ruth Okonkwo", "pronouns", "she/her")
    fact("Ruth Okonkwo", "blazer", "camel wool")
    fact("Ruth Okonkwo", "boots", "brown leather ankle boots")
    fact("Ruth Okonkwo", "hair", "grey curls, shoulder-length")
    fact("Ruth Okonkwo", "glasses", "tortoiseshell")
    fact("Walter Brandt", "pronouns", "he/him")
    fact("Walter Brandt", "moustache", "thick black")
    fact("Walter Brandt", "suit", "charcoal pinstripe")
    fact("Walter Brandt", "cap", "tweed flat cap")
    fact("Nadia Kessler", "pronouns", "she/her")
    fact("Nadia Kessler", "sweater", "cream cable-knit")
    fact("Nadia Kessler", "hair", "long blonde ponytail")
    fact("Nadia Kessler", "tattoo", "left wrist")
    fact("photograph", "state", "intact")
    fact("photograph", "state", "torn", "5")
    fact("mug", "state", "intact")
    fact("mug", "state", "chipped", "5")
    fact("1", "time_of_day", "morning")
    fact("1", "weather", "clear")
    fact("1", "screen_direction", "left-to-right")
    fact("3", "time_of_day", "evening")
    fact("3", "weather", "rain")
    fact("5", "time_of_day", "night")
    fact("5", "weather", "thunderstorm")
    kinds = {
        "Ruth Okonkwo": "character",
        "Walter Brandt": "character",
        "Nadia Kessler": "character",
        "photograph": "prop",
        "mug": "prop",
        "1": "scene",
        "3": "scene",
        "5": "scene",
    }
    return Ledger("newsroom", kinds=kinds, facts=facts, aliases={"Walter Brandt": ["the editor"]})


CASES: list[NaturalCase] = [
    case("first_name", "3", "Ruth shoulders into the newsroom in a navy blazer.", AM),
    case("first_name", "3", "Brandt straightens his brown suit before the meeting.", AM),
    case("first_name", "3", "Kessler pushes up the sleeves of her red sweater.", AM),
    case("first_name", "3", "Okonkwo shoulders into the newsroom in a camel blazer."),
    case("first_name", "3", "The editor straightens his charcoal suit before the meeting."),
    case("first_name", "3", "A copy boy in a red sweater runs past Nadia."),
    case("synonym", "3", "Ruth's black brogues squeak on the lino.", AM),
    case("synonym", "3", "Walter tugs at the lapels of his navy three-piece.", AM),
    case("synonym", "3", "Nadia hugs herself in her green jumper.", AM),
    case("synonym", "3", "Ruth's brown ankle boots squeak on the lino."),
    case("synonym", "3", "Nadia hugs herself in her cream jumper."),
    case("removal_negation", "3", "Walter sweeps off his cap as the publisher enters.", AM),
    case("removal_negation", "3", "Ruth reads the proofs without her spectacles, squinting.", AM),
    case("removal_negation", "3", "Walter keeps his cap on indoors, as always."),
    case("removal_negation", "3", "Ruth never reads without her glasses."),
    case("length_shape", "3", "Walter, clean-shaven, leans over the desk.", AM),
    case("length_shape", "3", "Nadia's hair is cut in a sharp bob.", AM),
    case("length_shape", "3", "Ruth's hair is cropped close.", AM),
    case("length_shape", "3", "Walter chews the end of his black moustache."),
    case("length_shape", "3", "Nadia flicks her long ponytail over one shoulder."),
    case("relative_clause", "3", "The blazer Ruth hangs on her chair is a dark bottle green.", AM),
    case("relative_clause", "3", "The sweater that Nadia pulls over her head is bright yellow.", AM),
    case("relative_clause", "3", "The blazer Ruth hangs on her chair is the usual camel."),
    case("relative_clause", "3", "The typist who sits beside Nadia wears a yellow sweater."),
    case("possessed_state", "3", "The photograph's corner is torn off.", STE),
    case("possessed_state", "1", "Ruth sips from the mug, its rim chipped.", STE),
    case("possessed_state", "5", "The photograph's corner is torn off."),
    case("possessed_state", "3", "Ruth sips from the mug, its rim whole and clean."),
    case("time_weather", "1", "Evening light slants through the blinds.", AM),
    case("time_weather", "3", "A hard frost glitters on the windows at noon.", AM),
    case("time_weather", "5", "Bright sunshine fills the empty newsroom.", AM),
    case("time_weather", "1", "Morning light slants through the blinds."),
    case("time_weather", "5", "Thunder rattles the windows; the lamps burn late."),
    case("screen_direction", "1", "Ruth hurries right to left between the desks.", SDF),
    case("screen_direction", "1", "Ruth hurries left to right between the desks."),
    case("must_not_synonym", "3", "A beige desktop PC hums on Walter's desk.", MNP),
    case("must_not_synonym", "3", "Nadia wears faded jeans.", MNP),
    case("must_not_synonym", "3", "A typewriter clatters; there is not a computer in sight."),
    case("must_not_synonym", "3", "Nadia wears a tweed skirt."),
    case("pronoun", "3", "Walter lights a cigar. His suit, a loud mustard check, strains at the buttons.", AM),
    case("pronoun", "3", "Ruth sits. She has her hair up in a tight bun.", AM),
    case("pronoun", "3", "Walter lights a cigar. His suit, dark charcoal, strains at the buttons."),
    case("pronoun", "3", "Ruth nods at a reporter. His suit is brown."),
    case("colour_names", "3", "Nadia's sweater is a dusty sage.", AM),
    case("colour_names", "3", "Nadia's sweater is an oatmeal ivory."),
    case("first_name", "3", "Nadia rolls back her sleeve; the tattoo on her right wrist shows.", SF),
    case("first_name", "3", "Nadia rolls back her sleeve; the tattoo on her left wrist shows."),
]
