"""Face regions from scikit-image's bundled LBP frontal-face cascade (no downloaded weights)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from skimage import data
from skimage.feature import Cascade

from .models import Region

MIN_FACE = 24  # the cascade's window; smaller faces are not detectable


@lru_cache(maxsize=1)
def _cascade() -> Cascade:
    return Cascade(data.lbp_frontal_face_cascade_filename())


def detect_face(rgb: np.ndarray) -> Region | None:
    """The largest frontal face in an RGB frame, as fractions of the frame, or None.

    step_ratio 2 and scale 1.25 trade a little recall on small faces for ~4x less time; the analysis
    frame is at most a few hundred pixels, so faces under ~8% of its height are out of reach anyway.
    """
    h, w = rgb.shape[:2]
    if min(h, w) < MIN_FACE:
        return None
    found = _cascade().detect_multi_scale(
        img=rgb,
        scale_factor=1.25,
        step_ratio=2,
        min_size=(MIN_FACE, MIN_FACE),
        max_size=(min(h, w), min(h, w)),
        min_neighbor_number=3,
    )
    if not found:
        return None
    best = max(found, key=lambda d: d["width"] * d["height"])
    return Region(
        x=best["c"] / w, y=best["r"] / h, w=best["width"] / w, h=best["height"] / h, detector="lbp_frontal_face"
    )
