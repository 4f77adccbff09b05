"""Style's colour helpers: common colour names, brand swatches and an image's dominant palette.

Colours get a plain name ("teal", "amber") so a reference image or a brand swatch can be found
by the words people use in a query. Hex parsing, CIELAB and the k-means are `core.colour`,
shared with the continuity media engine. numpy and scikit-image load lazily: importing this
module must stay cheap because the server imports it on start-up.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from pydantic import Field

from core.colour import Colour, hex_to_lab, hex_to_rgb, rgb_to_hex, rgb_to_lab, weighted_kmeans

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

# The words people use for colour in a brief. Values are typical of how the word is used (navy
# cloth, not HTML's #000080), so that dark, muted film colours get a sensible name.
NAMED_COLOURS: dict[str, str] = {
    "black": "#000000",
    "charcoal": "#36454F",
    "grey": "#808080",
    "slate": "#5A6A7A",
    "silver": "#C0C0C0",
    "white": "#FFFFFF",
    "cream": "#FFFDD0",
    "beige": "#F5F5DC",
    "tan": "#D2B48C",
    "brown": "#8B4513",
    "maroon": "#800000",
    "crimson": "#DC143C",
    "red": "#FF0000",
    "pink": "#FFC0CB",
    "coral": "#FF7F50",
    "orange": "#FF7F00",
    "amber": "#FFBF00",
    "gold": "#FFD700",
    "yellow": "#FFFF00",
    "olive": "#808000",
    "lime": "#00FF00",
    "green": "#008000",
    "forest green": "#228B22",
    "mint": "#98FF98",
    "dark teal": "#134E52",
    "teal": "#008080",
    "turquoise": "#40E0D0",
    "cyan": "#00FFFF",
    "sky blue": "#87CEEB",
    "steel blue": "#4682B4",
    "blue": "#0000FF",
    "dark blue": "#22406E",
    "navy": "#1F2A50",
    "midnight blue": "#191970",
    "indigo": "#4B0082",
    "purple": "#800080",
    "violet": "#EE82EE",
    "lavender": "#E6E6FA",
    "magenta": "#FF00FF",
}

# An image is reduced to at most this many pixels a side before clustering: plenty for the
# five dominant colours, and it bounds the work whatever the input size.
_THUMB_SIDE = 96


class PaletteColour(Colour):
    """One colour of a palette: hex, CIELAB (D65), its share of the image, and a name."""

    share: float | None = Field(default=None, description="fraction of the image's pixels (None for a brand swatch)")
    name: str = Field(description="brand name of the swatch, or the nearest common colour name")
    common_name: str = Field(description="nearest common colour name, e.g. 'teal'")


@lru_cache(maxsize=1)
def _named_lab() -> tuple[tuple[str, ...], np.ndarray]:
    names = tuple(NAMED_COLOURS)
    return names, rgb_to_lab([hex_to_rgb(h) for h in NAMED_COLOURS.values()])


def common_colour_name(hex_code: str) -> str:
    """The nearest entry of NAMED_COLOURS by CIEDE2000, the perceptual difference."""
    import numpy as np
    from skimage.color import deltaE_ciede2000

    names, table = _named_lab()
    lab = np.asarray(hex_to_lab(hex_code), dtype=np.float64)
    distances = deltaE_ciede2000(np.broadcast_to(lab, table.shape), table)
    return names[int(np.argmin(distances))]


def swatch(hex_code: str, name: str | None = None, share: float | None = None) -> PaletteColour:
    """A PaletteColour for a valid hex code; `name` defaults to the common colour name."""
    common = common_colour_name(hex_code)
    return PaletteColour(hex=hex_code, lab=hex_to_lab(hex_code), share=share, name=name or common, common_name=common)


def image_palette(image: Image.Image, k: int = 5) -> list[PaletteColour]:
    """The dominant palette of a decoded Pillow image; transparent pixels are ignored."""
    import numpy as np
    from PIL.Image import Resampling

    thumb = image.copy()
    thumb.thumbnail((_THUMB_SIDE, _THUMB_SIDE), Resampling.BOX)
    rgba = np.asarray(thumb.convert("RGBA")).reshape(-1, 4)
    opaque = rgba[rgba[:, 3] >= 128, :3]
    # A fully transparent image still has colour data; use it rather than return nothing.
    return dominant_palette(opaque if len(opaque) else rgba[:, :3], k)


def dominant_palette(pixels: np.ndarray, k: int = 5) -> list[PaletteColour]:
    """The `k` dominant colours of uint8 RGB pixels (any shape ending in 3), largest share first.

    Weighted k-means in CIELAB over the distinct colours (so a flat image costs almost nothing
    and a pure colour comes back exactly). Each colour's hex is the mean RGB of its pixels, so
    it is a colour that is really in the image, not a Lab round-trip. Callers downscale first.
    """
    import numpy as np

    flat = np.asarray(pixels, dtype=np.uint8).reshape(-1, 3)
    if len(flat) == 0:
        return []
    colours, counts = np.unique(flat, axis=0, return_counts=True)
    weights = counts.astype(np.float64)
    if len(colours) <= k:
        labels = np.arange(len(colours))
    else:
        labels, _ = weighted_kmeans(rgb_to_lab(colours), weights, k)

    total = weights.sum()
    result: list[PaletteColour] = []
    for cluster in np.unique(labels):
        members = labels == cluster
        w = weights[members]
        mean = (colours[members].astype(np.float64) * w[:, None]).sum(axis=0) / w.sum()
        hex_code = rgb_to_hex((round(mean[0]), round(mean[1]), round(mean[2])))
        result.append(swatch(hex_code, share=round(float(w.sum() / total), 4)))
    result.sort(key=lambda c: c.share or 0.0, reverse=True)
    return result[:k]
