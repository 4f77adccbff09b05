"""The weight-free media continuity analysis on generated clips with known ground truth."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.synthetic_clips import make_clip
from tools.continuity.media import MediaError, analyze_media, dominant_palette

TOLERANCE_S = 0.5
# Known false alarms (issue 9, open): on these two clips a small false subject_drift is reported. They
# used to pass or fail with the heap's layout (the clips' RGB->YUV conversion was swscale's, whose bytes
# depended on buffer alignment); the clips are now the same bytes every run, and these fail every run.
KNOWN_FALSE_ALARM = pytest.mark.xfail(
    strict=True, reason="a small false subject_drift on a moving subject (issue 9: persistence of local changes)"
)


@pytest.mark.parametrize(
    ("kind", "seed"),
    [
        ("jacket", 3),
        ("hair", 4),
        ("face", 5),
        ("palette", 6),
        ("cut", 7),
        ("flicker", 8),
        pytest.param("jacket_pan", 9, marks=KNOWN_FALSE_ALARM),
        ("face_walk", 10),
        ("face_bg", 11),
        ("hair", 12),
    ],
)
def test_planted_break_is_found_at_its_time_with_its_kind(tmp_path: Path, kind: str, seed: int) -> None:
    clip = tmp_path / f"{kind}.mp4"
    # combined cases run at the bench's length: a walk squeezed into 3.5 s crosses 12 px a sample, past the
    # motion search (a known gap, see bench/bench_media_accuracy.py)
    truth = make_clip(kind, clip, seed=seed, duration_s=5.0 if "_" in kind else 3.5)
    result = analyze_media(clip)
    ((t_true, kind_true),) = truth.events
    assert [b.kind for b in result.breaks] == [kind_true], result.breaks
    assert abs(result.breaks[0].time_s - t_true) <= TOLERANCE_S
    assert result.findings[0].rule == f"media.{kind_true}"


@pytest.mark.parametrize(
    ("kind", "seed"),
    [("static", 1), ("pan", 2), ("lighting", 3), ("noise", 4), pytest.param("walk", 5, marks=KNOWN_FALSE_ALARM)],
)
def test_controls_have_no_breaks(tmp_path: Path, kind: str, seed: int) -> None:
    clip = tmp_path / f"{kind}.mp4"
    make_clip(kind, clip, seed=seed, duration_s=3.5)
    result = analyze_media(clip)
    assert result.breaks == []
    assert result.media_type == "video"
    assert result.fps_sampled is not None and result.fps_sampled >= 4
    assert len(result.samples) >= 4 * 3
    assert result.subject_consistency > 0.8
    assert [f.rule for f in result.findings] == ["media.clean"]


def test_timeline_similarity_drops_after_a_cut(tmp_path: Path) -> None:
    clip = tmp_path / "cut.mp4"
    truth = make_clip("cut", clip, seed=11, duration_s=3.5)
    result = analyze_media(clip)
    t_cut = truth.events[0][0]
    before = [s.similarity_to_opening for s in result.samples if s.time_s < t_cut - 0.2]
    after = [s.similarity_to_opening for s in result.samples if s.time_s > t_cut + 0.2]
    assert min(before) > max(after)
    assert all(
        s.subject is None or s.subject.detector in ("lbp_frontal_face", "colour_saliency") for s in result.samples
    )


def test_palette_check_flags_off_palette_and_passes_on_palette(tmp_path: Path) -> None:
    clip = tmp_path / "static.mp4"
    make_clip("static", clip, seed=2, duration_s=2.0)
    own = [c.hex for c in analyze_media(clip).palette]
    on = analyze_media(clip, brand_palette=own)
    assert on.palette_check is not None and on.palette_check.passed
    off = analyze_media(clip, brand_palette=["#ff00ff", "#00ff00"])
    assert off.palette_check is not None and not off.palette_check.passed
    assert off.palette_check.off_palette_fraction > 0.9
    assert any(f.rule == "media.off_palette" for f in off.findings)


def test_references_and_transition(tmp_path: Path) -> None:
    clip = tmp_path / "jacket.mp4"
    make_clip("static", clip, seed=3, duration_s=2.0)
    other = tmp_path / "other.mp4"
    make_clip("static", other, seed=4, duration_s=2.0)
    still = tmp_path / "frame.png"
    Image.fromarray(np.full((90, 160, 3), (255, 0, 255), np.uint8)).save(still)
    result = analyze_media(clip, reference_images=[still], previous_clip=clip)
    assert result.transition_check is not None and not result.transition_check.is_break
    (ref,) = result.reference_checks
    assert not ref.passed and ref.score < 0.3
    same = analyze_media(clip, previous_clip=clip)
    assert same.transition_check is not None and same.transition_check.score > 0.9


def test_image_input_and_dominant_palette(tmp_path: Path) -> None:
    img = np.zeros((120, 200, 3), np.uint8)
    img[:, :150] = (200, 30, 40)
    img[:, 150:] = (20, 40, 180)
    path = tmp_path / "still.jpg"
    Image.fromarray(img).save(path, quality=95)
    result = analyze_media(path)
    assert result.media_type == "image"
    assert (result.width, result.height) == (200, 120)
    assert len(result.samples) == 1 and result.breaks == []
    palette = dominant_palette(path, k=3)
    assert palette[0].share == pytest.approx(0.75, abs=0.05)
    r, g, b = (int(palette[0].hex[i : i + 2], 16) for i in (1, 3, 5))
    assert r > 150 and g < 80 and b < 80
    assert dominant_palette(img, k=2)[1].share == pytest.approx(0.25, abs=0.05)


def test_bad_inputs_raise_media_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(MediaError, match="empty"):
        analyze_media(empty)
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    with pytest.raises(MediaError, match="not a readable video or image"):
        analyze_media(text)
    with pytest.raises(MediaError, match="not found"):
        analyze_media(tmp_path / "missing.mp4")
    clip = tmp_path / "clip.mp4"
    make_clip("static", clip, seed=1, duration_s=2.0)
    truncated = tmp_path / "truncated.mp4"
    data = clip.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaError):
        analyze_media(truncated)
    with pytest.raises(MediaError, match="hex colour"):
        analyze_media(clip, brand_palette=["red"])
    copy = tmp_path / "copy.mp4"
    shutil.copy(clip, copy)
    with pytest.raises(MediaError):
        analyze_media(copy, reference_images=[text])


def test_prefetch_hands_over_items_errors_and_stops_with_an_early_consumer() -> None:
    from tools.continuity.media.decode import prefetch

    assert list(prefetch(iter(range(10)), depth=2)) == list(range(10))

    def failing() -> Iterator[int]:
        yield 1
        raise MediaError("truncated")

    with pytest.raises(MediaError, match="truncated"):
        list(prefetch(failing()))

    closed: list[bool] = []

    def endless() -> Iterator[int]:
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.append(True)

    for item in prefetch(endless(), depth=2):
        if item == 3:
            break
    assert closed == [True]  # the worker stopped and closed the generator (a decoder's container)


# ---- real footage (tests/data/footage, CC-BY-4.0 excerpts of intel-iot-devkit/sample-videos) ----

FOOTAGE = Path(__file__).resolve().parents[1] / "data" / "footage"


def _frames(path: Path) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(container.streams.video[0])]


def _write(path: Path, frames: list[np.ndarray], fps: int = 30) -> None:
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        stream.options = {"crf": "18"}
        for rgb in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb))):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def test_a_hair_recolour_of_a_small_region_is_found_at_its_time() -> None:
    """The signer's hair (about 1% of the frame) turns blonde at 1.8 s: small against the frame, large
    against the head, and it stays."""
    result = analyze_media(FOOTAGE / "book_hair_blonde.mp4")
    assert len(result.breaks) == 1, result.breaks
    (found,) = result.breaks
    assert found.kind in ("subject_drift", "identity")
    assert abs(found.time_s - 1.8) <= TOLERANCE_S
    assert "subject_drift" in (found.kind, found.detail) or "still there" in found.detail
    assert found.frames is not None and found.fix


def test_a_slow_light_ramp_on_real_footage_is_not_a_break(tmp_path: Path) -> None:
    """Exposure -28% and white balance drifting over the clip, as in the footage README's *_ramp edits."""
    frames = _frames(FOOTAGE / "book_a.mp4")
    n = len(frames)
    ramped = []
    for k, f in enumerate(frames):
        a = k / (n - 1)
        gain = np.array([1.0 + 0.12 * a, 1.0, 1.0 - 0.14 * a], np.float32) * (1.0 - 0.28 * a)
        ramped.append(np.clip(f.astype(np.float32) * gain, 0, 255).astype(np.uint8))
    clip = tmp_path / "ramp.mp4"
    _write(clip, ramped)
    result = analyze_media(clip)
    assert result.breaks == [], result.breaks


def test_a_hard_cut_to_another_person_is_labelled_cut(tmp_path: Path) -> None:
    a, b = _frames(FOOTAGE / "book_a.mp4"), _frames(FOOTAGE / "sister_b.mp4")
    clip = tmp_path / "cut.mp4"
    _write(clip, a[:45] + b[45:])
    result = analyze_media(clip)
    assert [x.kind for x in result.breaks] == ["cut"], result.breaks
    assert abs(result.breaks[0].time_s - 1.5) <= TOLERANCE_S


def test_a_cut_to_another_take_of_the_same_set_is_labelled_cut() -> None:
    """The same signer, set and framing, another take from 1.8 s: little of the structure changes (the
    set and most of the person stay), but structure and the frame's colour step at the same instant."""
    result = analyze_media(FOOTAGE / "cut_take_book_walk.mp4")
    assert [x.kind for x in result.breaks] == ["cut"], result.breaks
    assert abs(result.breaks[0].time_s - 1.8) <= TOLERANCE_S


def test_people_walking_in_a_still_shot_are_not_breaks() -> None:
    """People walk, stop and turn away from the main subject: action, not a changed subject."""
    result = analyze_media(FOOTAGE / "people_walking.mp4")
    assert result.breaks == [], result.breaks


def test_cars_driving_through_while_the_light_rises_are_not_a_transition() -> None:
    """A top-down street while the exposure rises: the frame does not mix evenly, so no dissolve or fade."""
    result = analyze_media(FOOTAGE / "cars_passing.mp4")
    assert result.breaks == [], result.breaks


def test_a_dissolve_is_one_transition_with_its_start_and_end(tmp_path: Path) -> None:
    a, b = _frames(FOOTAGE / "book_a.mp4"), _frames(FOOTAGE / "sister_b.mp4")
    start, length = 36, 30  # 1.2 s to 2.2 s
    mixed = [
        (a[start + k] * (1 - (k + 1) / (length + 1)) + b[start + k] * ((k + 1) / (length + 1))).astype(np.uint8)
        for k in range(length)
    ]
    clip = tmp_path / "dissolve.mp4"
    _write(clip, a[:start] + mixed + b[start + length : len(b)])
    result = analyze_media(clip)
    assert [x.kind for x in result.breaks] == ["transition"], result.breaks
    (t,) = result.breaks
    assert t.start_s is not None and t.end_s is not None
    assert abs(t.start_s - 1.2) <= TOLERANCE_S and abs(t.end_s - 2.2) <= TOLERANCE_S and t.start_s < t.end_s
    assert t.frames is not None and t.frames[0] < t.frames[1]


def test_no_merge_rule_lets_another_kind_replace_a_cut() -> None:
    from tools.continuity.media.breaks import merge
    from tools.continuity.media.models import Break

    def at(t: float, kind: str) -> Break:
        return Break(time_s=t, kind=kind, magnitude=1.0, detail=kind)

    for other in ("flicker", "palette_shift", "subject_drift", "identity"):
        merged = merge([at(1.0, "cut"), at(1.1, other)])
        assert [b.kind for b in merged] == ["cut"], other
        merged = merge([at(1.1, other), at(1.2, "cut")])
        assert [b.kind for b in merged] == ["cut"], other
    span = Break(time_s=2.0, kind="transition", magnitude=1.0, detail="", start_s=1.5, end_s=2.5)
    assert [b.kind for b in merge([span, at(1.7, "flicker"), at(2.2, "subject_drift")])] == ["transition"]
