"""Per-sample signals and the pairwise measures the break detector reads.

Everything here is weight-free and cheap (a few ms a sample): colour statistics on a frame of at most
160 px, structure on at most 80 px. Lab is converted exactly per pixel (OpenCV's float sRGB -> CIELAB,
within 0.4 of scikit-image): a quantised lookup table would add steps of up to ~2 ΔE to a slow light
change, and change thresholds depend on small differences.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage

from .models import Region

COLOUR_SIDE = 160
GRAY_SIDE = 80
GRID = (9, 16)
# Coarse Lab bins (8 units) for "which colours does this frame contain"; neighbours count as present, so a
# colour must move by more than ~8-16 ΔE to count as new — above noise and slow light, below a re-render.
_CL, _CAB = 13, 32
COARSE_BINS = _CL * _CAB * _CAB
_HIST_L, _HIST_AB = 4, 8  # 256-bin histogram for the similarity feature vector
SPREAD_LEVEL = 0.04  # luma (0..1) change of a block's mean or contrast that counts as "changed"


def fast_lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of an RGB uint8 image, float32."""
    return np.asarray(cv2.cvtColor(rgb.astype(np.float32) * np.float32(1 / 255.0), cv2.COLOR_RGB2Lab))


def coarse_index(lab: np.ndarray) -> np.ndarray:
    li = np.clip((lab[..., 0] / 8).astype(np.int32), 0, _CL - 1)
    ai = np.clip(((lab[..., 1] + 128) / 8).astype(np.int32), 0, _CAB - 1)
    bi = np.clip(((lab[..., 2] + 128) / 8).astype(np.int32), 0, _CAB - 1)
    return np.asarray((li * _CAB + ai) * _CAB + bi, np.int32)


def occupied(counts: np.ndarray, total: int) -> np.ndarray:
    """Colours present in a frame: bins holding more than a sprinkle of pixels (noise tails excluded)."""
    return np.asarray(counts >= max(3, 0.0008 * total))


def present(counts: np.ndarray, total: int) -> np.ndarray:
    """Occupied bins grown by one bin (so drift within ~8 ΔE is not "new"), as packed bits."""
    occ = occupied(counts, total).reshape(_CL, _CAB, _CAB)
    for axis in range(3):  # separable 3x3x3 dilation, much cheaper than ndimage on this tiny grid
        grown = occ.copy()
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[axis], hi[axis] = slice(0, -1), slice(1, None)
        grown[tuple(lo)] |= occ[tuple(hi)]
        grown[tuple(hi)] |= occ[tuple(lo)]
        occ = grown
    return np.packbits(occ.ravel())


def unpack(bits: np.ndarray) -> np.ndarray:
    return np.unpackbits(bits, count=COARSE_BINS).astype(bool)


def resize(rgb: np.ndarray, side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    scale = min(1.0, side / max(h, w))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if size == (w, h):
        return rgb
    return np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA))


@dataclass
class SampleState:
    """What is kept of a sample once its frame is gone (a few KB)."""

    time_s: float
    counts_idx: np.ndarray  # sparse coarse-bin histogram: occupied bins
    counts_val: np.ndarray  # and their pixel counts
    present_bits: np.ndarray
    cells: np.ndarray  # GRID Lab means
    gray: np.ndarray  # luma 0..1 at GRAY_SIDE
    zgray: np.ndarray  # contrast-normalised luma, for structure
    feature: np.ndarray  # unit vector for cosine similarities
    hist: np.ndarray  # 256-bin colour histogram (sums to 1)
    mean_lab: np.ndarray
    mean_luma: float
    subject: Region | None = None
    subject_lab: np.ndarray | None = None

    def counts(self) -> np.ndarray:
        dense = np.zeros(COARSE_BINS, np.float64)
        dense[self.counts_idx] = self.counts_val
        return dense


@dataclass
class Frame:
    """The pixels of the sample being processed (only the current and previous are alive)."""

    rgb: np.ndarray  # analysis size
    small: np.ndarray  # colour side
    lab: np.ndarray
    idx: np.ndarray  # coarse bin per pixel


def make_frame(rgb: np.ndarray) -> Frame:
    small = resize(rgb, COLOUR_SIDE)
    lab = fast_lab(small)
    return Frame(rgb=rgb, small=small, lab=lab, idx=coarse_index(lab))


def make_state(time_s: float, fr: Frame) -> SampleState:
    counts = np.bincount(fr.idx.ravel(), minlength=COARSE_BINS)
    nz = np.flatnonzero(counts)
    h, w = fr.lab.shape[:2]
    gh, gw = min(GRID[0], h), min(GRID[1], w)
    ys = np.linspace(0, h, gh + 1).astype(int)
    xs = np.linspace(0, w, gw + 1).astype(int)
    cells = np.add.reduceat(np.add.reduceat(fr.lab, ys[:-1], axis=0), xs[:-1], axis=1)
    cells /= np.outer(np.diff(ys), np.diff(xs))[..., None]
    gray_rgb = resize(fr.small, GRAY_SIDE).astype(np.float32) / 255.0
    gray = gray_rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    blurred = cv2.blur(gray, (3, 3), borderType=cv2.BORDER_REFLECT)  # = ndimage.uniform_filter(gray, 3)
    zgray = (blurred - blurred.mean()) / (blurred.std() + 1e-3)
    li = np.clip((fr.lab[..., 0] / 25).astype(np.int32), 0, _HIST_L - 1)
    ai = np.clip(((fr.lab[..., 1] + 128) / 32).astype(np.int32), 0, _HIST_AB - 1)
    bi = np.clip(((fr.lab[..., 2] + 128) / 32).astype(np.int32), 0, _HIST_AB - 1)
    hist = np.bincount(((li * _HIST_AB + ai) * _HIST_AB + bi).ravel(), minlength=_HIST_L * _HIST_AB * _HIST_AB)
    hist = hist / hist.sum()
    return SampleState(
        time_s=time_s,
        counts_idx=nz.astype(np.int32),
        counts_val=counts[nz].astype(np.int32),
        present_bits=present(counts, int(fr.idx.size)),
        cells=cells.astype(np.float32),
        gray=gray,
        zgray=zgray,
        feature=_feature(hist, zgray),
        hist=hist,
        mean_lab=fr.lab.reshape(-1, 3).mean(0),
        mean_luma=float(gray.mean() * 255),
    )


def _feature(hist: np.ndarray, zgray: np.ndarray) -> np.ndarray:
    """Colour (Hellinger-embedded histogram) and layout (16x9 normalised luma), equal weight, unit norm."""
    colour = np.sqrt(hist)
    layout = resize_float(zgray, (GRID[1], GRID[0])).ravel()
    layout = layout / (np.linalg.norm(layout) + 1e-6)
    return np.concatenate([colour / (np.linalg.norm(colour) + 1e-9), layout]) / np.sqrt(2.0)


def resize_float(a: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return np.asarray(cv2.resize(a.astype(np.float32), size, interpolation=cv2.INTER_AREA))


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-9))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    side = min(a.shape)
    if side < 3:
        return float(1.0 - np.abs(a - b).mean())
    win = min(7, side if side % 2 else side - 1)
    return _ssim(a.astype(np.float32), b.astype(np.float32), win)


def _ssim(a: np.ndarray, b: np.ndarray, win: int) -> float:
    """skimage.metrics.structural_similarity(a, b, data_range=1, win_size=win) with box filters from OpenCV
    (same formula, sample covariance and border crop; ~10x faster on these small frames)."""

    def box(x: np.ndarray) -> np.ndarray:
        return np.asarray(cv2.blur(x, (win, win), borderType=cv2.BORDER_REFLECT))

    cov_norm = win * win / (win * win - 1.0)
    ux, uy = box(a), box(b)
    vx = cov_norm * (box(a * a) - ux * ux)
    vy = cov_norm * (box(b * b) - uy * uy)
    vxy = cov_norm * (box(a * b) - ux * uy)
    c1, c2 = 0.01**2, 0.03**2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    pad = (win - 1) // 2
    return float(s[pad : s.shape[0] - pad, pad : s.shape[1] - pad].astype(np.float64).mean())


def _phase_shift(
    a: np.ndarray, b: np.ndarray, fa: np.ndarray | None = None, fb: np.ndarray | None = None
) -> tuple[int, int]:
    """Integer shift from the peak of the (unnormalised) cross-correlation, as
    skimage.registration.phase_cross_correlation(a, b, normalization=None) computes it. `fa` and `fb` are
    np.fft.fft2 of a and b when the caller already has them."""
    fa = np.fft.fft2(a) if fa is None else fa
    fb = np.fft.fft2(b) if fb is None else fb
    cc = np.fft.ifft2(fa * np.conj(fb))
    peak = np.unravel_index(int(np.argmax(np.abs(cc))), cc.shape)
    shift = [int(p) - n if p > n // 2 else int(p) for p, n in zip(peak, cc.shape, strict=True)]
    return shift[0], shift[1]


def aligned_structure(prev: SampleState, cur: SampleState) -> tuple[float, tuple[int, int]]:
    """Correlation of normalised luma after removing a global translation (camera pan), and that shift."""
    a, b = prev.zgray, cur.zgray
    h, w = a.shape
    best = _corr(a, b)
    shift = (0, 0)
    if h >= 8 and w >= 8:
        dy, dx = _phase_shift(a, b)
        if (dy, dx) != (0, 0) and abs(dy) <= h // 4 and abs(dx) <= w // 4:
            pa, pb = overlap(a, b, (dy, dx))
            c = _corr(pa, pb)
            if c > best:
                best, shift = c, (dy, dx)
    return best, shift


def overlap(a: np.ndarray, b: np.ndarray, shift: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The parts of a and b that show the same scene when a[y, x] ≈ b[y - dy, x - dx]."""
    (h, w), (dy, dx) = a.shape[:2], shift
    return (
        a[max(dy, 0) : h - max(-dy, 0), max(dx, 0) : w - max(-dx, 0)],
        b[max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)],
    )


def change_spread(prev: SampleState, cur: SampleState, shift: tuple[int, int]) -> float:
    """Share of 4x6 blocks whose luma level or contrast changed after aligning any camera move.

    A cut changes nearly every block; a re-coloured jacket changes a few, however much it moves the
    global statistics.
    """
    a, b = overlap(prev.gray, cur.gray, shift)
    h, w = a.shape
    if h < 4 or w < 6:
        return 1.0
    ys = np.linspace(0, h, 5).astype(int)[:-1]
    xs = np.linspace(0, w, 7).astype(int)[:-1]
    area = np.outer(np.diff(np.append(ys, h)), np.diff(np.append(xs, w)))

    def stats(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = np.add.reduceat(np.add.reduceat(img, ys, axis=0), xs, axis=1) / area
        m2 = np.add.reduceat(np.add.reduceat(img * img, ys, axis=0), xs, axis=1) / area
        return m, np.sqrt(np.maximum(m2 - m * m, 0.0))

    (ma, sa), (mb, sb) = stats(a), stats(b)
    return float(np.mean((np.abs(ma - mb) > SPREAD_LEVEL) | (np.abs(sa - sb) > SPREAD_LEVEL)))


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    return float((a * b).sum() / (np.sqrt((a * a).sum() * (b * b).sum()) + 1e-9))


def new_colour_fraction(prev: SampleState, cur: SampleState) -> float:
    """Share of pixels whose colour the other frame lacks, in either direction (appeared or vanished)."""
    pc, cc = prev.counts(), cur.counts()
    appeared = cc[occupied(cc, int(cc.sum())) & ~unpack(prev.present_bits)].sum() / max(cc.sum(), 1.0)
    vanished = pc[occupied(pc, int(pc.sum())) & ~unpack(cur.present_bits)].sum() / max(pc.sum(), 1.0)
    return float(max(appeared, vanished))


def new_colour_masks(
    prev: SampleState, prev_fr: Frame, cur: SampleState, fr: Frame, shift: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Pixels of `fr` whose colour `prev` lacked, and pixels of `prev_fr` whose colour `cur` lacks.

    Strips a camera move brought into (or out of) view are excluded, and so are blobs touching the frame
    edge: something entering or leaving the frame is action, not a continuity break.
    """
    appeared, vanished = raw_new_colour_masks(prev, prev_fr, cur, fr, shift)
    return _drop_edge_blobs(appeared), _drop_edge_blobs(vanished)


def raw_new_colour_masks(
    prev: SampleState, prev_fr: Frame, cur: SampleState, fr: Frame, shift: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """new_colour_masks with the blobs at the frame edge kept (clothing of a tracked person reaches it)."""
    scale = fr.idx.shape[1] / cur.zgray.shape[1]
    pc, cc = prev.counts(), cur.counts()
    appeared = (occupied(cc, fr.idx.size) & ~unpack(prev.present_bits))[fr.idx]
    vanished = (occupied(pc, prev_fr.idx.size) & ~unpack(cur.present_bits))[prev_fr.idx]
    for mask, sh in ((appeared, shift), (vanished, (-shift[0], -shift[1]))):
        valid = valid_after_shift(mask.shape, sh, scale)
        if valid is not None:
            mask &= valid
    return appeared, vanished


def _drop_edge_blobs(mask: np.ndarray) -> np.ndarray:
    if not mask.any():
        return mask
    labels, _ = ndimage.label(mask, structure=np.ones((3, 3), bool))
    edge = np.unique(
        np.concatenate([labels[:2].ravel(), labels[-2:].ravel(), labels[:, :2].ravel(), labels[:, -2:].ravel()])
    )
    return mask & ~np.isin(labels, edge[edge > 0])


def grade_shift(prev: SampleState, cur: SampleState) -> float:
    """ΔE of the colour shift most cells share: a grade moves every cell alike; motion or a local change
    moves a few cells in different directions, so the component-wise median stays near zero."""
    delta = (cur.cells - prev.cells).reshape(-1, 3)
    return float(np.linalg.norm(np.median(delta, axis=0)))


def valid_after_shift(shape: tuple[int, int], shift: tuple[int, int], scale: float) -> np.ndarray | None:
    """Mask of the current frame's pixels that were already in view before a camera move."""
    dy, dx = round(shift[0] * scale), round(shift[1] * scale)
    if (dy, dx) == (0, 0):
        return None
    h, w = shape
    mask = np.ones((h, w), bool)
    margin = 1  # resampling smears the seam
    # cur[y, x] shows what prev had at [y + dy, x + dx]: rows/columns past prev's edge are new
    if dy > 0:
        mask[h - dy - margin :] = False
    elif dy < 0:
        mask[: -dy + margin] = False
    if dx > 0:
        mask[:, w - dx - margin :] = False
    elif dx < 0:
        mask[:, : -dx + margin] = False
    return mask


def saliency_region(fr: Frame) -> tuple[Region, np.ndarray] | None:
    """The subject as the largest blob of colours absent from the frame's border (top, left, right)."""
    h, w = fr.idx.shape
    m = max(2, round(0.08 * min(h, w)))
    border = np.concatenate([fr.idx[:m].ravel(), fr.idx[:, :m].ravel(), fr.idx[:, w - m :].ravel()])
    counts = np.bincount(border, minlength=COARSE_BINS)
    has = unpack(present(counts, int(border.size)))
    fg = ~has[fr.idx]
    fg = ndimage.binary_opening(fg, iterations=1)
    labels, n = ndimage.label(fg)
    if n == 0:
        return None
    sizes = np.bincount(labels.ravel())[1:]
    best = int(np.argmax(sizes)) + 1
    if sizes[best - 1] < 0.005 * h * w:
        return None
    ys, xs = np.nonzero(labels == best)
    box = Region(
        x=xs.min() / w,
        y=ys.min() / h,
        w=(xs.max() + 1 - xs.min()) / w,
        h=(ys.max() + 1 - ys.min()) / h,
        detector="colour_saliency",
    )
    return box, labels == best
