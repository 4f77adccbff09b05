"""Hand-written preflight prompts, DEV (tuned on): a fourth world (a frontier town), written after the
newsroom set's fixes and before this set was first run, to find further general gaps without looking at
the held-out cases. Tuned on: never evidence of generalisation.

The world (`world()`):
- Hattie Calloway (she, alias 'the widow'): shawl black lace; hair red, pinned up; gloves black kid.
- Silas Rourke (he): hat white stetson; coat long tan duster; facial hair handlebar moustache; eyepatch
  right eye.
- Eli Mercer (he): waistcoat brown leather; bandana red.
- wheel: intact, broken from 4. letter: closed, open from 4.
- Scenes: 2 noon, clear, left-to-right; 4 dusk, wind; 6 night, rain.
- Brief must-not: cars, sunglasses, tattoos.
"""

from __future__ import annotations

from bench.preflight_natural import AM, MNP, SDF, SF, STE, NaturalCase, case
from tools.continuity.ledger import Ledger
from tools.continuity.models import Fact

MUST_NOT = ["cars", "sunglasses", "tattoos"]


def world() -> Ledger:
    facts: list[Fact] = []

    def fact(entity: str, attr: str, value: str, scene: str | None = None) -> None:
        facts.append(
            Fact(
                id=f"w{len(facts) + 1}",
                entity=entity,
                attribute=attr,
                value=value,
                from_scene=scene,
                created_at="2026-01-01T00:00:00",
            )
        )

    fact("Hattie Calloway", "pronouns", "she/her")
    fact("Hattie Calloway", "shawl", "black lace")
    fact("Hattie Calloway", "hair", "red, pinned up")
    fact("Hattie Calloway", "gloves", "black kid")
    fact("Silas Rourke", "pronouns", "he/him")
    fact("Silas Rourke", "hat", "white stetson")
    fact("Silas Rourke", "coat", "long tan duster")
    fact("Silas Rourke", "facial_hair", "handlebar moustache")
    fact("Silas Rourke", "eyepatch", "right eye")
    fact("Eli Mercer", "pronouns", "he/him")
    fact("Eli Mercer", "waistcoat", "brown leather")
    fact("Eli Mercer", "bandana", "red")
    fact("wheel", "state", "intact")
    fact("wheel", "state", "broken", "4")
    fact("letter", "state", "closed")
    fact("letter", "state", "open", "4")
    fact("2", "time_of_day", "noon")
    fact("2", "weather", "clear")
    fact("2", "screen_direction", "left-to-right")
    fact("4", "time_of_day", "dusk")
    fact("4", "weather", "wind")
    fact("6", "time_of_day", "night")
    fact("6", "weather", "rain")
    kinds = {
        "Hattie Calloway": "character",
        "Silas Rourke": "character",
        "Eli Mercer": "character",
        "wheel": "prop",
        "letter": "prop",
        "2": "scene",
        "4": "scene",
        "6": "scene",
    }
    return Ledger("frontier", kinds=kinds, facts=facts, aliases={"Hattie Calloway": ["the widow"]})


CASES: list[NaturalCase] = [
    case("first_name", "2", "The widow draws a grey shawl around her shoulders.", AM),
    case("first_name", "2", "Rourke rides in under a black stetson.", AM),
    case("first_name", "2", "Mercer mops his brow with a blue bandana.", AM),
    case("first_name", "2", "The widow draws her black shawl around her shoulders."),
    case("first_name", "2", "Rourke rides in under a white stetson."),
    case("first_name", "2", "A drifter with a blue bandana watches Eli."),
    case("synonym", "2", "Silas buttons his grey long coat.", AM),
    case("synonym", "2", "Eli hooks his thumbs in his black vest.", AM),
    case("synonym", "2", "Hattie's green wrap slips from her shoulders.", AM),
    case("synonym", "2", "Eli hooks his thumbs in his brown leather vest."),
    case("synonym", "2", "Silas buttons his dusty tan duster."),
    case("removal_negation", "2", "Silas takes his hat off and holds it to his chest.", AM),
    case("removal_negation", "2", "Hattie works the pump bare-handed.", AM),
    case("removal_negation", "2", "Eli shoves his bandana into a pocket.", AM),
    case("removal_negation", "2", "Silas touches the brim of his stetson."),
    case("removal_negation", "2", "Hattie does not remove her gloves to shake his hand."),
    case("length_shape", "2", "Silas rubs his clean chin.", AM),
    case("length_shape", "2", "Hattie's red hair tumbles loose down her back.", AM),
    case("length_shape", "2", "Silas twirls one end of his moustache."),
    case("length_shape", "2", "Hattie's red hair is pinned up under her bonnet."),
    case("relative_clause", "2", "The duster Silas wears against the dust is charcoal grey.", AM),
    case("relative_clause", "2", "The bandana that Eli ties over his face is sky blue.", AM),
    case("relative_clause", "2", "The duster Silas wears against the dust is a sun-bleached tan."),
    case("relative_clause", "2", "The rancher who shakes Eli's hand wears a blue bandana."),
    case("possessed_state", "2", "One spoke of the wheel is snapped.", STE),
    case("possessed_state", "2", "Hattie reads the open letter.", STE),
    case("possessed_state", "4", "One spoke of the wheel is snapped."),
    case("possessed_state", "2", "Hattie turns the sealed letter over in her hands."),
    case("time_weather", "2", "Long dusk shadows stretch across Main Street.", AM),
    case("time_weather", "6", "The afternoon heat shimmers over the street.", AM),
    case("time_weather", "4", "The air is dead still as the sun sets.", AM),
    case("time_weather", "2", "The noon sun beats down on Main Street."),
    case("time_weather", "6", "Rain drums on the saloon roof in the dark."),
    case("time_weather", "4", "Wind whips dust along the street as the sun goes down."),
    case("screen_direction", "2", "The stagecoach rolls right to left past the saloon.", SDF),
    case("screen_direction", "2", "Silas exits frame right, toward the livery."),
    case("must_not_synonym", "2", "An old Ford pickup is parked outside the saloon.", MNP),
    case("must_not_synonym", "2", "Eli wears dark shades against the glare.", MNP),
    case("must_not_synonym", "2", "An inked anchor shows on Eli's forearm.", MNP),
    case("must_not_synonym", "2", "A buckboard wagon is parked outside the saloon."),
    case("must_not_synonym", "2", "Eli shades his eyes against the glare."),
    case("pronoun", "2", "Eli leans on the bar. His bandana, faded yellow, hangs loose.", AM),
    case("pronoun", "2", "Hattie steps out. She pulls a white shawl tight.", AM),
    case("pronoun", "2", "Eli nods to the barmaid. Her bandana is blue."),
    case("pronoun", "2", "Hattie steps out. She pulls her black shawl tight."),
    case("colour_names", "2", "Eli's bandana is a washed-out denim blue.", AM),
    case("colour_names", "2", "Eli's bandana is a deep brick."),
    case("first_name", "2", "Silas turns; the patch covers his left eye.", SF),
    case("first_name", "2", "Silas turns; the patch covers his right eye."),
]
