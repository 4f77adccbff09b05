"""Break detection: a sample-to-sample change is a break only when it stands out from its local baseline.

Each signal is compared with the median of its neighbours (±1 s, the sample itself excluded) as well as
an absolute floor. A pan, a walk, noise or a slow light change move every consecutive pair about the
same amount, so they raise the baseline instead of crossing it; a cut, a re-rendered jacket or a grade
jump happen between two samples. A candidate whose change is gone two samples later is a flicker.
Thresholds are set from bench/bench_media_accuracy.py (see the report there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import median_filter

from .models import Break, BreakKind, Region

# Absolute floors and how far above the local baseline a change must be.
CUT_MIN_DISSIMILARITY = 0.2  # 1 - correlation of aligned, contrast-normalised luma
CUT_MIN_SPREAD = 0.35  # and the change must cover this share of the frame's blocks
# and this share of the frame must find its colour at no candidate motion: a cut leaves 0.24-0.38 on the
# bench, a large re-coloured jacket (which can move the structure signals as much as a cut) at most 0.07
CUT_MIN_UNMATCHED = 0.15
# A cut between two takes of one set (_take_cut): a frame-wide colour step of at least this (ΔE) with a
# structure change of at least TAKE_MIN_DISSIMILARITY that is TAKE_STEP times the neighbouring pairs'. On the
# development footage such cuts step 10-60x; action in a still shot, with auto-exposure steps of up to
# ΔE 1.9, at most 1.4x.
TAKE_MIN_GRADE = 1.0
TAKE_MIN_DISSIMILARITY = 0.02
TAKE_STEP = 4.0
GRADE_MIN_DELTA_E = 4.0  # frame-wide shared colour shift between two samples
NEW_COLOUR_MIN = 0.006  # share of pixels with colours the previous sample lacked
# Or a region that changed colour with no match at its own motion (motion.py): at least this share of the
# frame (0.4%, about a seventh of a face 1/4 of the frame high; a slow light change once left 0.32% on the
# bench), and well above the same signal in the neighbouring pairs.
LOCAL_MIN_AREA = 0.004
LOCAL_BASELINE_FACTOR = 4.0
# and at least this many times the changed area of each neighbouring pair (planted changes on the development
# footage: 10x to 1000x; a passer-by's arm among people walking: 0.2x)
NEIGHBOUR_FACTOR = 2.0
# The changed region's mean colour must move at least this far (CIEDE2000): the smallest planted face change
# on the bench moves it by 4-5, while a slow light change that leaves a dark saturated region unmatched
# after the frame-wide gain correction moves it by 1-1.5.
SUBJECT_MIN_DE00 = 2.5
BASELINE_FACTOR = 4.0
BASELINE_RADIUS = 8  # samples each side
PERSIST_RATIO = 0.5  # a change that falls below half its size two samples on did not stay
MERGE_S = 0.3
FLICKER_MEDIAN_FRAMES = 9  # flashes up to 4 frames long leave the running median untouched
FLICKER_MIN_LUMA = 4.0
FLICKER_MIN_RELATIVE = 0.04

# A change must cover this share of its subject region (the head-and-hair region, the person, or the frame
# when there is no subject): a hair recolour or a tie against the person, not a fraction of the frame.
SUBJECT_MIN_SHARE = 0.01
# Without a subject region, a changed region must keep its lightness pattern this well from the change to
# PERSIST_S later (a recoloured, standing person: 0.96-1.0; people walking in front of the wall: 0.14-0.76)
STEADY_MIN = 0.9
CHANGE_MIN_AREA = 0.0008  # and this share of the frame (about 12 px of the 160 px colour frame): below is noise
# Transitions: a run of samples that are blends of the samples at its two ends (a dissolve), or of one of
# them and black (a fade), between two ends as different as across a cut.
TRANSITION_MAX_S = 3.0
TRANSITION_MAX_RESIDUAL = 0.3  # blend residual relative to the difference of the two ends
TRANSITION_MIN_MIXED = 2  # samples that are neither end
# a fade sample is one end at reduced contrast: below this gain, and that scaled end explains all but
# FADE_FIT of the sample's own variance (an empty frame between two busy ones is not a scaled end)
FADE_CONTRAST = 0.75
FADE_FIT = 0.25
# a mixed sample's blend weight (or fade gain) per block of a 4x6 grid: the middle half of the blocks (those
# with at least MIX_MIN_ENERGY of the mean block signal) within MIX_SPREAD of each other
MIX_BLOCKS = (4, 6)
MIX_MIN_ENERGY = 0.25
MIX_SPREAD = 0.25
MIXED_GAIN = 0.5  # a mixed sample's blend residual (squared) is at most this share of either end's alone

_PRIORITY: dict[BreakKind, int] = {
    "cut": 5,
    "transition": 4,
    "identity": 3,
    "palette_shift": 2,
    "subject_drift": 1,
    "flicker": 0,
}


@dataclass
class PairSignals:
    """Sample i against sample i-1."""

    dissimilarity: float
    spread: float
    grade: float
    new_colour: float
    local: float  # mean ΔE of the largest motion-compensated changed region
    local_area: float = 0.0  # its share of the frame
    unmatched: float = 1.0  # share of the frame with no colour match at any candidate motion (1 = unknown)
    change_detail: str = ""
    change_de00: float = -1.0  # CIEDE2000 of the changed region's mean colour before/after (-1 = unknown)
    change_area: float = 0.0  # share of the frame of the candidate changed region
    subject_area: float = 1.0  # share of the frame of the subject region it is measured against
    change_box: Region | None = None
    persistent: bool = False  # the region kept its new colours PERSIST_S later (persistence.py)
    on_subject: bool = False  # the change is centred on the subject region as it was before
    steady: float = 0.0  # lightness-pattern correlation of the changed region with itself PERSIST_S later
    persistence: str = ""


# (earlier sample index, later sample index) -> signals of that pair, for persistence checks.
Compare = Callable[[int, int], PairSignals]


def _baseline(values: np.ndarray, i: int, q: float = 50.0) -> float:
    """The larger of the medians before and after sample i (itself excluded): activity that starts or
    stops near i (a walker leaving frame, the end of a pan) keeps the baseline high on its side."""
    before = values[max(1, i - BASELINE_RADIUS) : i]
    after = values[i + 1 : i + 1 + BASELINE_RADIUS]
    sides = [float(np.percentile(x, q)) for x in (before, after) if x.size]
    return max(sides) if sides else 0.0


def _take_cut(dis: np.ndarray, grade: np.ndarray, i: int) -> bool:
    """A cut to another take of the same set, framing and light: too little of the structure changes for
    the cut rule (the set and most of the person stay), but two things step at the same instant — the
    structure, many times more than in the pairs on either side, and the frame-wide colour (another take
    is another moment: exposure and white balance differ). Within one take, action changes structure over
    several pairs and light drifts; a grade alone changes no structure."""
    neighbours = max(dis[i - 1] if i > 1 else 0.0, dis[i + 1] if i + 1 < len(dis) else 0.0)
    return bool(
        grade[i] >= TAKE_MIN_GRADE
        and grade[i] >= BASELINE_FACTOR * _baseline(grade, i) + 0.5
        and dis[i] >= TAKE_MIN_DISSIMILARITY
        and dis[i] >= TAKE_STEP * neighbours
        and dis[i] >= BASELINE_FACTOR * _baseline(dis, i) + 0.01
    )


def sample_breaks(times: list[float], pairs: list[PairSignals | None], compare: Compare) -> list[Break]:
    """pairs[i] compares sample i with i-1 (pairs[0] is None)."""
    n = len(times)
    if n < 2:
        return []
    dis = np.array([p.dissimilarity if p else 0.0 for p in pairs])
    grade = np.array([p.grade if p else 0.0 for p in pairs])
    new = np.array([p.new_colour if p else 0.0 for p in pairs])
    spread = np.array([p.spread if p else 0.0 for p in pairs])
    local = np.array([p.local if p else 0.0 for p in pairs])
    area = np.array([p.local_area if p else 0.0 for p in pairs])
    found: list[Break] = []
    for i in range(1, n):
        p = pairs[i]
        assert p is not None
        kind: BreakKind | None = None
        if (
            dis[i] >= CUT_MIN_DISSIMILARITY
            and spread[i] >= CUT_MIN_SPREAD
            and p.unmatched >= CUT_MIN_UNMATCHED
            and dis[i] >= BASELINE_FACTOR * _baseline(dis, i) + 0.05
        ):
            kind = "cut"
        elif _take_cut(dis, grade, i):
            kind = "cut"
        elif grade[i] >= GRADE_MIN_DELTA_E and grade[i] >= BASELINE_FACTOR * _baseline(grade, i) + 0.5:
            kind = "palette_shift"
        # a local change: big enough against its subject, standing out from the neighbouring pairs, not
        # faint, and still there PERSIST_S later (judged when the sample arrived)
        big = p.change_area >= max(CHANGE_MIN_AREA, SUBJECT_MIN_SHARE * p.subject_area)
        by_new = new[i] >= BASELINE_FACTOR * _baseline(new, i) + 0.001
        by_local = area[i] >= LOCAL_BASELINE_FACTOR * _baseline(area, i) + 0.0005
        faint = 0.0 <= p.change_de00 < SUBJECT_MIN_DE00
        # the same thing: on the subject as it was before, or (no subject found) a region that holds still
        # in view — what walks in and on does not
        same_thing = p.on_subject or p.steady >= STEADY_MIN
        # a re-render happens between two samples; in the middle of action (people walking past, a gesture)
        # the neighbouring pairs change as much or more
        around = max(area[i - 1], area[i + 1] if i + 1 < n else 0.0)
        alone = max(area[i], p.change_area) >= NEIGHBOUR_FACTOR * around
        if kind is None and big and (by_new or by_local) and alone and not faint and p.persistent and same_thing:
            kind = "subject_drift"
        if kind is None:
            continue
        j = min(i + 2, n - 1)
        transient = False
        if j > i:
            later = compare(i - 1, j)
            if kind == "cut":
                # a flash comes back to the frame before it; a cut stays nearer the frame after it
                transient = (
                    later.dissimilarity < PERSIST_RATIO * dis[i] and later.dissimilarity < compare(i, j).dissimilarity
                )
            elif kind == "palette_shift":
                transient = later.grade < PERSIST_RATIO * grade[i]
            # a subject change was judged for persistence when the later sample arrived
        if transient:
            size = max(dis[i], grade[i] / 100, local[i] / 100, new[i])
            found.append(
                Break(
                    time_s=round(times[i], 3),
                    kind="flicker",
                    magnitude=round(float(size), 4),
                    detail=f"a {kind.replace('_', ' ')}-sized change that was gone by {times[j]:.2f} s",
                )
            )
        elif kind == "cut":
            found.append(
                Break(
                    time_s=round(times[i], 3),
                    kind="cut",
                    magnitude=round(float(dis[i]), 4),
                    detail=f"image structure changed (aligned luma correlation {1 - dis[i]:.2f}, "
                    f"local baseline {1 - _baseline(dis, i):.2f})"
                    + (
                        f" and the whole frame's colour stepped by ΔE {grade[i]:.1f} at the same moment "
                        "(another take of the same set)"
                        if dis[i] < CUT_MIN_DISSIMILARITY
                        else ""
                    ),
                )
            )
        elif kind == "palette_shift":
            found.append(
                Break(
                    time_s=round(times[i], 3),
                    kind="palette_shift",
                    magnitude=round(float(grade[i]), 2),
                    detail=f"the whole frame shifted colour by ΔE {grade[i]:.1f} between samples "
                    f"(local baseline {_baseline(grade, i):.1f})",
                )
            )
        else:
            found.append(
                Break(
                    time_s=round(times[i], 3),
                    kind="subject_drift",
                    magnitude=round(float(max(local[i], p.change_de00)), 2),
                    detail=(
                        p.change_detail
                        or f"a region changed colour by ΔE {local[i]:.1f} "
                        f"({new[i]:.1%} of pixels took colours the previous sample lacked)"
                    )
                    + f"; {p.persistence}",
                    region=p.change_box,
                )
            )
    return found


def flicker_breaks(frame_times: list[float], luma: list[float]) -> list[Break]:
    """Flashes in the per-frame mean luma: departures from a running median that come back."""
    if len(luma) < FLICKER_MEDIAN_FRAMES:
        return []
    y = np.asarray(luma, np.float64)
    trend = median_filter(y, size=FLICKER_MEDIAN_FRAMES, mode="nearest")
    res = y - trend
    mad = float(np.median(np.abs(res - np.median(res)))) * 1.4826
    limit = np.maximum(np.maximum(FLICKER_MIN_LUMA, FLICKER_MIN_RELATIVE * trend), 6 * mad)
    hits = np.flatnonzero(np.abs(res) >= limit)
    found: list[Break] = []
    last_t = -1e9
    for k in hits:
        t = frame_times[k]
        if t - last_t <= MERGE_S and found:
            prev = found[-1]
            rel = abs(res[k]) / max(trend[k], 1.0)
            if rel > prev.magnitude:
                found[-1] = prev.model_copy(update={"magnitude": round(float(rel), 4)})
        else:
            rel = abs(res[k]) / max(trend[k], 1.0)
            found.append(
                Break(
                    time_s=round(t, 3),
                    kind="flicker",
                    magnitude=round(float(rel), 4),
                    detail=f"frame brightness jumped {'up' if res[k] > 0 else 'down'} {rel:.0%} "
                    "against its neighbours and came back",
                )
            )
        last_t = t
    return found


def merge(breaks: list[Break]) -> list[Break]:
    """One break per moment, by rule: a transition absorbs everything inside its span; a cut is never
    replaced and absorbs what falls within MERGE_S of it (an identity change across a cut is the cut);
    otherwise, within MERGE_S, a flicker explains the others as transient and else the higher kind wins."""
    spans = [b for b in breaks if b.kind == "transition"]
    rest = [
        b
        for b in breaks
        if b.kind != "transition"
        and not any((t.start_s or t.time_s) - MERGE_S <= b.time_s <= (t.end_s or t.time_s) + MERGE_S for t in spans)
    ]
    cuts = [b for b in rest if b.kind == "cut"]
    near_cut = 2 * MERGE_S  # identity descriptors are sampled every quarter second
    rest = [
        b
        for b in rest
        if b.kind == "cut"
        or not any(abs(b.time_s - c.time_s) <= (near_cut if b.kind == "identity" else MERGE_S) for c in cuts)
    ]
    out: list[Break] = []
    for b in sorted(rest, key=lambda b: b.time_s):
        if out and b.time_s - out[-1].time_s <= MERGE_S and "cut" not in (b.kind, out[-1].kind):
            keep = out[-1]
            if keep.kind == "flicker" or b.kind == "flicker":
                flick = [x for x in (keep, b) if x.kind == "flicker"]
                out[-1] = min(flick, key=lambda x: x.time_s)
            else:
                win, other = (b, keep) if _PRIORITY[b.kind] > _PRIORITY[keep.kind] else (keep, b)
                out[-1] = win.model_copy(
                    update={"detail": f"{win.detail}; at the same moment, {other.kind}: {other.detail}"}
                )
            continue
        out.append(b)
    return sorted(out + spans, key=lambda b: b.time_s)


def transition_breaks(times: list[float], grays: list[np.ndarray], compare: Compare) -> list[Break]:
    """Dissolves and fades: a window of samples each of which is a blend α·A + β·B of the window's two end
    samples A and B (least squares; black is the β = 0 or α = 0 of a fade), with at least
    TRANSITION_MIN_MIXED samples that are neither end and a blend weight that moves one way, between ends
    as different as across a cut. A hard cut has no mixed samples; motion is not a blend of its ends; a
    slow light change leaves both ends with the same structure. Overlapping windows are one transition,
    from the last sample before its first mixed sample to the first sample after its last."""
    n = len(times)
    if n < 4:
        return []
    flat = np.stack([g.astype(np.float64).ravel() for g in grays])
    flat -= flat.mean(axis=1, keepdims=True)  # each frame's own offset: exposure alone is not a blend
    dt = np.median(np.diff(times)) if n > 1 else 1.0
    width = max(3, int(TRANSITION_MAX_S / max(dt, 1e-3)))
    dots = {(a, b): float(flat[a] @ flat[b]) for a in range(n) for b in range(a, min(n, a + width + 1))}
    spans: list[tuple[int, int, float]] = []
    for a in range(n):
        for b in range(a + TRANSITION_MIN_MIXED + 1, min(n, a + width + 1)):
            hit = _blend(dots, a, b)
            if hit is None:
                continue
            ends = compare(a, b)
            if ends.dissimilarity < CUT_MIN_DISSIMILARITY or ends.spread < CUT_MIN_SPREAD:
                continue  # the two ends are one shot: light drifting, or something moving through
            first, last, worst = hit
            if not all(_mixes_evenly(flat[a], flat[b], flat[m], grays[0].shape) for m in range(first, last + 1)):
                continue  # parts of the frame changed at their own times: things moving, not a mix of shots
            spans.append((first - 1, last + 1, worst))
    found: list[Break] = []
    for a, b, worst in _union(spans):
        found.append(
            Break(
                time_s=round(0.5 * (times[a] + times[b]), 3),
                kind="transition",
                magnitude=round(float(compare(a, b).dissimilarity), 4),
                detail=f"a dissolve or fade from {times[a]:.2f} s to {times[b]:.2f} s: {b - a - 1} samples are "
                f"blends of the two ends (worst residual {worst:.2f} of their difference)",
                start_s=round(times[a], 3),
                end_s=round(times[b], 3),
            )
        )
    return found


def _blend(dots: dict[tuple[int, int], float], a: int, b: int) -> tuple[int, int, float] | None:
    """(first mixed sample, last mixed sample, worst residual) when every sample strictly between a and b
    is a blend of them with a weight on b that does not go back."""

    def dot(x: int, y: int) -> float:
        return dots[(x, y)] if x <= y else dots[(y, x)]

    aa, ab, bb = dot(a, a), dot(a, b), dot(b, b)
    det = aa * bb - ab * ab
    scale2 = aa - 2 * ab + bb
    if det <= 1e-9 * (aa * bb + 1e-12) or scale2 <= 1e-9:
        return None
    mixed: list[int] = []
    worst = 0.0
    last_beta = -1e9
    for m in range(a + 1, b):
        am, bm, mm = dot(a, m), dot(b, m), dot(m, m)
        al = (bb * am - ab * bm) / det
        be = (aa * bm - ab * am) / det
        resid2 = max(0.0, mm - (al * am + be * bm))
        resid = float(np.sqrt(resid2 / scale2))
        worst = max(worst, resid)
        if resid > TRANSITION_MAX_RESIDUAL or be < last_beta - 0.15:
            return None
        last_beta = max(last_beta, be)
        # mixed: neither end alone (at any gain and offset) explains the sample nearly as well as the blend
        # (a dissolve), or it is one end at reduced contrast (a fade through black)
        res_a, res_b = mm - am * am / aa, mm - bm * bm / bb
        faded = any(0.0 < g < FADE_CONTRAST and res <= FADE_FIT * mm for g, res in ((am / aa, res_a), (bm / bb, res_b)))
        if resid2 <= MIXED_GAIN * min(res_a, res_b) or faded:
            mixed.append(m)
    if len(mixed) < TRANSITION_MIN_MIXED:
        return None
    return mixed[0], mixed[-1], worst


def _block_dots(x: np.ndarray, y: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Per block of a MIX_BLOCKS grid, the dot product of two flattened frames of `shape`."""
    h, w = shape
    gy, gx = MIX_BLOCKS
    prod = (x * y).reshape(h, w)[: h - h % gy, : w - w % gx]
    return np.asarray(prod.reshape(gy, h // gy, gx, w // gx).sum(axis=(1, 3)).ravel())


def _mixes_evenly(a: np.ndarray, b: np.ndarray, m: np.ndarray, shape: tuple[int, int]) -> bool:
    """Whether sample m is the same mix everywhere: a dissolve blends every part of the frame with one
    weight, a fade scales every part of one end with one gain. Per block (where the blocks' own signal is
    not negligible), the blend weight of m between a and b, or its gain on a or on b; the mix is even when
    for one of the three the blocks' middle half lies within MIX_SPREAD."""
    for fade, ref, num in ((False, b - a, m - a), (True, a, m), (True, b, m)):
        energy = _block_dots(ref, ref, shape)
        use = energy >= MIX_MIN_ENERGY * energy.mean()
        if use.sum() < 4:
            continue  # the difference sits in a few blocks: something moved, the frame did not mix
        weight = _block_dots(num, ref, shape)[use] / energy[use]
        q1, mid, q3 = np.percentile(weight, [25, 50, 75])
        # a fade sample is its end at clearly reduced contrast; at gain ~1 it is just that end again
        if q3 - q1 <= MIX_SPREAD and (not fade or 0.0 < mid < FADE_CONTRAST):
            return True
    return False


def _union(spans: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    out: list[tuple[int, int, float]] = []
    for a, b, worst in sorted(spans):
        if out and a <= out[-1][1]:
            pa, pb, pw = out[-1]
            out[-1] = (pa, max(pb, b), min(pw, worst))
        else:
            out.append((a, b, worst))
    return out
