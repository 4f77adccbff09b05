"""Hand-written preflight prompts, DEV (tuned on): the grammar of the fixes that followed the first
held-out set (a removal verb in any tense and its negation, a colour in a short aside, a side placed by a
verb's prepositional phrase), over the ferry world of `bench/preflight_natural.py`. Written with those
fixes, so they are development data, never evidence of generalisation.
"""

from __future__ import annotations

from bench.preflight_natural import AM, SF, NaturalCase, case

CASES: list[NaturalCase] = [
    # -- a removal verb in any tense, negated, or undone -------------------------------------------------
    case("removal_negation", "5", "Juno yanks off her gloves to tie the knot.", AM),
    case("removal_negation", "5", "Tomas removes his glasses and rubs his eyes.", AM),
    case("removal_negation", "5", "Mara is taking her beret off as the gust hits.", AM),
    case("removal_negation", "5", "Tomas unwinds his scarf and drapes it over the rail.", AM),
    case("removal_negation", "5", "Having shed her oilskin, Juno climbs the mast.", AM),
    case("removal_negation", "5", "Juno never takes off her gloves on deck."),
    case("removal_negation", "5", "Tomas refuses to remove his glasses, even in the spray."),
    case("removal_negation", "5", "Juno, without taking off her gloves, ties the knot."),
    case("removal_negation", "5", "Mara pulls off her beret, shakes the spray from it and puts it back on."),
    case("removal_negation", "5", "Tomas removes a fleck of salt from his round black glasses."),
    # -- a colour in a short aside -----------------------------------------------------------------------
    case("pronoun", "5", "Tomas hunches at the wheel. His scarf, pale blue, whips in the wind.", AM),
    case("pronoun", "5", "Juno waves. Her oilskin -- deep purple -- glistens.", AM),
    case("pronoun", "5", "Tomas hunches at the wheel. His scarf, moss green, whips in the wind."),
    case("pronoun", "5", "Juno waves. Her oilskin -- bright canary -- glistens."),
    case("pronoun", "5", "Mara's jacket, Juno notices, is soaked."),
    # -- a side placed by a verb's prepositional phrase --------------------------------------------------
    case("first_name", "5", "Quint's scar runs down her right cheek.", SF),
    case("first_name", "5", "The scar curves faintly along Mara's right cheekbone.", SF),
    case("first_name", "5", "Quint's scar runs down her left cheek."),
    case("first_name", "5", "Mara's scar catches the light from the right porthole."),
    case("first_name", "5", "Mara's scar glows under the right lamp."),
]
