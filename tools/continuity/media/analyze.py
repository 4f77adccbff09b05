"""analyze_media: decode, measure each sample, find breaks, compare with references. Synchronous."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from skimage.color import deltaE_ciede2000

from core.colour import lab_to_hex

from . import breaks as brk
from .decode import VideoInfo, _check_file, iter_video, load_image, prefetch
from .faces import detect_face
from .models import Finding, MediaAnalysis, Region, Sample
from .motion import local_colour_change
from .palette import HIST_SIZE, check_palette, lab_histogram, palette_from_histogram
from .references import check_reference, check_transition
from .signals import (
    Frame,
    SampleState,
    aligned_structure,
    change_spread,
    cosine,
    grade_shift,
    make_frame,
    make_state,
    new_colour_fraction,
    new_colour_masks,
    saliency_region,
    ssim,
)

log = logging.getLogger(__name__)

FACE_EVERY_S = 2.0  # the cascade is the costliest signal; faces do not move far in 2 s
SALIENCY_EVERY_S = 1.0
TRANSITION_S = 0.5  # "last frames" / "first frames" of a shot
_SEVERITY = {"subject_drift": "error", "cut": "warning", "palette_shift": "warning", "flicker": "warning"}


def analyze_media(
    path: str | Path,
    *,
    brand_palette: Sequence[str] = (),
    reference_images: Sequence[str | Path] = (),
    previous_clip: str | Path | None = None,
    max_side: int = 320,
) -> MediaAnalysis:
    """Continuity analysis of a video (or a still image) with a timeline of breaks.

    Raises MediaError when the file (or a reference) is not a readable, complete video or image.
    """
    path = Path(path)
    _check_file(path)
    max_side = max(32, int(max_side))
    still = load_image(path, max_side)
    if still is not None:
        rgb, width, height = still
        analysis = _Run(max_side)
        analysis.add(0.0, rgb)
        info = VideoInfo(width=width, height=height, duration_s=0.0)
        media_type = "image"
    else:
        info = VideoInfo()
        analysis = _Run(max_side)
        for t, frame_rgb in prefetch(iter_video(path, max_side, info)):
            analysis.add(t, frame_rgb)
        media_type = "video"
    states = analysis.states
    found = brk.sample_breaks([s.time_s for s in states], analysis.pairs, analysis.compare)
    found += brk.flicker_breaks(info.frame_times, info.frame_luma)
    found = brk.merge(found)

    palette = palette_from_histogram(analysis.palette_hist, k=5)
    palette_check = check_palette(analysis.palette_hist, palette, list(brand_palette)) if brand_palette else None
    refs = [check_reference(Path(r), states, max_side) for r in reference_images]
    transition = None
    if previous_clip is not None:
        last = _clip_end_states(Path(previous_clip), max_side)
        first = [s for s in states if s.time_s <= states[0].time_s + TRANSITION_S]
        transition = check_transition(str(previous_clip), last, first)

    samples = analysis.samples()
    result = MediaAnalysis(
        path=str(path),
        media_type=media_type,
        duration_s=round(info.duration_s, 3),
        fps_native=round(info.fps_native, 3) if info.fps_native else None,
        fps_sampled=info.fps_sampled,
        width=info.width,
        height=info.height,
        analysis_width=analysis.size[0],
        analysis_height=analysis.size[1],
        subject_consistency=round(float(np.mean([s.consistency for s in samples[1:]])) if len(samples) > 1 else 1.0, 4),
        samples=samples,
        breaks=found,
        palette=palette,
        palette_check=palette_check,
        reference_checks=refs,
        transition_check=transition,
        findings=[],
    )
    result.findings = _findings(result)
    return result


class _Run:
    """Streaming state: only the current and previous frames' pixels are alive at any time."""

    def __init__(self, max_side: int) -> None:
        self.max_side = max_side
        self.states: list[SampleState] = []
        self.pairs: list[brk.PairSignals | None] = []
        self.ssim_prev: list[float] = []
        self.ssim_open: list[float] = []
        self.structure: list[float] = []
        self.palette_hist = np.zeros(HIST_SIZE)
        self.size = (0, 0)
        self._prev: Frame | None = None
        self._face: Region | None = None
        self._face_t = -1e9
        self._region: Region | None = None
        self._region_t = -1e9

    def add(self, t: float, rgb: np.ndarray) -> None:
        self.size = (rgb.shape[1], rgb.shape[0])
        fr = make_frame(rgb)
        st = make_state(t, fr)
        self._subject(t, fr, st)
        self.palette_hist += lab_histogram(fr.lab[::2, ::2])
        if self.states:
            prev = self.states[-1]
            pair, structure = self._pair(prev, st, fr)
            self.pairs.append(pair)
            self.structure.append(structure)
            self.ssim_prev.append(ssim(prev.gray, st.gray))
            self.ssim_open.append(ssim(self.states[0].gray, st.gray))
        else:
            self.pairs.append(None)
            self.structure.append(1.0)
            self.ssim_prev.append(1.0)
            self.ssim_open.append(1.0)
        self.states.append(st)
        self._prev = fr

    def _subject(self, t: float, fr: Frame, st: SampleState) -> None:
        """Face box from the cascade every FACE_EVERY_S, else the saliency box every SALIENCY_EVERY_S;
        the box is held in between and its colour signature measured on every sample."""
        if t - self._face_t >= FACE_EVERY_S:
            self._face, self._face_t = detect_face(fr.rgb), t
            self._region_t = -1e9
        if self._face is not None:
            self._region = self._face
        elif t - self._region_t >= SALIENCY_EVERY_S:
            found = saliency_region(fr)
            self._region, self._region_t = (found[0] if found else None), t
        region = self._region
        if region is not None:
            st.subject = region
            h, w = fr.lab.shape[:2]
            box = fr.lab[
                int(region.y * h) : int((region.y + region.h) * h) + 1,
                int(region.x * w) : int((region.x + region.w) * w) + 1,
            ]
            st.subject_lab = box.reshape(-1, 3).mean(0)

    def _pair(self, prev: SampleState, st: SampleState, fr: Frame) -> tuple[brk.PairSignals, float]:
        structure, shift = aligned_structure(prev, st)
        assert self._prev is not None
        appeared, vanished = new_colour_masks(prev, self._prev, st, fr, shift)
        new = float(max(appeared.mean(), vanished.mean()))
        local = local_colour_change(self._prev.lab, fr.lab, prev.gray, st.gray, shift)
        pair = brk.PairSignals(
            dissimilarity=1.0 - structure,
            spread=change_spread(prev, st, shift),
            grade=grade_shift(prev, st),
            new_colour=new,
            local=local.delta_e,
            local_area=local.area,
            unmatched=local.unmatched,
        )
        if new >= brk.NEW_COLOUR_MIN * 0.5:
            pair.change_detail, pair.change_de00 = _describe_change(
                prev, self._prev, fr, appeared if appeared.any() else vanished
            )
        elif local.box is not None and local.area >= brk.LOCAL_MIN_AREA:
            pair.change_detail, pair.change_de00 = _describe_local(prev, self._prev, fr, local.box)
        return pair, structure

    def compare(self, a: int, b: int) -> brk.PairSignals:
        sa, sb = self.states[a], self.states[b]
        structure, shift = aligned_structure(sa, sb)
        return brk.PairSignals(
            dissimilarity=1.0 - structure,
            spread=change_spread(sa, sb, shift),
            grade=grade_shift(sa, sb),
            new_colour=new_colour_fraction(sa, sb),
            local=0.0,
        )

    def samples(self) -> list[Sample]:
        out = []
        first = self.states[0].feature
        for i, st in enumerate(self.states):
            prev = self.states[i - 1].feature if i else st.feature
            to_open, to_prev = cosine(first, st.feature), cosine(prev, st.feature)
            pair = self.pairs[i]
            lab = st.subject_lab
            out.append(
                Sample(
                    index=i,
                    time_s=round(st.time_s, 3),
                    similarity_to_opening=round(to_open, 4),
                    similarity_to_previous=round(to_prev, 4),
                    consistency=round(0.5 * (to_open + to_prev), 4),
                    ssim_to_opening=round(self.ssim_open[i], 4),
                    ssim_to_previous=round(self.ssim_prev[i], 4),
                    structure_to_previous=round(self.structure[i], 4),
                    new_colour_fraction=round(pair.new_colour, 4) if pair else 0.0,
                    grade_shift=round(pair.grade, 3) if pair else 0.0,
                    mean_luma=round(st.mean_luma, 2),
                    subject=st.subject,
                    subject_lab=(round(float(lab[0]), 2), round(float(lab[1]), 2), round(float(lab[2]), 2))
                    if lab is not None
                    else None,
                )
            )
        return out


def _describe_change(prev: SampleState, prev_fr: Frame, fr: Frame, mask: np.ndarray) -> tuple[str, float]:
    """What changed where, and the CIEDE2000 distance between the region's mean colours before and after."""
    if not mask.any():
        return "", -1.0
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    after, before = fr.lab[mask].mean(0), prev_fr.lab[mask].mean(0)
    de = float(deltaE_ciede2000(before, after))
    where = f"region x {xs.min() / w:.2f}-{(xs.max() + 1) / w:.2f}, y {ys.min() / h:.2f}-{(ys.max() + 1) / h:.2f}"
    subject = prev.subject
    if subject is not None:
        cy, cx = ys.mean() / h, xs.mean() / w
        inside = subject.x <= cx <= subject.x + subject.w and subject.y <= cy <= subject.y + subject.h
        if subject.detector == "lbp_frontal_face":
            where = (
                "inside the face region (LBP face cascade)"
                if inside
                else f"outside the face region (LBP face cascade), {where}"
            )
        elif inside:
            part = ("upper", "middle", "lower")[min(2, int(3 * (cy - subject.y) / max(subject.h, 1e-6)))]
            where = f"{part} part of the subject region (colour saliency, not a face detector)"
    return (
        f"{mask.mean():.1%} of the frame changed colour from {lab_to_hex(before)} to {lab_to_hex(after)} "
        f"(ΔE00 {de:.0f}), {where}"
    ), de


def _describe_local(
    prev: SampleState, prev_fr: Frame, fr: Frame, box: tuple[float, float, float, float]
) -> tuple[str, float]:
    h, w = fr.lab.shape[:2]
    x, y, bw, bh = box
    sl = (
        slice(int(y * h), max(int((y + bh) * h), int(y * h) + 1)),
        slice(int(x * w), max(int((x + bw) * w), int(x * w) + 1)),
    )
    mask = np.zeros((h, w), bool)
    mask[sl] = True
    text, de = _describe_change(prev, prev_fr, fr, mask)
    return text + " (no match for the new colour at the region's own motion)", de


def _clip_end_states(path: Path, max_side: int) -> list[SampleState]:
    _check_file(path)
    still = load_image(path, max_side)
    if still is not None:
        return [make_state(0.0, make_frame(still[0]))]
    tail: deque[tuple[float, np.ndarray]] = deque(maxlen=16)
    for t, rgb in prefetch(iter_video(path, max_side, VideoInfo())):
        tail.append((t, rgb))
    end = tail[-1][0]
    return [make_state(t, make_frame(rgb)) for t, rgb in tail if t >= end - TRANSITION_S]


def _findings(a: MediaAnalysis) -> list[Finding]:
    out: list[Finding] = []
    for b in a.breaks:
        out.append(
            Finding(
                severity=_SEVERITY[b.kind],
                rule=f"media.{b.kind}",
                time_s=b.time_s,
                message=f"{b.kind.replace('_', ' ')} at {b.time_s:.2f} s: {b.detail}",
            )
        )
    pc = a.palette_check
    if pc is not None and not pc.passed:
        off = [m.hex for m in pc.colours if not m.on_palette]
        out.append(
            Finding(
                severity="warning",
                rule="media.off_palette",
                message=f"{pc.off_palette_fraction:.0%} of pixels are more than ΔE00 "
                f"{pc.threshold_delta_e:g} from every brand colour; "
                f"off-palette dominant colours: {', '.join(off) or 'none'}",
            )
        )
    for r in a.reference_checks:
        if not r.passed:
            out.append(
                Finding(
                    severity="warning",
                    rule="media.reference_mismatch",
                    time_s=r.worst_time_s,
                    message=f"{r.reference}: colour similarity to the clip {r.score:.2f} is low "
                    f"(worst at {r.worst_time_s:.2f} s)",
                )
            )
    t = a.transition_check
    if t is not None and t.is_break:
        out.append(
            Finding(
                severity="warning",
                rule="media.transition",
                time_s=0.0,
                message=f"cut from {t.previous_clip}: {t.detail}",
            )
        )
    if not out:
        out.append(
            Finding(
                severity="info",
                rule="media.clean",
                message=f"no breaks in {len(a.samples)} samples; subject consistency {a.subject_consistency:.3f}",
            )
        )
    return out
