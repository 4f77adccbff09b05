"""Does a local colour change persist? The test that separates a re-rendered subject from action.

A candidate is a region that changed colour between samples i-1 and i. It is a subject break only if,
about half a second later (sample j), the region still shows the new colours and no longer shows the
old ones, with both frames first brought into sample j's light by a colour transform fitted to the rest
of the frame. A gesture, a hand near the lens, a passer-by, a head turn or compression noise either
come back to the old colours or leave them in view; a slow light change or a grade is the fitted transform.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
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
# how far (share of the frame each way) a changed region is looked for PERSIST_S later: a pan or a walk
# crosses up to about an eighth of the frame in half a second
MOVE_SEARCH = 0.15
GAIN_MIN_SPREAD = 3.0  # Lab units of spread across the cells below which a channel gets no gain
GAIN_MIN_CORR = 0.8
GONE_RATIO = 3.0
# subtle changes (region mean): at least this Lab step, and the mean at j within (1 - SUBTLE_KEPT) of the step
# from the new mean and at least SUBTLE_KEPT of it from the old one
SUBTLE_MIN_STEP = 4.0
SUBTLE_KEPT = 0.65


@dataclass
class Persistence:
    persists: bool
    new_kept: float
    old_gone: float
    structure: float = 1.0
    steady: float = 1.0  # the same correlation between the change and PERSIST_S later: it stayed in view


class FrameMemo:
    """What the test derives from a Lab frame (its edges, its lightness spectrum), computed once: a frame is
    the "after" of every candidate pending at its time and the "before" or "changed" of its own ones."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[np.ndarray, dict[str, np.ndarray]]] = {}

    def get(self, lab: np.ndarray, kind: str, make: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        entry = self._entries.get(id(lab))
        if entry is None or entry[0] is not lab:  # the frame itself is held, so its id is not reused
            entry = (lab, {})
            self._entries[id(lab)] = entry
        value = entry[1].get(kind)
        if value is None:
            value = entry[1][kind] = make(lab)
        return value

    def keep(self, labs: Iterable[np.ndarray]) -> None:
        """Forget every frame but these."""
        wanted = {id(lab) for lab in labs}
        self._entries = {k: v for k, v in self._entries.items() if k in wanted}

    def edges(self, lab: np.ndarray) -> np.ndarray:
        return self.get(lab, "edges", _edges)

    def spectrum(self, lab: np.ndarray) -> np.ndarray:
        return self.get(lab, "spectrum", lambda x: np.fft.fft2(x[..., 0]))


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
            # the gain only where the cells span enough of the channel to fix it, and as the ratio of the
            # spreads (least squares shrinks it towards 0 when both sides are noisy); else an offset alone
            sx, sy = float(x.std()), float(y.std())
            r = float(((x - x.mean()) * (y - y.mean())).mean() / (sx * sy)) if sx > 0 and sy > 0 else 0.0
            g = sy / sx if sx >= GAIN_MIN_SPREAD and r >= GAIN_MIN_CORR else 1.0
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
    memo: FrameMemo | None = None,
) -> Persistence:
    """before/changed/after: Lab frames of samples i-1, i and j (same size); mask: the changed pixels at i;
    cells: the three samples' grid Lab means, for the colour transforms; memo: the frames' derived values,
    shared by the tests of one clip."""
    memo = memo or FrameMemo()
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
    tight = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    grid = cells[0].shape[:2]
    to_after = [_aligned_transform(lab, after, box, grid, memo) for lab in (before, changed)]
    rng = np.random.default_rng(0)
    ys, xs = _draw(np.stack([ys, xs], 1), _SAMPLES, rng).T
    new = changed[ys, xs] * to_after[1][0] + to_after[1][1]
    old = before[ys, xs] * to_after[0][0] + to_after[0][1]
    before_j = before * to_after[0][0] + to_after[0][1]
    # near each changed pixel (a few pixels of slack for sway): the colours of a frame around it
    offsets = np.arange(-SLACK, SLACK + 1)

    def around(lab: np.ndarray, dy: int = 0, dx: int = 0) -> np.ndarray:
        p = SLACK + max(abs(dy), abs(dx))
        pad = np.pad(lab, ((p, p), (p, p), (0, 0)), mode="edge")
        wy = (ys[:, None, None] + p + dy + offsets[None, :, None]).repeat(len(offsets), 2)
        wx = (xs[:, None, None] + p + dx + offsets[None, None, :]).repeat(len(offsets), 1)
        return np.asarray(pad[wy, wx].reshape(len(ys), -1, 3))

    def nearest(near: np.ndarray, colours: np.ndarray) -> np.ndarray:
        return np.asarray(np.sqrt(((near - colours[:, None, :]) ** 2).sum(-1)).min(1))

    moved = np.sqrt(((new - old) ** 2).sum(-1)) > 2 * MATCH_DELTA_E  # the pixel really changed colour
    # the new colour was not near this place before (in the after frame's light), nor a mix of two colours
    # that were: an edge that moved by a fraction of a pixel (sway, motion blur) blends its two sides anew
    near_before = around(before_j)
    # (a mix happens between neighbouring pixels: the 3x3 around each pixel, not the whole slack window)
    inner = offsets.size // 2 - 1, offsets.size // 2, offsets.size // 2 + 1
    adjacent = near_before.reshape(len(ys), offsets.size, offsets.size, 3)[:, inner][:, :, inner].reshape(len(ys), 9, 3)
    fresh = (nearest(near_before, new) > MATCH_DELTA_E) & (_blend_distance(adjacent, new) > MATCH_DELTA_E)
    # nor where the region came from: something that moved (a car, a walker) brings its colours along; a
    # re-rendered one had other colours there
    came_from = _displacement(changed, before, tight, memo, edges=True)
    structure = _structure(before, changed, box, memo)
    # only a move beyond the slack that matches better than the region's own place counts: in a still shot
    # the best match wanders by a pixel or two, onto surroundings that may have the new colour
    if (
        came_from is not None
        and max(abs(came_from[0][0]), abs(came_from[0][1])) > SLACK
        and came_from[1] >= max(SAME_STRUCTURE, structure + 0.05)
    ):
        fresh &= nearest(around(before_j, *came_from[0]), new) > MATCH_DELTA_E
        # the same thing, found where it was a sample earlier (it moved); its colours there are judged above
        structure = max(structure, came_from[1])
    if structure < SAME_STRUCTURE:
        return Persistence(False, 0.0, 0.0, structure)
    if not moved.any():
        return _subtle(new, old, after, ys, xs, structure, _structure(changed, after, box, memo))
    # at j: is the new colour there, and has the old colour come back? A gesture or a passer-by leaves, and
    # the old colour returns at its place. The region is looked for where it went too (a pan, or the
    # subject walking): at its own place, and at the displacement where its lightness pattern is found at j.
    best: tuple[float, float] | None = None
    steady = _structure(changed, after, box, memo)
    shifts = [(0, 0)]
    moved_to = _displacement(changed, after, tight, memo)
    if moved_to is not None and moved_to[0] != (0, 0):
        shifts.append(moved_to[0])
        steady = max(steady, moved_to[1])
    for dy, dx in shifts:
        near_after = around(after, dy, dx)
        d_new, d_old = nearest(near_after, new), nearest(near_after, old)
        kept = float((fresh & (d_new <= MATCH_DELTA_E))[moved].mean())
        # gone: no pixel around has the old colour, or (a subtle change, where noise puts some pixel of the
        # window near the old colour) the nearest old colour is several times farther than the new one
        gone = float(((d_old > MATCH_DELTA_E) | (d_old > GONE_RATIO * d_new + 1.0))[moved].mean())
        if best is None or min(kept / NEW_KEPT_MIN, gone / OLD_GONE_MIN) > min(
            best[0] / NEW_KEPT_MIN, best[1] / OLD_GONE_MIN
        ):
            best = (kept, gone)
    assert best is not None
    kept, gone = best
    return Persistence(bool(kept >= NEW_KEPT_MIN and gone >= OLD_GONE_MIN), kept, gone, structure, steady)


def _subtle(
    new: np.ndarray, old: np.ndarray, after: np.ndarray, ys: np.ndarray, xs: np.ndarray, structure: float, steady: float
) -> Persistence:
    """A change too small for the per-pixel test (every pixel moved by less than 2 MATCH_DELTA_E): judged on
    the region's mean colour, where noise averages out. It stayed when the mean at j (same place) is much
    nearer the new mean than the old one is."""
    m_new, m_old, m_j = new.mean(0), old.mean(0), after[ys, xs].mean(0)
    step = float(np.linalg.norm(m_new - m_old))
    if step < SUBTLE_MIN_STEP:
        return Persistence(False, 0.0, 0.0, structure, steady)
    off = float(np.linalg.norm(m_j - m_new))
    kept = max(0.0, 1.0 - off / step)
    gone = min(1.0, float(np.linalg.norm(m_j - m_old)) / step)
    return Persistence(bool(kept >= SUBTLE_KEPT and gone >= SUBTLE_KEPT), kept, gone, structure, steady)


def _aligned_transform(
    src: np.ndarray, dst: np.ndarray, box: tuple[int, int, int, int], grid: tuple[int, int], memo: FrameMemo
) -> tuple[np.ndarray, np.ndarray]:
    """colour_transform from `src` to `dst` (Lab frames) on grid cells of the rest of the frame, after taking
    out a camera move between them: during a pan the same cell shows other things half a second later."""
    from .signals import _corr, _phase_shift, overlap

    h, w = src.shape[:2]
    dy, dx = _phase_shift(src[..., 0], dst[..., 0], memo.spectrum(src), memo.spectrum(dst))
    if (
        abs(dy) > h // 4
        or abs(dx) > w // 4
        or _corr(*overlap(src[..., 0], dst[..., 0], (dy, dx))) <= _corr(src[..., 0], dst[..., 0])
    ):
        dy, dx = 0, 0  # no camera move: the peak came from something moving in a still frame
    a, b = overlap(src, dst, (dy, dx))
    oy, ox = max(dy, 0), max(dx, 0)  # a[y, x] is src[y + oy, x + ox]
    x0, y0, x1, y1 = box
    ah, aw = a.shape[:2]
    gh, gw = min(grid[0], ah), min(grid[1], aw)
    keep = cell_mask((gh, gw), (x0 - ox, y0 - oy, x1 - ox, y1 - oy), (ah, aw))
    return colour_transform(_cells(a, gh, gw), _cells(b, gh, gw), keep)


def _cells(lab: np.ndarray, gh: int, gw: int) -> np.ndarray:
    h, w = lab.shape[:2]
    ys = np.linspace(0, h, gh + 1).astype(int)
    xs = np.linspace(0, w, gw + 1).astype(int)
    sums = np.add.reduceat(np.add.reduceat(lab.astype(np.float64), ys[:-1], axis=0), xs[:-1], axis=1)
    return np.asarray(sums / np.outer(np.diff(ys), np.diff(xs))[..., None], np.float32)


def _blend_distance(near: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """Per colour, its Lab distance to the nearest mix of two colours around it (segments between pairs of
    the (n, k, 3) neighbourhood colours; k is small)."""
    k = near.shape[1]
    ia, ib = np.triu_indices(k, 1)
    a, b = near[:, ia], near[:, ib]  # (n, pairs, 3)
    ab = b - a
    c = colours[:, None, :] - a
    t = np.clip((c * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-6), 0.0, 1.0)
    d = c - t[..., None] * ab
    return np.asarray(np.sqrt((d * d).sum(-1)).min(1))


def _displacement(
    changed: np.ndarray, after: np.ndarray, box: tuple[int, int, int, int], memo: FrameMemo, edges: bool = False
) -> tuple[tuple[int, int], float] | None:
    """Where the region's lightness pattern (at the change) is found in another frame, within MOVE_SEARCH of
    the frame each way: (dy, dx) and the correlation there, or None when the region is too small to place.
    With `edges`, its colour edges instead (Lab gradient magnitude, with 2 px of its surroundings): across
    the change itself the colours differ but the outline does not."""
    x0, y0, x1, y1 = box
    h, w = after.shape[:2]
    if edges:
        x0, y0, x1, y1 = max(0, x0 - 2), max(0, y0 - 2), min(w, x1 + 2), min(h, y1 + 2)
        src, dst = memo.edges(changed), memo.edges(after)
    else:
        src, dst = changed[..., 0], after[..., 0]
    ry, rx = max(2, int(MOVE_SEARCH * h)), max(2, int(MOVE_SEARCH * w))
    tpl = src[y0:y1, x0:x1]
    if tpl.size < 16 or float(tpl.std()) < 1.0:
        return None
    sy0, sx0 = max(0, y0 - ry), max(0, x0 - rx)
    area = dst[sy0 : min(h, y1 + ry), sx0 : min(w, x1 + rx)]
    if area.shape[0] < tpl.shape[0] or area.shape[1] < tpl.shape[1]:
        return None
    res = cv2.matchTemplate(
        np.ascontiguousarray(area, np.float32), np.ascontiguousarray(tpl, np.float32), cv2.TM_CCOEFF_NORMED
    )
    _, peak, _, (px, py) = cv2.minMaxLoc(res)
    return (sy0 + py - y0, sx0 + px - x0), float(peak)


def _structure(before: np.ndarray, changed: np.ndarray, box: tuple[int, int, int, int], memo: FrameMemo) -> float:
    """Best correlation (±2 px) of the region's shape before and after the change: its contrast-normalised
    lightness, or (for flat regions whose lightness the recolour moved to that of their surroundings, or
    inverted) its colour edges, the Lab gradient magnitude. A re-coloured jacket or hair keeps its outline,
    folds and strands; something arriving in front of the wall brings edges the wall did not have."""
    x0, y0, x1, y1 = box
    h, w = before.shape[:2]
    r = 2
    big = (slice(max(0, y0 - r), min(h, y1 + r)), slice(max(0, x0 - r), min(w, x1 + r)))
    small = (slice(y0, y1), slice(x0, x1))
    if (y1 - y0) * (x1 - x0) < 16 or big[0].stop - big[0].start < y1 - y0 or big[1].stop - big[1].start < x1 - x0:
        return 1.0

    def match(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.asarray(
            cv2.matchTemplate(
                np.ascontiguousarray(a, np.float32), np.ascontiguousarray(b, np.float32), cv2.TM_CCOEFF_NORMED
            )
        )

    # a recolour can turn a light jacket darker than what is around it: the edges stay with their sign flipped
    res = match(before[(*big, 0)], changed[(*small, 0)])
    light = float(max(res.max(), -res.min()))
    edges = float(match(memo.edges(before)[big], memo.edges(changed)[small]).max())
    return max(light, edges)


def _edges(lab: np.ndarray) -> np.ndarray:
    """Lab gradient magnitude (ΔE per pixel), lightly blurred so a pixel of sway does not decorrelate it."""
    gx = cv2.Sobel(lab, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(lab, cv2.CV_32F, 0, 1, ksize=3)
    mag = np.sqrt((gx * gx + gy * gy).sum(-1))
    return np.asarray(cv2.blur(mag, (3, 3)))


def grow(mask: np.ndarray, px: int) -> np.ndarray:
    return cv2.dilate(mask.astype(np.uint8), np.ones((2 * px + 1, 2 * px + 1), np.uint8)) > 0
