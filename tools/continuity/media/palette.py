"""CIELAB palettes: dominant colours by weighted k-means on a Lab histogram, and brand-palette checks.

Hex codes, CIELAB conversions and the k-means are `core.colour`, shared with the style family.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from skimage.color import deltaE_ciede2000, rgb2lab

from core.colour import hex_to_lab_array, lab_to_hex, parse_hex, round_lab, weighted_kmeans

from .errors import MediaError
from .models import PaletteCheck, PaletteColour, PaletteMatch

# Fine Lab histogram used for palettes: 4-unit bins are below the ΔE anyone argues about.
_STEP = 4.0
_L_BINS, _AB_BINS = 26, 64
HIST_SIZE = _L_BINS * _AB_BINS * _AB_BINS

# ΔE00 above which a colour is "off palette". 12 is about where a colourist calls two swatches different
# colours rather than variants of one (JND is ~2.3; ~5-10 reads as a tint change).
OFF_PALETTE_DELTA_E = 12.0


def lab_histogram(lab: np.ndarray) -> np.ndarray:
    """Counts of pixels in 4-unit Lab bins, flattened (length HIST_SIZE)."""
    flat = lab.reshape(-1, 3)
    li = np.clip((flat[:, 0] / _STEP).astype(np.int32), 0, _L_BINS - 1)
    ai = np.clip(((flat[:, 1] + 128) / _STEP).astype(np.int32), 0, _AB_BINS - 1)
    bi = np.clip(((flat[:, 2] + 128) / _STEP).astype(np.int32), 0, _AB_BINS - 1)
    idx = (li * _AB_BINS + ai) * _AB_BINS + bi
    return np.bincount(idx, minlength=HIST_SIZE).astype(np.float64)


def _bin_centres(indices: np.ndarray) -> np.ndarray:
    li, rest = np.divmod(indices, _AB_BINS * _AB_BINS)
    ai, bi = np.divmod(rest, _AB_BINS)
    return np.stack([(li + 0.5) * _STEP, (ai + 0.5) * _STEP - 128, (bi + 0.5) * _STEP - 128], axis=1)


def palette_from_histogram(hist: np.ndarray, k: int = 5) -> list[PaletteColour]:
    """Weighted k-means (k-means++ seeding, fixed seed) over the occupied bins; near-duplicates merged."""
    occupied = np.flatnonzero(hist)
    if occupied.size == 0:
        return []
    points = _bin_centres(occupied)
    weights = hist[occupied]
    k = max(1, min(k, occupied.size))
    assign, c = weighted_kmeans(points, weights, k, iterations=20, tol=0.05)
    shares = np.array([weights[assign == j].sum() for j in range(len(c))]) / weights.sum()
    order = np.argsort(-shares)
    merged: list[tuple[np.ndarray, float]] = []
    for j in order:
        if shares[j] <= 0:
            continue
        for m, (mc, ms) in enumerate(merged):
            if float(deltaE_ciede2000(mc, c[j])) < 3.0:
                merged[m] = ((mc * ms + c[j] * shares[j]) / (ms + shares[j]), ms + float(shares[j]))
                break
        else:
            merged.append((c[j], float(shares[j])))
    return [PaletteColour(hex=lab_to_hex(lab), lab=round_lab(lab), share=round(share, 4)) for lab, share in merged]


def to_lab(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(rgb2lab(rgb.astype(np.float32) / 255.0), np.float32)


def dominant_palette(image: str | Path | np.ndarray, k: int = 5) -> list[PaletteColour]:
    """Dominant colours of an image file (PNG/JPEG/...) or an RGB uint8 array, most common first."""
    if isinstance(image, np.ndarray):
        rgb = image
        if rgb.ndim != 3 or rgb.shape[2] < 3:
            raise MediaError("dominant_palette expects an RGB array of shape (height, width, 3)")
        rgb = rgb[..., :3]
        step = max(1, max(rgb.shape[:2]) // 160)
        rgb = rgb[::step, ::step]
    else:
        from .decode import _check_file, load_image

        path = Path(image)
        _check_file(path)
        loaded = load_image(path, max_side=160)
        if loaded is None:
            raise MediaError(f"{path}: not an image Pillow can read; pass a PNG or JPEG")
        rgb = loaded[0]
    if rgb.dtype != np.uint8:
        rgb = np.clip(rgb, 0, 255).astype(np.uint8)
    return palette_from_histogram(lab_histogram(to_lab(rgb)), k=k)


def check_palette(
    hist: np.ndarray, palette: list[PaletteColour], brand: list[str], threshold: float = OFF_PALETTE_DELTA_E
) -> PaletteCheck:
    brand_hex = [_brand_hex(h) for h in brand]
    brand_lab = np.array([hex_to_lab_array(h) for h in brand_hex])
    occupied = np.flatnonzero(hist)
    centres = _bin_centres(occupied)
    dist = _nearest(centres, brand_lab)[1]
    weights = hist[occupied]
    off = float(weights[dist > threshold].sum() / max(weights.sum(), 1.0))
    matches = []
    for colour in palette:
        j, d = _nearest(np.array([colour.lab]), brand_lab)
        matches.append(
            PaletteMatch(
                hex=colour.hex,
                share=colour.share,
                nearest_brand_hex=brand_hex[int(j[0])],
                delta_e=round(float(d[0]), 2),
                on_palette=bool(d[0] <= threshold),
            )
        )
    # Passing means the look is on brand: most pixels and every major dominant colour within the threshold.
    passed = off <= 0.2 and all(m.on_palette for m in matches if m.share >= 0.1)
    return PaletteCheck(
        brand_palette=brand_hex,
        threshold_delta_e=threshold,
        colours=matches,
        off_palette_fraction=round(off, 4),
        passed=passed,
    )


def _nearest(points: np.ndarray, refs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = np.stack([deltaE_ciede2000(points, np.broadcast_to(r, points.shape)) for r in refs], axis=1)
    return np.argmin(d, axis=1), np.min(d, axis=1)


def _brand_hex(colour: str) -> str:
    try:
        return parse_hex(colour)
    except ValueError as exc:
        raise MediaError(f"brand colour {colour!r} is not a hex colour; use #RRGGBB, e.g. #1A2B3C") from exc
