"""The preflight's lexicons, kept as data (the JSON files beside this module) and loaded once.

- `colours.json`: named colours with sRGB values; each name is put in colour families by CIELAB distance
  (CIEDE2000) to the families' anchor colours, computed on first use (scikit-image loads then, not at
  start-up).
- `items.json`: what the text calls a ledger attribute's thing (galoshes are boots), parts of things
  (a hem is part of a jacket), state nouns (a tear is torn).
- `presence.json`: words saying an item is absent (gloveless, bare-headed, clean-shaven).
- `scene_words.json`: time-of-day, weather and screen-direction words and phrases.
- `must_not.json`: groups of words for the same forbidden thing (a cellphone is a mobile phone).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent

# A name joins every family whose nearest anchor is within this much (CIEDE2000) of its nearest family:
# teal sits between blue and green, ochre between yellow, orange and brown.
FAMILY_MARGIN = 7.0


@functools.cache
def load(name: str) -> dict[str, Any]:
    with (_HERE / f"{name}.json").open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


@functools.cache
def colour_families() -> dict[str, frozenset[str]]:
    """Every named colour -> its colour families, by CIEDE2000 distance to the family anchors."""
    import numpy as np
    from skimage.color import deltaE_ciede2000

    from core.colour import hex_to_rgb, rgb_to_lab

    data = load("colours")
    anchors = [(family, code) for family, codes in data["families"].items() for code in codes]
    anchor_lab = rgb_to_lab(np.array([hex_to_rgb(code) for _, code in anchors], dtype=float))
    names = list(data["names"].items())
    name_lab = rgb_to_lab(np.array([hex_to_rgb(code) for _, code in names], dtype=float))
    out: dict[str, frozenset[str]] = {}
    for (name, _code), lab in zip(names, name_lab, strict=True):
        dist = deltaE_ciede2000(np.repeat(lab[None, :], len(anchors), axis=0), anchor_lab)
        best: dict[str, float] = {}
        for (family, _), d in zip(anchors, dist, strict=True):
            best[family] = min(best.get(family, 1e9), float(d))
        nearest = min(best.values())
        out[name] = frozenset(f for f, d in best.items() if d <= nearest + FAMILY_MARGIN)
    return out
