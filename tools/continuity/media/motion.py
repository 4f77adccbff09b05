"""Motion-compensated local colour change: a region that changed colour, not one that moved.

Each pixel of the current sample looks for its colour in the previous sample at a few candidate
displacements (the camera's shift and the displacement of every tile that moved, e.g. a walking
character), each with ±1 pixel of slack. What finds no match anywhere is changed; a 3x3 erosion keeps
only changes that fill an area (edges blended by sub-pixel motion do not), and changed blobs touching the
frame edge are dropped (something entering or leaving is action, not a re-render). A sub-pixel sway, a
pan or a walk find their colours at their displacement; a re-coloured face does not find its new colour
anywhere nearby, however subtle (ΔE ≥ ~4).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

TILE = 4  # tiles of the 80 px luma grid whose motion is estimated separately
SEARCH = 3  # ±3 px at 80 px wide = ±12 px at 320: a brisk walk between two samples 1/8 s apart
CHANGE_DELTA_E = 4.0  # Lab distance with no match at any candidate displacement
_KERNEL = np.ones((3, 3), np.uint8)
_MATCHED_SQ = np.float32(CHANGE_DELTA_E**2)
# above this share of unmatched pixels _unmatched slices whole frames instead of gathering the pixels
_GATHER_SHARE = 0.1


@dataclass
class LocalChange:
    area: float  # fraction of the frame covered by the largest interior changed blob
    delta_e: float  # its mean residual colour distance (Lab Euclidean)
    box: tuple[float, float, float, float] | None  # x, y, w, h as fractions of the frame
    unmatched: float = 0.0  # share of the frame changed both ways, all blobs: most of it after a cut
    mask: np.ndarray | None = None  # the largest interior blob's pixels
    changed: np.ndarray | None = None  # every changed pixel, blobs at the frame edge included


def tile_motion(prev_gray: np.ndarray, cur_gray: np.ndarray) -> set[tuple[int, int]]:
    """Distinct displacements (dy, dx) of TILE x TILE tiles: cur[y, x] ≈ prev[y + dy, x + dx]."""
    h, w = cur_gray.shape
    th, tw = h // TILE, w // TILE
    if th == 0 or tw == 0:
        return {(0, 0)}
    r = SEARCH
    pad = cv2.copyMakeBorder(prev_gray.astype(np.float32), r, r, r, r, cv2.BORDER_REPLICATE)
    cur = np.ascontiguousarray(cur_gray[: th * TILE, : tw * TILE], np.float32)
    n = 2 * r + 1
    offsets = [(dy, dx) for dy in range(-r, r + 1) for dx in range(-r, r + 1)]
    # every displacement's difference at once, stacked into one tall image whose area resize is the mean of
    # squares over each tile: one C call instead of one per displacement, the same values (a tile never
    # straddles two displacements, as TILE divides the stacked heights)
    d = (sliding_window_view(pad, cur.shape)[:n, :n] - cur).reshape(n * n * th * TILE, tw * TILE)
    costs = np.asarray(cv2.resize(d * d, (tw, n * n * th), interpolation=cv2.INTER_AREA)).reshape(n * n, th, tw)
    zero = costs[len(offsets) // 2]
    best = costs.argmin(0)
    # a tile keeps "no motion" unless another displacement is clearly better (flat tiles match anywhere)
    moved = costs.min(0) < 0.5 * zero - 1e-4
    return {(0, 0)} | {offsets[int(k)] for k in np.unique(best[moved])}


def local_colour_change(
    prev_lab: np.ndarray, cur_lab: np.ndarray, prev_gray: np.ndarray, cur_gray: np.ndarray, shift: tuple[int, int]
) -> LocalChange:
    """The largest area of `cur_lab` whose colour `prev_lab` has at no candidate displacement.

    `shift` is the camera's shift on the luma grid (cur[y, x] ≈ prev[y + dy, x + dx]); the Lab frames may be a
    multiple of the luma grid's size.
    """
    h, w = cur_lab.shape[:2]
    scale = w / cur_gray.shape[1]
    moves = tile_motion(prev_gray, cur_gray) | {shift}
    cands = {
        (round(dy * scale) + ey, round(dx * scale) + ex) for dy, dx in moves for ey in (-1, 0, 1) for ex in (-1, 0, 1)
    }
    # a light change scales Lab roughly alike (L*, a*, b* follow the cube root of a gain) and a grade shifts
    # it: take the shared gain, then the shared shift, out first
    gain = float(np.median(cur_lab[::2, ::2, 0])) / max(float(np.median(prev_lab[::2, ::2, 0])), 1.0)
    prev_lab = prev_lab * np.float32(gain if 0.5 < gain < 2.0 else 1.0)
    cur_lab = cur_lab - np.median((cur_lab[::2, ::2] - prev_lab[::2, ::2]).reshape(-1, 3), axis=0)
    fwd = _unmatched(prev_lab, cur_lab, cands)
    # the same test backwards: a re-coloured region is unmatched both ways at (nearly) the same place, while
    # background a walker uncovers is unmatched only forwards and what it covers only backwards, a body apart
    bwd = _unmatched(cur_lab, prev_lab, {(-dy, -dx) for dy, dx in cands})
    reach = 2 * max(max(abs(a), abs(b)) for a, b in moves) * round(scale) + 3
    near_bwd = cv2.dilate((bwd > CHANGE_DELTA_E).astype(np.uint8), np.ones((reach, reach), np.uint8))
    mask = ((fwd > CHANGE_DELTA_E) & (near_bwd > 0)).astype(np.uint8)
    residual = fwd
    if not mask.any():
        return LocalChange(0.0, 0.0, None)
    unmatched = float(mask.mean())
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    area, best_k = 0, 0
    for k in range(1, n):
        x, y, bw, bh, a = (int(v) for v in stats[k])
        if x <= 1 or y <= 1 or x + bw >= w - 1 or y + bh >= h - 1:
            continue
        if a > area:
            area, best_k = a, k
    if best_k == 0:
        return LocalChange(0.0, 0.0, None, unmatched, None, mask > 0)
    x, y, bw, bh, _ = (int(v) for v in stats[best_k])
    blob = labels == best_k
    de = float(residual[blob].mean())
    return LocalChange(area / (h * w), de, (x / w, y / h, bw / w, bh / h), unmatched, blob, mask > 0)


def _unmatched(prev_lab: np.ndarray, cur_lab: np.ndarray, cands: set[tuple[int, int]]) -> np.ndarray:
    """Per pixel of cur, the Lab distance to the nearest colour of prev at any candidate displacement,
    eroded 3x3 so only changes filling an area remain.

    Exact above CHANGE_DELTA_E, which is all the callers read: a pixel that matches within it at some
    candidate is not tried at the others (its value is then some distance ≤ CHANGE_DELTA_E).
    """
    h, w = cur_lab.shape[:2]
    p = max(max(abs(a), abs(b)) for a, b in cands)
    pad = cv2.copyMakeBorder(np.ascontiguousarray(prev_lab, np.float32), p, p, p, p, cv2.BORDER_REPLICATE)
    cur = np.ascontiguousarray(cur_lab, np.float32)
    ones = np.ones((1, 3), np.float32)
    # nearly every pixel finds its colour within a pixel of where it was: those candidates run on the whole
    # frame, and only the pixels still unmatched (~1% in a still shot) are tried at the rest, in one gather
    ordered = sorted(cands, key=lambda c: (max(abs(c[0]), abs(c[1])), c))
    split = max(1, sum(max(abs(dy), abs(dx)) <= 1 for dy, dx in ordered))
    best = np.full((h, w), np.inf, np.float32)
    d, dist = np.empty_like(cur), np.empty((h, w), np.float32)

    def whole_frame(dy: int, dx: int) -> None:
        # in place, in OpenCV: the same float32 arithmetic as numpy's, without a temporary per step
        cv2.subtract(pad[p + dy : p + dy + h, p + dx : p + dx + w], cur, dst=d)
        cv2.multiply(d, d, dst=d)
        cv2.transform(d, ones, dst=dist)
        cv2.min(best, dist, dst=best)

    for dy, dx in ordered[:split]:
        whole_frame(dy, dx)
    rest = ordered[split:]
    todo = np.flatnonzero(best > _MATCHED_SQ)
    if rest and todo.size > _GATHER_SHARE * h * w:
        # a cut or a large change: most pixels are tried everywhere, and whole-frame slices are cheaper
        for dy, dx in rest:
            whole_frame(dy, dx)
    elif rest and todo.size:
        wp = w + 2 * p
        ys, xs = np.divmod(todo, w)
        offsets = np.array([dy * wp + dx for dy, dx in rest], np.intp)
        near = pad.reshape(-1, 3)[((ys + p) * wp + xs + p)[:, None] + offsets[None, :]]
        diff = near - cur.reshape(-1, 3)[todo][:, None, :]
        # cv2.transform sums the squares in the same order as on the whole frame: the same float32 values
        far = np.asarray(cv2.transform(np.ascontiguousarray(diff * diff), ones)).reshape(todo.size, len(rest))
        flat = best.reshape(-1)
        flat[todo] = np.minimum(flat[todo], far.min(1))
    return np.asarray(cv2.erode(np.sqrt(best), _KERNEL))
