"""Preflight: a deterministic, offline check of a shot or prompt before any money is spent.

Rules (severity): attribute_mismatch, side_flip, state_too_early, must_not_present, time_of_day_jump
(errors); must_missing, weather_jump, screen_direction_flip, unannounced_entrance (warnings).
`check_text` is pure (ledger, shots, brief in; findings out); `prompt_check.PromptChecker` gathers
its inputs and stores the findings.

Modules: `common` (rule names, `Check`, the finding constructor), `facts` (entity facts), `parts`
(presence and the states of parts), `brief` (must / must-not), `scene` (scene facts, neighbouring shots,
a free prompt's screen direction), `check` (`check_text`).
"""

from tools.continuity.descriptors import Dims, dims_of
from tools.continuity.preflight.brief import SIMILAR, Similar, similarity_inputs
from tools.continuity.preflight.check import check_text
from tools.continuity.preflight.common import RULES
from tools.continuity.preflight.scene import sequence_flags

__all__ = ["RULES", "SIMILAR", "Dims", "Similar", "check_text", "dims_of", "sequence_flags", "similarity_inputs"]
