"""Face identity on real footage (tests/data/footage, CC-BY-4.0): dlib's detector, landmarks and descriptor."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from PIL import Image

from tools.continuity.media import analyze_media
from tools.continuity.media.identity import face_descriptors

FOOTAGE = Path(__file__).resolve().parents[1] / "data" / "footage"
PERSON_A = FOOTAGE / "book_a.mp4"
PERSON_B = FOOTAGE / "sister_b.mp4"
TOLERANCE_S = 0.5


def _frames(path: Path) -> tuple[list[np.ndarray], float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or 30)
        return [f.to_ndarray(format="rgb24") for f in container.decode(stream)], fps


def _write(path: Path, frames: list[np.ndarray], fps: float) -> None:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(round(fps * 1000), 1000))
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        stream.options = {"crf": "18"}
        for rgb in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb))):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def _face_box(rgb: np.ndarray) -> tuple[int, int, int, int]:
    """The largest face, grown 40% (hairline to chin), in pixels."""
    (box, _), *_ = face_descriptors(rgb)
    h, w = rgb.shape[:2]
    x, y, bw, bh = box[0] * w, box[1] * h, box[2] * w, box[3] * h
    cx, cy, side = x + bw / 2, y + bh / 2, 1.4 * max(bw, bh)
    return int(cx - side / 2), int(cy - side / 2), int(side), int(side)


def _still(path: Path, frame: np.ndarray) -> Path:
    Image.fromarray(frame).save(path)
    return path


@pytest.fixture(scope="module")
def footage() -> dict[str, list[np.ndarray]]:
    a, _ = _frames(PERSON_A)
    b, _ = _frames(PERSON_B)
    return {"a": a, "b": b}


def test_the_same_person_through_a_clip_is_tracked_without_an_identity_break() -> None:
    result = analyze_media(PERSON_A)
    assert [b for b in result.breaks if b.kind == "identity"] == []
    (track,) = result.faces
    assert track.descriptors >= 2 and track.last_s - track.first_s > 3.0
    assert track.max_distance < 0.6


def test_a_re_rendered_face_is_an_identity_break_at_its_time(
    tmp_path: Path, footage: dict[str, list[np.ndarray]]
) -> None:
    """Person B's face pasted over person A's from 1.6 s on: the body, set and light stay; the face does not."""
    a, b = footage["a"], footage["b"]
    fps = 30.0
    t_swap = 1.6
    ax, ay, aside, _ = _face_box(a[0])
    bx, by, bside, _ = _face_box(b[0])
    feather = np.zeros((aside, aside), np.float32)
    cv2.circle(feather, (aside // 2, aside // 2), int(aside * 0.42), 1.0, -1)
    feather = np.asarray(cv2.GaussianBlur(feather, (0, 0), aside * 0.06), np.float32)[..., None]
    out = []
    for k, frame in enumerate(a):
        if k >= t_swap * fps:
            face = cv2.resize(b[k % len(b)][by : by + bside, bx : bx + bside], (aside, aside))
            frame = frame.copy()
            patch = frame[ay : ay + aside, ax : ax + aside].astype(np.float32)
            frame[ay : ay + aside, ax : ax + aside] = (patch * (1 - feather) + face * feather).astype(np.uint8)
        out.append(frame)
    clip = tmp_path / "face_swap.mp4"
    _write(clip, out, fps)
    result = analyze_media(clip)
    identity = [b for b in result.breaks if b.kind == "identity"]
    assert len(identity) == 1, result.breaks
    assert abs(identity[0].time_s - t_swap) <= TOLERANCE_S
    assert identity[0].magnitude > 0.6 and identity[0].region is not None
    finding = next(f for f in result.findings if f.rule == "media.identity")
    assert finding.severity == "error" and finding.fix and finding.frames is not None


def test_reference_faces_report_the_fraction_within_threshold_and_the_worst_time(
    tmp_path: Path, footage: dict[str, list[np.ndarray]]
) -> None:
    same = _still(tmp_path / "a.png", footage["a"][40])
    other = _still(tmp_path / "b.png", footage["b"][40])
    result = analyze_media(PERSON_A, reference_images=[same, other])
    by_ref = {Path(r.reference).name: r.face for r in result.reference_checks}
    assert by_ref["a.png"] is not None and by_ref["b.png"] is not None
    assert by_ref["a.png"].fraction_within >= 0.9 and by_ref["a.png"].faces_compared >= 2
    assert by_ref["b.png"].fraction_within <= 0.1
    assert by_ref["b.png"].worst_time_s is not None and 0.0 <= by_ref["b.png"].worst_time_s <= result.duration_s
    flagged = [f for f in result.findings if f.rule == "media.reference_identity"]
    assert len(flagged) == 1 and "b.png" in flagged[0].message


def test_a_reference_without_a_face_has_no_face_comparison(tmp_path: Path) -> None:
    plain = _still(tmp_path / "plain.png", np.full((120, 160, 3), (90, 120, 160), np.uint8))
    result = analyze_media(PERSON_A, reference_images=[plain])
    assert result.reference_checks[0].face is None


def test_the_first_faces_are_compared_with_the_previous_shots_last_faces() -> None:
    other = analyze_media(PERSON_B, previous_clip=PERSON_A)
    assert other.transition_check is not None and other.transition_check.face is not None
    assert other.transition_check.face.fraction_within == 0.0
    assert any(f.rule == "media.transition_identity" for f in other.findings)
    same = analyze_media(PERSON_A, previous_clip=PERSON_A)
    assert same.transition_check is not None and same.transition_check.face is not None
    assert same.transition_check.face.fraction_within == 1.0
    assert not any(f.rule == "media.transition_identity" for f in same.findings)


def test_face_models_come_from_the_installed_package_without_importing_it() -> None:
    from tools.continuity.media.identity import _models_dir

    folder = _models_dir()
    assert (folder / "shape_predictor_5_face_landmarks.dat").is_file()
    assert (folder / "dlib_face_recognition_resnet_model_v1.dat").is_file()
