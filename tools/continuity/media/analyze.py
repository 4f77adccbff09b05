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
from . import identity as ident
from .decode import VideoInfo, _check_file, iter_video, load_image, prefetch
from .faces import detect_face
from .models import Break, FaceMatch, FaceTrackSummary, Finding, MediaAnalysis, Region, Sample
from .motion import local_colour_change
from .palette import HIST_SIZE, check_palette, lab_histogram, palette_from_histogram
from .persistence import PERSIST_S, FrameMemo, persists
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
    raw_new_colour_masks,
    saliency_region,
    ssim,
)

log = logging.getLogger(__name__)

FACE_EVERY_S = 2.0  # the cascade is the costliest signal; faces do not move far in 2 s
SALIENCY_EVERY_S = 1.0
TRANSITION_S = 0.5  # "last frames" / "first frames" of a shot
FACE_SIDE = 480  # faces are detected and described on frames up to this size (HOG finds faces from ~40 px)
# a candidate local change is tested for persistence only if it covers this share of the frame at least
CANDIDATE_MIN_AREA = 0.0006
_SEVERITY = {
    "subject_drift": "error",
    "identity": "error",
    "cut": "warning",
    "transition": "info",
    "palette_shift": "warning",
    "flicker": "warning",
}
_FIX = {
    "subject_drift": "regenerate from the break on (or cut before it) with the subject's reference attached, "
    "or correct the changed region in the grade",
    "identity": "regenerate with the character's reference face attached, or cut before the break",
    "cut": "if the shot should be one take, regenerate it; otherwise split it into two shots at the cut",
    "transition": "if the transition was not intended, regenerate the shot as one take",
    "palette_shift": "match the grade after the break to the grade before it",
    "flicker": "regenerate or repair the flashing frames",
}


def analyze_media(
    path: str | Path,
    *,
    brand_palette: Sequence[str] = (),
    reference_images: Sequence[str | Path] = (),
    previous_clip: str | Path | None = None,
    max_side: int = 320,
    faces: bool = True,
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
        analysis = _Run(max_side, faces)
        analysis.add(0.0, rgb, rgb if faces else None)
        info = VideoInfo(width=width, height=height, duration_s=0.0)
        media_type = "image"
    else:
        info = VideoInfo()
        analysis = _Run(max_side, faces)
        frames = iter_video(path, max_side, info, FACE_SIDE if faces else 0, ident.TRACK_EVERY_S)
        for t, frame_rgb, face_rgb in prefetch(frames):
            analysis.add(t, frame_rgb, face_rgb)
        media_type = "video"
    analysis.finish()
    states = analysis.states
    times = [s.time_s for s in states]
    found = brk.sample_breaks(times, analysis.pairs, analysis.compare)
    found += brk.flicker_breaks(info.frame_times, info.frame_luma)
    found += brk.transition_breaks(times, [s.gray for s in states], analysis.compare)
    found += _identity_breaks(analysis.tracker)
    found = _with_frames(brk.merge(found), info.fps_native)

    palette = palette_from_histogram(analysis.palette_hist, k=5)
    palette_check = check_palette(analysis.palette_hist, palette, list(brand_palette)) if brand_palette else None
    refs = [check_reference(Path(r), states, max_side) for r in reference_images]
    observed = _described_faces(analysis.tracker)
    if faces:
        for ref in refs:
            ref.face = _reference_face(Path(ref.reference), observed)
    transition = None
    if previous_clip is not None:
        last, last_faces = _clip_end_states(Path(previous_clip), max_side, faces)
        first = [s for s in states if s.time_s <= states[0].time_s + TRANSITION_S]
        transition = check_transition(str(previous_clip), last, first)
        first_faces = [d for t, d in observed if t <= states[0].time_s + TRANSITION_S]
        if last_faces and first_faces:
            transition.face = _face_match(
                last_faces, [(states[0].time_s, d) for d in first_faces], "the previous clip's last face"
            )

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
        faces=_track_summaries(analysis.tracker),
        findings=[],
    )
    result.findings = _findings(result)
    return result


class _Run:
    """Streaming state: the current and previous frames' pixels, plus the last ~PERSIST_S of colour frames
    that pending candidates are judged against."""

    def __init__(self, max_side: int, faces: bool = True) -> None:
        self.max_side = max_side
        self.states: list[SampleState] = []
        self.pairs: list[brk.PairSignals | None] = []
        self.ssim_prev: list[float] = []
        self.ssim_open: list[float] = []
        self.structure: list[float] = []
        self.palette_hist = np.zeros(HIST_SIZE)
        self.size = (0, 0)
        self.tracker: ident.FaceTracker | None = ident.FaceTracker() if faces else None
        self._prev: Frame | None = None
        self._face: Region | None = None
        self._face_t = -1e9
        self._region: Region | None = None
        self._region_t = -1e9
        # candidates waiting for a sample PERSIST_S later: (pair index, changed mask, Lab before, Lab at i)
        self._pending: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
        self._memo = FrameMemo()

    def add(self, t: float, rgb: np.ndarray, face_rgb: np.ndarray | None = None) -> None:
        self.size = (rgb.shape[1], rgb.shape[0])
        fr = make_frame(rgb)
        st = make_state(t, fr)
        if self.tracker is not None and face_rgb is not None:
            self.tracker.add(t, face_rgb)
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
        self._judge_pending(fr)
        self._prev = fr

    def finish(self) -> None:
        """Candidates with less than PERSIST_S of clip after them cannot show that they stayed."""
        for i, *_ in self._pending:
            pair = self.pairs[i]
            assert pair is not None
            pair.persistence = "too close to the end of the clip to tell whether it stayed"
        self._pending = []

    def _judge_pending(self, fr: Frame) -> None:
        j = len(self.states) - 1
        t = self.states[j].time_s
        waiting = []
        for i, mask, before, changed in self._pending:
            if t + 1e-6 < self.states[i].time_s + PERSIST_S:
                waiting.append((i, mask, before, changed))
                continue
            pair = self.pairs[i]
            assert pair is not None
            cells = (self.states[i - 1].cells, self.states[i].cells, self.states[j].cells)
            verdict = persists(before, changed, fr.lab, mask, cells, self._memo)
            pair.persistent = verdict.persists
            pair.steady = verdict.steady
            pair.persistence = (
                f"at {t:.2f} s {verdict.new_kept:.0%} of the new colours were still there and "
                f"{verdict.old_gone:.0%} of the old ones gone (lightness pattern kept: "
                f"{verdict.structure:.2f}, then {verdict.steady:.2f})"
            )
        self._pending = waiting
        # the frames still to be judged, and this one, which is the next candidate's "before"
        self._memo.keep([fr.lab, *(lab for _, _, before, changed in waiting for lab in (before, changed))])

    def _subject(self, t: float, fr: Frame, st: SampleState) -> None:
        """The subject box: the tracked face's person region when dlib sees a face, else the LBP face box
        (every FACE_EVERY_S), else the saliency box (every SALIENCY_EVERY_S); held in between."""
        tracked = self._tracked_face(t)
        if tracked is not None:
            st.subject = tracked
        else:
            if t - self._face_t >= FACE_EVERY_S:
                self._face, self._face_t = (detect_face(fr.rgb) if self.tracker is None else None), t
                self._region_t = -1e9
            if self._face is not None:
                self._region = self._face
            elif t - self._region_t >= SALIENCY_EVERY_S:
                found = saliency_region(fr)
                self._region, self._region_t = (found[0] if found else None), t
            st.subject = self._region
        region = st.subject
        if region is not None:
            h, w = fr.lab.shape[:2]
            box = fr.lab[
                int(region.y * h) : int((region.y + region.h) * h) + 1,
                int(region.x * w) : int((region.x + region.w) * w) + 1,
            ]
            st.subject_lab = box.reshape(-1, 3).mean(0)

    def _tracked_face(self, t: float) -> Region | None:
        if self.tracker is None:
            return None
        recent = [tr.last for tr in self.tracker.tracks if t - tr.last.time_s <= ident.TRACK_LOST_S]
        if not recent:
            return None
        x, y, w, h = max(recent, key=lambda o: o.box[2] * o.box[3]).box
        return Region(x=x, y=y, w=w, h=h, detector="dlib_hog_face")

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
        mask: np.ndarray | None = None
        if appeared.mean() >= CANDIDATE_MIN_AREA:
            mask = appeared
        elif local.mask is not None and local.area >= CANDIDATE_MIN_AREA:
            mask = local.mask
        elif prev.subject is not None and prev.subject.detector == "dlib_hog_face":
            # the clothing of a person whose face is tracked reaches the frame edge; what enters there is
            # someone else (no tracked face above it)
            raw = raw_new_colour_masks(prev, self._prev, st, fr, shift)[0]
            if local.changed is not None:
                raw |= local.changed
            raw &= _body_mask(prev.subject, fr.lab.shape[:2])
            if raw.mean() >= CANDIDATE_MIN_AREA:
                mask = raw
                pair.local_area = max(pair.local_area, float(raw.mean()))
        if mask is not None:
            pair.change_detail, pair.change_de00 = _describe_change(prev, self._prev, fr, mask)
            pair.change_area = float(mask.mean())
            pair.on_subject = _on_subject(prev.subject, mask)
            # away from the subject there is no subject to measure against: the floor is the frame's, so a
            # passer-by's arm is not a break while a recoloured wall or another person's hair can be
            pair.subject_area = _subject_area(prev.subject, mask) if pair.on_subject else 1.0
            pair.change_box = _box(mask)
            self._pending.append((len(self.states), mask, self._prev.lab, fr.lab))
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
        if subject.detector in ("lbp_frontal_face", "dlib_hog_face"):
            where = "inside the face region" if inside else f"outside the face box, {where}"
        elif inside:
            part = ("upper", "middle", "lower")[min(2, int(3 * (cy - subject.y) / max(subject.h, 1e-6)))]
            where = f"{part} part of the subject region (colour saliency, not a face detector)"
    return (
        f"{mask.mean():.1%} of the frame changed colour from {lab_to_hex(before)} to {lab_to_hex(after)} "
        f"(ΔE00 {de:.0f}), {where}"
    ), de


def _clip_end_states(path: Path, max_side: int, faces: bool) -> tuple[list[SampleState], list[np.ndarray]]:
    """The previous clip's last TRANSITION_S: its samples and the descriptors of the faces in its last frame."""
    _check_file(path)
    still = load_image(path, max_side)
    if still is not None:
        found = ident.face_descriptors(still[0]) if faces else []
        return [make_state(0.0, make_frame(still[0]))], [d for _, d in found]
    tail: deque[tuple[float, np.ndarray, np.ndarray | None]] = deque(maxlen=16)
    last_face: np.ndarray | None = None
    for t, rgb, face in prefetch(iter_video(path, max_side, VideoInfo(), FACE_SIDE if faces else 0)):
        tail.append((t, rgb, face))
        if face is not None:
            last_face = face
    end = tail[-1][0]
    descriptors = [d for _, d in ident.face_descriptors(last_face)] if last_face is not None else []
    return [make_state(t, make_frame(rgb)) for t, rgb, _ in tail if t >= end - TRANSITION_S], descriptors


def _subject_area(subject: Region | None, mask: np.ndarray) -> float:
    """Area (fraction of the frame) of the subject region a change is measured against: the head-and-hair
    region when the change is there, else the person (from the face box, or the saliency box), else the
    whole frame. A hair recolour is large against a head; a passer-by is small against the frame."""
    if subject is None:
        return 1.0
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    cy, cx = float(ys.mean()) / h, float(xs.mean()) / w
    if subject.detector in ("dlib_hog_face", "lbp_frontal_face"):
        head = (subject.x - 0.5 * subject.w, subject.y - 0.7 * subject.h, 2.0 * subject.w, 2.0 * subject.h)
        if head[0] <= cx <= head[0] + head[2] and head[1] <= cy <= head[1] + head[3]:
            return _clipped_area(head)
        return _clipped_area((subject.x - 1.5 * subject.w, subject.y - 0.7 * subject.h, 4 * subject.w, 8 * subject.h))
    return max(subject.w * subject.h, 0.02)


def _on_subject(subject: Region | None, mask: np.ndarray) -> bool:
    """Whether the change is centred on the subject as it was before the change: the person below and
    around a tracked face, or the saliency box. Without a subject there is no "same thing" to have changed."""
    if subject is None:
        return False
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    cy, cx = float(ys.mean()) / h, float(xs.mean()) / w
    if subject.detector in ("dlib_hog_face", "lbp_frontal_face"):
        x0, x1 = subject.x - 1.5 * subject.w, subject.x + 2.5 * subject.w
        return x0 <= cx <= x1 and cy >= subject.y - 0.7 * subject.h
    # the saliency box is the subject's most distinctive part (hair, a coat): the person is around it
    gx, gy = subject.w, subject.h
    return subject.x - gx <= cx <= subject.x + subject.w + gx and subject.y - gy <= cy <= subject.y + subject.h + gy


def _body_mask(face: Region, shape: tuple[int, int]) -> np.ndarray:
    """The person below a face box: 4 face widths across, from the chin down."""
    h, w = shape
    mask = np.zeros((h, w), bool)
    x0, x1 = max(0, int((face.x - 1.5 * face.w) * w)), min(w, int((face.x + 2.5 * face.w) * w))
    mask[min(h, int((face.y + face.h) * h)) :, x0:x1] = True
    return mask


def _clipped_area(box: tuple[float, float, float, float]) -> float:
    x0, y0 = max(0.0, box[0]), max(0.0, box[1])
    x1, y1 = min(1.0, box[0] + box[2]), min(1.0, box[1] + box[3])
    return max((x1 - x0) * (y1 - y0), 0.005)


def _box(mask: np.ndarray) -> Region:
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    return Region(
        x=float(xs.min()) / w,
        y=float(ys.min()) / h,
        w=float(xs.max() + 1 - xs.min()) / w,
        h=float(ys.max() + 1 - ys.min()) / h,
        detector="change",
    )


def _identity_breaks(tracker: ident.FaceTracker | None) -> list[Break]:
    if tracker is None:
        return []
    out = []
    for b in ident.identity_breaks(tracker.tracks):
        x, y, w, h = b.box
        out.append(
            Break(
                time_s=round(b.time_s, 3),
                kind="identity",
                magnitude=round(b.distance, 3),
                detail=f"the tracked face {b.track} is no longer the person it was: face descriptor distance "
                f"{b.distance:.2f} from its opening appearance (same person ≤ {ident.IDENTITY_THRESHOLD}); "
                f"it still matched at {b.before_s:.2f} s",
                start_s=round(b.before_s, 3),
                end_s=round(b.time_s, 3),
                region=Region(x=x, y=y, w=w, h=h, detector="dlib_hog_face"),
            )
        )
    return out


def _with_frames(breaks: list[Break], fps: float | None) -> list[Break]:
    out = []
    for b in breaks:
        start = b.start_s if b.start_s is not None else b.time_s
        end = b.end_s if b.end_s is not None else b.time_s
        update: dict[str, object] = {"start_s": start, "end_s": end, "fix": b.fix or _FIX[b.kind]}
        if fps:
            update["frames"] = (round(start * fps), round(end * fps))
        out.append(b.model_copy(update=update))
    return out


def _described_faces(tracker: ident.FaceTracker | None) -> list[tuple[float, np.ndarray]]:
    if tracker is None:
        return []
    return sorted(
        ((o.time_s, o.descriptor) for tr in tracker.tracks for o in tr.observations if o.descriptor is not None),
        key=lambda x: x[0],
    )


def _face_match(refs: list[np.ndarray], observed: list[tuple[float, np.ndarray]], what: str) -> FaceMatch:
    """Per face sample, the distance to the nearest reference face; at one time, the nearest face counts."""
    by_time: dict[float, float] = {}
    for t, d in observed:
        dist = min(ident.distance(d, r) for r in refs)
        by_time[t] = min(dist, by_time.get(t, 9.0))
    times = sorted(by_time)
    dists = np.array([by_time[t] for t in times])
    within = float((dists <= ident.IDENTITY_THRESHOLD).mean())
    worst = int(dists.argmax())
    return FaceMatch(
        threshold=ident.IDENTITY_THRESHOLD,
        faces_compared=len(times),
        fraction_within=round(within, 4),
        best_distance=round(float(dists.min()), 3),
        worst_distance=round(float(dists.max()), 3),
        worst_time_s=round(times[worst], 3),
        detail=f"{within:.0%} of {len(times)} face samples are {what} (descriptor distance ≤ "
        f"{ident.IDENTITY_THRESHOLD}); farthest {dists.max():.2f} at {times[worst]:.2f} s",
    )


def _reference_face(path: Path, observed: list[tuple[float, np.ndarray]]) -> FaceMatch | None:
    loaded = load_image(path, 640)
    if loaded is None:
        return None
    faces = ident.face_descriptors(loaded[0])
    if not faces:
        return None
    if not observed:
        return FaceMatch(
            threshold=ident.IDENTITY_THRESHOLD,
            faces_compared=0,
            fraction_within=0.0,
            best_distance=0.0,
            worst_distance=0.0,
            worst_time_s=None,
            detail="the reference shows a face but no face was found in the clip",
        )
    return _face_match([faces[0][1]], observed, "the reference's person")


def _track_summaries(tracker: ident.FaceTracker | None) -> list[FaceTrackSummary]:
    if tracker is None:
        return []
    out = []
    for tr in tracker.tracks:
        desc = tr.described()
        opening = desc[0].descriptor if desc else None
        far = max(
            (ident.distance(o.descriptor, opening) for o in desc if o.descriptor is not None and opening is not None),
            default=0.0,
        )
        x, y, w, h = tr.observations[0].box
        out.append(
            FaceTrackSummary(
                track=tr.id,
                first_s=round(tr.observations[0].time_s, 3),
                last_s=round(tr.last.time_s, 3),
                descriptors=len(desc),
                max_distance=round(far if opening is not None else 0.0, 3),
                box=Region(x=x, y=y, w=w, h=h, detector="dlib_hog_face"),
            )
        )
    return out


def _findings(a: MediaAnalysis) -> list[Finding]:
    out: list[Finding] = []
    for b in a.breaks:
        span = f"{b.start_s:.2f}-{b.end_s:.2f} s" if b.start_s != b.end_s else f"{b.time_s:.2f} s"
        out.append(
            Finding(
                severity=_SEVERITY[b.kind],
                rule=f"media.{b.kind}",
                time_s=b.time_s,
                message=f"{b.kind.replace('_', ' ')} at {span}: {b.detail}",
                start_s=b.start_s,
                end_s=b.end_s,
                frames=b.frames,
                fix=b.fix,
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
        if r.face is not None and r.face.fraction_within < 0.9:
            out.append(
                Finding(
                    severity="error",
                    rule="media.reference_identity",
                    time_s=r.face.worst_time_s,
                    message=f"{r.reference}: {r.face.detail}",
                    fix="regenerate with this reference face attached to the character",
                )
            )
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
    if t is not None and t.face is not None and t.face.fraction_within < 0.5:
        out.append(
            Finding(
                severity="warning",
                rule="media.transition_identity",
                time_s=0.0,
                message=f"the face at the start is not the face at the end of {t.previous_clip}: {t.face.detail}",
                fix="if it is the same character, regenerate with the previous shot's face as reference",
            )
        )
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
