"""Colour science shared by the style family and the continuity media engine.

Hex codes are '#RRGGBB', upper case, wherever they are produced: in kit metadata, tool results and
messages. CIELAB is D65, via scikit-image. numpy and scikit-image load inside the functions that
need them: the server imports this module (through the style family) on start-up, which must stay
cheap.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

_HEX = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


class Colour(BaseModel):
    """A colour as results report it: hex and CIELAB. Each family's palette model extends it."""

    hex: str = Field(description="sRGB colour, #RRGGBB (upper case)")
    lab: tuple[float, float, float] = Field(description="CIELAB (D65) L*, a*, b*")


def normalise_hex(value: str) -> str | None:
    """'#1f5f63', '1F5F63' or '#abc' -> '#1F5F63' / '#AABBCC'; None if it is not a hex colour."""
    match = _HEX.match(value.strip())
    if match is None:
        return None
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits.upper()


def parse_hex(value: str) -> str:
    """`normalise_hex`, raising ValueError for what is not a hex colour; callers map it to their error."""
    hex_code = normalise_hex(value)
    if hex_code is None:
        raise ValueError(f"{value!r} is not a hex colour; use #RRGGBB, e.g. #1A2B3C")
    return hex_code


def hex_to_rgb(hex_code: str) -> tuple[int, int, int]:
    digits = hex_code.lstrip("#")
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def rgb_to_hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02X}{:02X}{:02X}".format(*rgb)


def rgb_to_lab(rgb: npt.ArrayLike) -> np.ndarray:
    """(N, 3) RGB in 0..255 -> (N, 3) CIELAB."""
    import numpy as np
    from skimage.color import rgb2lab

    arr = np.asarray(rgb, dtype=np.float64).reshape(1, -1, 3) / 255.0
    return np.asarray(rgb2lab(arr)[0])


def hex_to_lab_array(hex_code: str) -> np.ndarray:
    """CIELAB of a '#RRGGBB' code at full precision, shape (3,): for distances."""
    return rgb_to_lab([hex_to_rgb(hex_code)])[0]


def hex_to_lab(hex_code: str) -> tuple[float, float, float]:
    """CIELAB of a '#RRGGBB' code rounded as results report it (`round_lab`)."""
    return round_lab(hex_to_lab_array(hex_code))


def round_lab(lab: np.ndarray | Sequence[float]) -> tuple[float, float, float]:
    """L*, a*, b* rounded to 2 places, as results report them."""
    return round(float(lab[0]), 2), round(float(lab[1]), 2), round(float(lab[2]), 2)


def lab_to_hex(lab: npt.ArrayLike) -> str:
    """'#RRGGBB' of a CIELAB colour; out-of-gamut channels are clipped to sRGB."""
    import numpy as np
    from skimage.color import lab2rgb

    rgb = lab2rgb(np.asarray(lab, np.float64).reshape(1, 1, 3)).reshape(3)
    r, g, b = (round(float(c) * 255) for c in np.clip(rgb, 0, 1))
    return rgb_to_hex((r, g, b))


def weighted_kmeans(
    points: np.ndarray, weights: np.ndarray, k: int, *, iterations: int = 30, tol: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(labels, centres) of weighted k-means over `points` (N, D) with `weights` (N,).

    k-means++ seeding with a fixed seed, so results are repeatable; fewer than `k` centres when the
    points have no more distinct positions. It stops after `iterations` rounds, or earlier: without
    `tol`, once the labels no longer change; with `tol`, once no centre would move by more than `tol`
    (np.allclose; the returned centres are then those the labels were assigned to). A centre left
    without points stays where it is.
    """
    import numpy as np

    rng = np.random.default_rng(0)
    seeds = [points[int(np.argmax(weights))]]
    for _ in range(1, k):
        d2 = np.min(((points[:, None, :] - np.asarray(seeds)[None]) ** 2).sum(axis=2), axis=1)
        p = weights * d2
        if p.sum() <= 0:
            break
        seeds.append(points[int(rng.choice(len(points), p=p / p.sum()))])
    centres = np.asarray(seeds)
    labels = np.zeros(len(points), dtype=np.int64)
    for step in range(iterations):
        new_labels = np.argmin(((points[:, None, :] - centres[None]) ** 2).sum(axis=2), axis=1)
        if tol is None and step > 0 and np.array_equal(new_labels, labels):
            break
        labels = new_labels
        moved = centres.copy()
        for j in range(len(centres)):
            members = labels == j
            if members.any():
                w = weights[members]
                moved[j] = (points[members] * w[:, None]).sum(axis=0) / w.sum()
        if tol is not None and np.allclose(moved, centres, atol=tol):
            break
        centres = moved
    return labels, centres
