"""Comparisons against references: entity reference images and the previous shot's ending."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from skimage.color import deltaE_ciede2000

from .decode import _check_file, load_image
from .errors import MediaError
from .models import ReferenceCheck, TransitionCheck
from .signals import SampleState, make_frame, make_state

# A reference scoring below this shares too little colour with the clip to be the same look/subject.
REFERENCE_MIN_SCORE = 0.6
# Across a cut, the light and colour of the two ends should match: more than this ΔE00 between their mean
# colours, or a colour-histogram overlap below the floor, reads as a jump on screen.
TRANSITION_MAX_DELTA_E = 10.0
TRANSITION_MIN_COLOUR = 0.6


def colour_similarity(a: SampleState, b: SampleState) -> float:
    """Bhattacharyya coefficient of the two 256-bin Lab histograms (1 = same colour distribution)."""
    return float(np.sqrt(a.hist * b.hist).sum())


def reference_state(path: Path, max_side: int) -> SampleState:
    _check_file(path)
    loaded = load_image(path, max_side)
    if loaded is None:
        raise MediaError(f"{path}: reference is not an image Pillow can read; pass a PNG or JPEG")
    return make_state(0.0, make_frame(loaded[0]))


def check_reference(path: Path, states: list[SampleState], max_side: int) -> ReferenceCheck:
    """VBench image-to-video aggregate (0.4·max + 0.3·mean + 0.3·min) of colour similarity to each sample.

    Weight-free, so this is a colour-signature match (wardrobe, skin, set palette), not identity.
    """
    ref = reference_state(path, max_side)
    sims = np.array([colour_similarity(ref, s) for s in states])
    score = 0.4 * sims.max() + 0.3 * sims.mean() + 0.3 * sims.min()
    return ReferenceCheck(
        reference=str(path),
        score=round(float(score), 4),
        max_similarity=round(float(sims.max()), 4),
        mean_similarity=round(float(sims.mean()), 4),
        min_similarity=round(float(sims.min()), 4),
        best_time_s=round(states[int(sims.argmax())].time_s, 3),
        worst_time_s=round(states[int(sims.argmin())].time_s, 3),
        passed=bool(score >= REFERENCE_MIN_SCORE),
    )


def check_transition(previous: str, last: list[SampleState], first: list[SampleState]) -> TransitionCheck:
    """EntityBench-style cross-shot check: the previous clip's last samples against this clip's first."""
    colour = float(np.mean([colour_similarity(a, b) for a in last for b in first]))
    lab_a = np.mean([s.mean_lab for s in last], axis=0)
    lab_b = np.mean([s.mean_lab for s in first], axis=0)
    light = float(deltaE_ciede2000(lab_a, lab_b))
    score = 0.5 * colour + 0.5 * max(0.0, 1.0 - light / (2 * TRANSITION_MAX_DELTA_E))
    is_break = colour < TRANSITION_MIN_COLOUR or light > TRANSITION_MAX_DELTA_E
    if is_break:
        detail = (
            f"the cut jumps in colour/light: histogram overlap {colour:.2f} (floor {TRANSITION_MIN_COLOUR}), "
            f"mean colour ΔE00 {light:.1f} (limit {TRANSITION_MAX_DELTA_E})"
        )
    else:
        detail = f"colour and light carry across the cut (overlap {colour:.2f}, mean colour ΔE00 {light:.1f})"
    return TransitionCheck(
        previous_clip=previous,
        score=round(score, 4),
        colour_similarity=round(colour, 4),
        light_delta_e=round(light, 2),
        is_break=is_break,
        detail=detail,
    )
