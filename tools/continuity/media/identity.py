"""Face identity offline: dlib's HOG face detector, its 5-point landmarks and its ResNet face descriptor.

The models come from the `face-recognition-models` package, found on disk by importlib (its own
__init__ imports pkg_resources, which need not exist); nothing is downloaded. dlib loads on the first
face analysis, not with the server.

Costs decide the shape: the descriptor (a ResNet on a 150x150 chip) is the expensive part and full-frame
detection next, so faces are detected on the whole frame only every DETECT_EVERY_S, tracked in between
by re-detecting inside a crop around the last box (cheap), and a descriptor is computed when the aligned
face chip stops looking like the chip of the track's last descriptor, or every DESCRIBE_EVERY_S.
Descriptor distance is about 0.2-0.45 for one face across frames and poses here and ≥ 0.6 for another
person (dlib's usual threshold), so a tracked face whose descriptor leaves its own earlier appearance by
more than IDENTITY_THRESHOLD, and stays away, was re-rendered as someone else.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .errors import MediaError

IDENTITY_THRESHOLD = 0.6  # dlib's same-person limit on the 128-d descriptor distance
DETECT_EVERY_S = 1.0  # full-frame detection (new faces); tracks are followed in crops in between
# while a face is tracked, new faces are looked for less often: full-frame detection with upsampling is the
# costliest step after the descriptor, and a face entering the frame is still found within this (4 s rather
# than 2 halves that cost; the footage sets give the same tracks, subjects and breaks either way)
DETECT_TRACKED_EVERY_S = 4.0
TRACK_EVERY_S = 0.5
DESCRIBE_EVERY_S = 2.0
CHIP_CHANGE = 0.75  # correlation of 32 px chips below which the face may have changed: describe it now
CONFIRM_AFTER_S = 0.5  # a descriptor far from the opening one is checked again this much later
MIN_FACE_PX = 40  # HOG with one upsampling finds faces from about 40 px
TRACK_LOST_S = 1.5  # a track not seen for this long ends (the person left, or a cut)
_CHIP = 150


@dataclass
class FaceObservation:
    time_s: float
    box: tuple[float, float, float, float]  # x, y, w, h as fractions of the frame
    descriptor: np.ndarray | None = None


@dataclass
class FaceTrack:
    id: int
    observations: list[FaceObservation] = field(default_factory=list)
    last_chip: np.ndarray | None = None  # 32 px z-scored chip of the last described observation
    last_described: float = -1e9
    confirm_at: float = 1e9  # describe again from this time: the last descriptor left the opening one

    @property
    def last(self) -> FaceObservation:
        return self.observations[-1]

    def described(self) -> list[FaceObservation]:
        return [o for o in self.observations if o.descriptor is not None]


@dataclass
class IdentityBreak:
    track: int
    time_s: float
    distance: float
    before_s: float  # the track's previous observation, which still looked like the opening face
    box: tuple[float, float, float, float]


def _models_dir() -> Path:
    spec = importlib.util.find_spec("face_recognition_models")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for loc in locations:
        folder = Path(loc) / "models"
        if (folder / "dlib_face_recognition_resnet_model_v1.dat").is_file():
            return folder
    raise MediaError(
        "face identity needs the face-recognition-models package (its model files were not found); "
        "install it with `pip install face-recognition-models`"
    )


@lru_cache(maxsize=1)
def _dlib() -> tuple[Any, Any, Any, Any]:
    try:
        import dlib
    except ImportError as exc:  # pragma: no cover - dlib-bin is a declared dependency
        raise MediaError("face identity needs dlib; install the dlib-bin wheel") from exc
    folder = _models_dir()
    return (
        dlib,
        dlib.get_frontal_face_detector(),
        dlib.shape_predictor(str(folder / "shape_predictor_5_face_landmarks.dat")),
        dlib.face_recognition_model_v1(str(folder / "dlib_face_recognition_resnet_model_v1.dat")),
    )


def _detect(rgb: np.ndarray, upsample: int) -> list[Any]:
    _, detector, _, _ = _dlib()
    return list(detector(rgb, upsample))


def _chip(rgb: np.ndarray, rect: Any) -> np.ndarray:
    dlib, _, predictor, _ = _dlib()
    shape = predictor(rgb, rect)
    return np.asarray(dlib.get_face_chip(rgb, shape, size=_CHIP, padding=0.25))


def _describe(chip: np.ndarray) -> np.ndarray:
    _, _, _, model = _dlib()
    return np.asarray(model.compute_face_descriptor(np.ascontiguousarray(chip)), np.float32)


def _small_chip(chip: np.ndarray) -> np.ndarray:
    g = cv2.resize(cv2.cvtColor(chip, cv2.COLOR_RGB2GRAY), (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    return (g - g.mean()) / (g.std() + 1e-3)


def face_descriptors(rgb: np.ndarray) -> list[tuple[tuple[float, float, float, float], np.ndarray]]:
    """Every face in an image with its descriptor, largest first (boxes as fractions of the image)."""
    h, w = rgb.shape[:2]
    scale = min(1.0, 640 / max(h, w))
    if scale < 1.0:
        rgb = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        h, w = rgb.shape[:2]
    rgb = np.ascontiguousarray(rgb)
    rects = sorted(_detect(rgb, 1), key=lambda r: -r.width() * r.height())
    out = []
    for r in rects:
        box = (max(r.left(), 0) / w, max(r.top(), 0) / h, r.width() / w, r.height() / h)
        out.append((box, _describe(_chip(rgb, r))))
    return out


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b))


class FaceTracker:
    """Follows faces through a clip, one frame at a time (RGB uint8, any size)."""

    def __init__(self) -> None:
        self.tracks: list[FaceTrack] = []
        self._next_detect = 0.0
        self._next_track = 0.0

    def add(self, t: float, rgb: np.ndarray) -> None:
        if t + 1e-6 < self._next_track:
            return
        self._next_track = t + TRACK_EVERY_S - 0.02
        rgb = np.ascontiguousarray(rgb)
        h, w = rgb.shape[:2]
        live = [tr for tr in self.tracks if t - tr.last.time_s <= TRACK_LOST_S]
        seen: set[int] = set()
        for tr in live:
            found = self._in_crop(rgb, tr.last.box)
            if found is not None:
                self._observe(tr, t, rgb, found)
                seen.add(tr.id)
        if t + 1e-6 >= self._next_detect:
            self._next_detect = t + (DETECT_TRACKED_EVERY_S if seen else DETECT_EVERY_S) - 0.02
            for r in _detect(rgb, 1):
                box = (max(r.left(), 0) / w, max(r.top(), 0) / h, r.width() / w, r.height() / h)
                if any(_iou(box, tr.last.box) > 0.3 for tr in live if tr.id in seen):
                    continue
                match = max(
                    (tr for tr in live if tr.id not in seen), key=lambda tr: _iou(box, tr.last.box), default=None
                )
                if match is not None and _iou(box, match.last.box) > 0.2:
                    self._observe(match, t, rgb, r)
                    seen.add(match.id)
                else:
                    track = FaceTrack(id=len(self.tracks))
                    self.tracks.append(track)
                    self._observe(track, t, rgb, r)
                    seen.add(track.id)

    def _in_crop(self, rgb: np.ndarray, box: tuple[float, float, float, float]) -> Any | None:
        """Re-detect a tracked face in a crop 2.2x its box, scaled so the face is ~90 px (no upsampling)."""
        dlib, _, _, _ = _dlib()
        h, w = rgb.shape[:2]
        x, y, bw, bh = box[0] * w, box[1] * h, box[2] * w, box[3] * h
        cx, cy, side = x + bw / 2, y + bh / 2, 2.2 * max(bw, bh)
        x0, y0 = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
        x1, y1 = int(min(w, cx + side / 2)), int(min(h, cy + side / 2))
        if x1 - x0 < 16 or y1 - y0 < 16:
            return None
        scale = 90.0 / max(bw, bh, 1.0)
        crop = cv2.resize(rgb[y0:y1, x0:x1], (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale))))
        rects = _detect(np.ascontiguousarray(crop), 0)
        if not rects:
            return None
        r = max(rects, key=lambda r: r.width() * r.height())
        return dlib.rectangle(
            round(x0 + r.left() / scale),
            round(y0 + r.top() / scale),
            round(x0 + r.right() / scale),
            round(y0 + r.bottom() / scale),
        )

    def _observe(self, track: FaceTrack, t: float, rgb: np.ndarray, rect: Any) -> None:
        h, w = rgb.shape[:2]
        box = (max(rect.left(), 0) / w, max(rect.top(), 0) / h, rect.width() / w, rect.height() / h)
        obs = FaceObservation(time_s=t, box=box)
        chip = _chip(rgb, rect)
        small = _small_chip(chip)
        changed = track.last_chip is None or float((small * track.last_chip).mean()) < CHIP_CHANGE
        if changed or t - track.last_described >= DESCRIBE_EVERY_S or t >= track.confirm_at:
            obs.descriptor = _describe(chip)
            track.last_chip, track.last_described = small, t
            opening = track.described()[:1]
            away = bool(opening) and distance(obs.descriptor, opening[0].descriptor) > IDENTITY_THRESHOLD  # type: ignore[arg-type]
            track.confirm_at = t + CONFIRM_AFTER_S if away else 1e9
        track.observations.append(obs)


def identity_breaks(tracks: list[FaceTrack]) -> list[IdentityBreak]:
    """A track whose descriptor leaves its own opening appearance and stays away.

    The opening appearance is the mean of the track's first two descriptors. A single distant
    descriptor (a blur, a hand over the face, an extreme pose) is not enough: the next descriptor must be
    away too, or the track must end there (the face left or was cut).
    """
    out: list[IdentityBreak] = []
    for tr in tracks:
        desc = tr.described()
        if len(desc) < 2:
            continue
        ref = np.mean([o.descriptor for o in desc[:2] if o.descriptor is not None], axis=0)
        if distance(desc[0].descriptor, desc[1].descriptor) > IDENTITY_THRESHOLD:  # type: ignore[arg-type]
            ref = desc[0].descriptor
            start = 1
        else:
            start = 2
        for k in range(start, len(desc)):
            d = distance(desc[k].descriptor, ref)  # type: ignore[arg-type]
            if d <= IDENTITY_THRESHOLD:
                continue
            if k + 1 < len(desc) and distance(desc[k + 1].descriptor, ref) <= IDENTITY_THRESHOLD:  # type: ignore[arg-type]
                continue  # it came back: a pose or a blur
            if k + 1 == len(desc) and desc[k].time_s - desc[k - 1].time_s < 0.3:
                continue  # one last descriptor right at the end: nothing to confirm it
            earlier = [o.time_s for o in tr.observations if o.time_s < desc[k].time_s]
            out.append(
                IdentityBreak(
                    track=tr.id,
                    time_s=desc[k].time_s,
                    distance=d,
                    # the chip still looked like the last described one at the previous observation
                    before_s=earlier[-1] if earlier else desc[k - 1].time_s,
                    box=desc[k].box,
                )
            )
            break
    return out


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0.0, min(ax1, bx1) - max(a[0], b[0]))
    ih = max(0.0, min(ay1, by1) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0
