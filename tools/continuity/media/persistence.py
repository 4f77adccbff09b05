"""Does a local colour change persist? The test that separates a re-rendered subject from action.

A candidate is a region that changed colour between samples i-1 and i. It is a subject break only if,
about half a second later (sample j), the region still shows the new colours and no longer shows the
old ones, with both frames first brought into sample j's light by a colour transform fitted to the rest
of the frame. A gesture, a hand near the lens, a passer-by, a head turn or compression noise either
come back to the old colours or leave them in view; a slow light change or a grade is the fitted transform.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PERSIST_S = 0.5  # how long after the change it must still be there
MATCH_DELTA_E = 6.0  # a colour "is there" when a pixel of the region is this close (Lab Euclidean)
NEW_KEPT_MIN = 0.6  # share of the new colours still there at j and absent before
# share of the old colours that have not come back at their place at j: a gesture or a passer-by that has
# moved on gives most (over two thirds) of them back
OLD_GONE_MIN = 1 / 3
_SAMPLES = 96  # pixels drawn from a changed region
SAME_STRUCTURE = 0.5  # lightness-pattern correlation of the region before and after: the same thing
SLACK = 3  # px of the 160 px colour frame: sway and shake between the change and PERSIST_S later
_REGION_PIXELS = 1500


@dataclass
class Persistence:
    persists: bool
    new_kept: float
    old_gone: float
    structure: float = 1.0
    steady: float = 1.0  # the same correlation between the change and PERSIST_S later: it stayed in view


def colour_transform(src: np.ndarray, dst: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel gain and offset mapping `src` Lab cells onto `dst` cells, fitted on the `keep` cells and
    refitted without the worst third (motion in the rest of the frame)."""
    a = src.reshape(-1, 3)[keep.ravel()]
    b = dst.reshape(-1, 3)[keep.ravel()]
    gain, offset = np.ones(3, np.float32), np.zeros(3, np.float32)
    if len(a) < 8:
        offset = (np.median(b, 0) - np.median(a, 0)).astype(np.float32) if len(a) else offset
        return gain, offset
    use = np.ones(len(a), bool)
    for _ in range(2):
        for c in range(3):
            x, y = a[use, c], b[use, c]
            var = float(x.var())
            g = float(((x - x.mean()) * (y - y.mean())).mean() / var) if var > 1.0 else 1.0
            g = min(max(g, 0.5), 2.0)
            gain[c], offset[c] = g, float(y.mean() - g * x.mean())
        resid = np.linalg.norm(a * gain + offset - b, axis=1)
        use = resid <= np.percentile(resid, 67)
    return gain, offset


def cell_mask(shape: tuple[int, int], box: tuple[int, int, int, int], frame: tuple[int, int]) -> np.ndarray:
    """Cells of a (rows, cols) grid over a frame of `frame` (h, w) pixels that do not touch the box."""
    gh, gw = shape
    h, w = frame
    x0, y0, x1, y1 = box
    ys = np.linspace(0, h, gh + 1)
    xs = np.linspace(0, w, gw + 1)
    rows = (ys[1:] <= y0) | (ys[:-1] >= y1)
    cols = (xs[1:] <= x0) | (xs[:-1] >= x1)
    return np.asarray(rows[:, None] | cols[None, :])


def _draw(pixels: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    if len(pixels) <= n:
        return pixels
    return pixels[rng.choice(len(pixels), n, replace=False)]


def _present(colours: np.ndarray, region: np.ndarray) -> np.ndarray:
    """For each colour, whether the region has a pixel within MATCH_DELTA_E."""
    if len(colours) == 0 or len(region) == 0:
        return np.zeros(len(colours), bool)
    d2 = ((colours[:, None, :] - region[None, :, :]) ** 2).sum(-1)
    return np.asarray(d2.min(1) <= MATCH_DELTA_E**2)


def persists(
    before: np.ndarray,
    changed: np.ndarray,
    after: np.ndarray,
    mask: np.ndarray,
    cells: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> Persistence:
    """before/changed/after: Lab frames of samples i-1, i and j (same size); mask: the changed pixels at i;
    cells: the three samples' grid Lab means, for the colour transforms."""
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        return Persistence(False, 0.0, 0.0)
    bh, bw = ys.max() + 1 - ys.min(), xs.max() + 1 - xs.min()
    pad_y, pad_x = max(3, int(0.3 * bh)), max(3, int(0.3 * bw))
    box = (
        max(0, int(xs.min()) - pad_x),
        max(0, int(ys.min()) - pad_y),
        min(w, int(xs.max()) + 1 + pad_x),
        min(h, int(ys.max()) + 1 + pad_y),
    )
    keep = cell_mask(cells[0].shape[:2], box, (h, w))
    to_after = [colour_transform(c, cells[2], keep) for c in cells[:2]]
    x0, y0, x1, y1 = box
    rng = np.random.default_rng(0)

    def region(lab: np.ndarray, gain: np.ndarray, offset: np.ndarray) -> np.ndarray:
        return np.asarray(_draw(lab[y0:y1, x0:x1].reshape(-1, 3) * gain + offset, _REGION_PIXELS, rng))

    ys, xs = _draw(np.stack([ys, xs], 1), _SAMPLES, rng).T
    new = changed[ys, xs] * to_after[1][0] + to_after[1][1]
    old = before[ys, xs] * to_after[0][0] + to_after[0][1]
    # at j, near each changed pixel (a few pixels of slack for sway): is the new colour there, and has the
    # old colour come back? A gesture or a passer-by leaves, and the old colour returns at its place.
    offsets = np.arange(-SLACK, SLACK + 1)
    wy = (ys[:, None, None] + SLACK + offsets[None, :, None]).repeat(len(offsets), 2)
    wx = (xs[:, None, None] + SLACK + offsets[None, None, :]).repeat(len(offsets), 1)

    def nearest(lab: np.ndarray, colours: np.ndarray) -> np.ndarray:
        pad = np.pad(lab, ((SLACK, SLACK), (SLACK, SLACK), (0, 0)), mode="edge")
        near = pad[wy, wx].reshape(len(ys), -1, 3)
        return np.asarray(np.sqrt(((near - colours[:, None, :]) ** 2).sum(-1)).min(1))

    d_new = nearest(after, new)
    d_old = nearest(after, old)
    moved = np.sqrt(((new - old) ** 2).sum(-1)) > 2 * MATCH_DELTA_E  # the pixel really changed colour
    # the new colour was not near this place before (in the after frame's light)
    fresh = nearest(before * to_after[0][0] + to_after[0][1], new) > MATCH_DELTA_E
    structure = _structure(before, changed, box)
    if not moved.any() or structure < SAME_STRUCTURE:
        return Persistence(False, 0.0, 0.0, structure)
    kept = float((fresh & (d_new <= MATCH_DELTA_E))[moved].mean())
    gone = float((d_old > MATCH_DELTA_E)[moved].mean())
    steady = _structure(changed, after, box)
    return Persistence(bool(kept >= NEW_KEPT_MIN and gone >= OLD_GONE_MIN), kept, gone, structure, steady)


def _structure(before: np.ndarray, changed: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Best correlation (±2 px) of the region's contrast-normalised lightness before and after the change.
    A re-coloured jacket or hair keeps its folds and strands; something arriving in front of the wall does not."""
    x0, y0, x1, y1 = box
    h, w = before.shape[:2]
    r = 2
    a = before[max(0, y0 - r) : min(h, y1 + r), max(0, x0 - r) : min(w, x1 + r), 0]
    b = changed[y0:y1, x0:x1, 0]
    if b.size < 16 or a.shape[0] < b.shape[0] or a.shape[1] < b.shape[1]:
        return 1.0
    res = cv2.matchTemplate(
        np.ascontiguousarray(a, np.float32), np.ascontiguousarray(b, np.float32), cv2.TM_CCOEFF_NORMED
    )
    return float(res.max())


def grow(mask: np.ndarray, px: int) -> np.ndarray:
    return cv2.dilate(mask.astype(np.uint8), np.ones((2 * px + 1, 2 * px + 1), np.uint8)) > 0
