"""Hand-written preflight prompts: the HELD-OUT set. Never run or looked at while tuning.

Written at the same time as the dev set (`bench/preflight_natural.py`), over the same world (its
ledger and brief), with different phrasings; measured once, at the end, and reported separately.
"""

from __future__ import annotations

from bench.preflight_natural import AM, MNP, SDF, SF, STE, NaturalCase, case

CASES: list[NaturalCase] = [
    # first name / surname / alias
    case("first_name", "5", "Alvarez waits at the bow, collar of her plum coat turned up.", AM),
    case("first_name", "5", "Mara's scar sits high on her right cheekbone tonight.", SF),
    case("first_name", "5", "Tomas pulls a white scarf from his pocket and wears it.", AM),
    case("first_name", "5", "Alvarez waits at the bow, collar of her lemon-yellow coat turned up."),
    case("first_name", "5", "Quint leans on the rail, the old scar pale on her left cheek."),
    case("first_name", "5", "A deckhand in a white scarf coils rope beside Tomas."),
    # synonyms for the item
    case("synonym", "5", "Juno stamps her tan gumboots on the gangway.", AM),
    case("synonym", "5", "Tomas peers through silver spectacles.", AM),
    case("synonym", "5", "Juno's black gumboots leave wet prints on the gangway."),
    case("synonym", "5", "Mara's dark crop is slick with spray."),
    # removal and negation
    case("removal_negation", "5", "Mara pulls off her beret and stuffs it in a pocket.", AM),
    case("removal_negation", "5", "Juno works the winch with bare hands, no gloves.", AM),
    case("removal_negation", "5", "Mara keeps her beret on, the navy wool dark with spray."),
    case("removal_negation", "5", "Juno's coat is not the pale blue of the harbour sky but a bright yellow."),
    # length and shape
    case("length_shape", "5", "Stubble shadows Tomas's jaw.", AM),
    case("length_shape", "5", "Juno's shorn head glistens in the spray.", AM),
    case("length_shape", "5", "Juno's braid hangs down to the small of her back."),
    case("length_shape", "5", "Tomas's jaw is shaved smooth."),
    # relative clause
    case("relative_clause", "5", "The boots that Juno kicks off at the door are a muddy brown.", AM),
    case("relative_clause", "5", "The coat Tomas hangs on the hook is navy blue.", AM),
    case("relative_clause", "5", "The coat that Juno wears over her sweater is the same yellow oilskin."),
    case("relative_clause", "5", "The scarf he lends Juno is green; Tomas shivers."),
    # possessed state
    case("possessed_state", "5", "Mara's jacket has a rip along its hem.", STE),
    case("possessed_state", "5", "Close on the map, its corner torn away.", STE),
    case("possessed_state", "12", "Mara's jacket has a rip along its hem."),
    case("possessed_state", "5", "The map lies on the chart table, its folds sharp and whole."),
    # time and weather
    case("time_weather", "3", "Morning sunshine glints off the wet rails.", AM),
    case("time_weather", "5", "Midday glare bounces off the water.", AM),
    case("time_weather", "7", "A downpour lashes the deck.", AM),
    case("time_weather", "3", "Under the night sky, rain needles the water."),
    case("time_weather", "7", "Noon sun glints off Tomas's specs."),
    # screen direction
    case("screen_direction", "3", "Juno sprints across frame, right to left, toward the gangway.", SDF),
    case("screen_direction", "3", "Tomas hurries across frame, left to right, toward the gangway."),
    # must-not by another word
    case("must_not_synonym", "5", "Juno's iPhone buzzes in her pocket.", MNP),
    case("must_not_synonym", "5", "Tomas flicks ash from his cigarette over the rail.", MNP),
    case("must_not_synonym", "5", "Juno rings the bell on the quay; no phones anywhere."),
    case("must_not_synonym", "5", "A plain canvas bag, no branding, hangs from the hook."),
    # pronoun
    case("pronoun", "5", "Mara crosses the deck. Her jacket, bright orange, flaps open.", AM),
    case("pronoun", "5", "Tomas lights the stove. His scarf is crimson.", AM),
    case("pronoun", "5", "Mara crosses the deck. Her jacket, blood-red, flaps open."),
    case("pronoun", "5", "Juno greets a man at the rail. His scarf is crimson."),
    # named colours
    case("colour_names", "5", "Juno's oilskin is a dusky mauve.", AM),
    case("colour_names", "5", "Mara's jacket is a rich burgundy."),
]
