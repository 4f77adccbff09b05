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

from .models import Break, BreakKind

# Absolute floors and how far above the local baseline a change must be.
CUT_MIN_DISSIMILARITY = 0.2  # 1 - correlation of aligned, contrast-normalised luma
CUT_MIN_SPREAD = 0.35  # and the change must cover this share of the frame's blocks
# and this share of the frame must find its colour at no candidate motion: a cut leaves 0.24-0.38 on the
# bench, a large re-coloured jacket (which can move the structure signals as much as a cut) at most 0.07
CUT_MIN_UNMATCHED = 0.15
GRADE_MIN_DELTA_E = 4.0  # frame-wide shared colour shift between two samples
NEW_COLOUR_MIN = 0.006  # share of pixels with colours the previous sample lacked
# Or a region that changed colour with no match at its own motion (motion.py): at least this share of the
# frame (0.4%, about a seventh of a face 1/4 of the frame high; a slow light change once left 0.32% on the
# bench), and well above the same signal in the neighbouring pairs.
LOCAL_MIN_AREA = 0.004
LOCAL_BASELINE_FACTOR = 4.0
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

_PRIORITY: dict[BreakKind, int] = {"cut": 3, "palette_shift": 2, "subject_drift": 1, "flicker": 0}


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


# (earlier sample index, later sample index) -> signals of that pair, for persistence checks.
Compare = Callable[[int, int], PairSignals]


def _baseline(values: np.ndarray, i: int, q: float = 50.0) -> float:
    """The larger of the medians before and after sample i (itself excluded): activity that starts or
    stops near i (a walker leaving frame, the end of a pan) keeps the baseline high on its side."""
    before = values[max(1, i - BASELINE_RADIUS) : i]
    after = values[i + 1 : i + 1 + BASELINE_RADIUS]
    sides = [float(np.percentile(x, q)) for x in (before, after) if x.size]
    return max(sides) if sides else 0.0


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
        elif grade[i] >= GRADE_MIN_DELTA_E and grade[i] >= BASELINE_FACTOR * _baseline(grade, i) + 0.5:
            kind = "palette_shift"
        by_new = new[i] >= NEW_COLOUR_MIN and new[i] >= BASELINE_FACTOR * _baseline(new, i) + 0.002
        # a barely-new colour set that the motion-compensated test matched everywhere is a blend at a moving
        # edge, not a re-render
        by_new = by_new and (p.unmatched > 0.0 or new[i] >= 2 * NEW_COLOUR_MIN)
        by_local = area[i] >= LOCAL_MIN_AREA and area[i] >= LOCAL_BASELINE_FACTOR * _baseline(area, i) + 0.001
        faint = 0.0 <= p.change_de00 < SUBJECT_MIN_DE00
        if kind is None and (by_new or by_local) and not faint:
            kind = "subject_drift"
        if kind is None:
            continue
        j = min(i + 2, n - 1)
        transient = False
        if j > i:
            later = compare(i - 1, j)
            if kind == "cut":
                transient = later.dissimilarity < PERSIST_RATIO * dis[i]
            elif kind == "palette_shift":
                transient = later.grade < PERSIST_RATIO * grade[i]
            else:
                # only the colour-set signal can be re-measured across a gap (the region will have moved);
                # a motion-compensated local change is taken as it is
                transient = by_new and not by_local and later.new_colour < PERSIST_RATIO * new[i]
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
                    f"local baseline {1 - _baseline(dis, i):.2f})",
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
                    magnitude=round(float(local[i]), 2),
                    detail=p.change_detail
                    or f"a region changed colour by ΔE {local[i]:.1f} "
                    f"({new[i]:.1%} of pixels took colours the previous sample lacked)",
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
    """One break per moment: when detections fall within MERGE_S, a flicker (it explains the others as
    transient) or else the most structural kind wins."""
    out: list[Break] = []
    for b in sorted(breaks, key=lambda b: b.time_s):
        if out and b.time_s - out[-1].time_s <= MERGE_S:
            keep = out[-1]
            if keep.kind == "flicker" or b.kind == "flicker":
                flick = [x for x in (keep, b) if x.kind == "flicker"]
                out[-1] = min(flick, key=lambda x: x.time_s)
            elif _PRIORITY[b.kind] > _PRIORITY[keep.kind]:
                out[-1] = b
            continue
        out.append(b)
    return out
