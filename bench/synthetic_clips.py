"""Synthetic clips with known ground truth for the media continuity analysis.

A drawn character (head ellipse with eyes, hair block, jacket, legs) stands on a textured background.
Each clip kind plants at most one event at a known time; the controls plant none but move the camera,
change the light slowly, add heavy sensor noise, or walk the character across the frame.

Used by `bench/bench_media_accuracy.py` and by the tests. Run directly to write one clip per kind:
    python bench/synthetic_clips.py OUT_DIR
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import av
import numpy as np

FPS = 24
WIDTH = 320
HEIGHT = 180

# Kinds that plant one event, with the break kind the analysis should report for it.
EVENT_KINDS: dict[str, str] = {
    "face": "subject_drift",
    "hair": "subject_drift",
    "jacket": "subject_drift",
    "palette": "palette_shift",
    "cut": "cut",
    "flicker": "flicker",
    # combined and harder cases: a change while the camera pans or the character walks, and a change to a
    # colour the background already has (the colour-set test alone cannot see it appear)
    "jacket_pan": "subject_drift",
    "face_pan": "subject_drift",
    "face_walk": "subject_drift",
    "jacket_walk": "subject_drift",
    "jacket_bg": "subject_drift",
    "face_bg": "subject_drift",
}
CONTROL_KINDS: tuple[str, ...] = ("static", "pan", "lighting", "noise", "walk")
ALL_KINDS: tuple[str, ...] = (*EVENT_KINDS, *CONTROL_KINDS)

# Character colours come from their own sets; the *_bg kinds change the jacket or face to a colour taken
# from the clip's own background, so a planted colour is not always a colour the frame lacked.
SKIN = [(233, 190, 160), (198, 140, 105), (141, 85, 56), (250, 215, 190)]
HAIR = [(60, 40, 25), (20, 20, 20), (200, 160, 80), (150, 50, 30), (120, 120, 120)]
JACKET = [(190, 30, 40), (30, 60, 170), (30, 130, 60), (230, 190, 40), (120, 40, 140), (240, 240, 235)]
ENV = [
    [(90, 110, 80), (120, 140, 100), (70, 90, 70), (150, 160, 130)],  # park
    [(110, 110, 120), (150, 150, 155), (80, 85, 95), (180, 175, 170)],  # street
    [(150, 120, 90), (180, 150, 115), (110, 85, 60), (200, 185, 160)],  # interior
    [(90, 120, 150), (130, 160, 190), (60, 85, 110), (170, 190, 205)],  # coast
]


@dataclass
class GroundTruth:
    kind: str
    duration_s: float
    events: list[tuple[float, str]] = field(default_factory=list)


@dataclass
class _Character:
    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    jacket: tuple[int, int, int]
    scale: float = 1.0


def _pick(
    rng: np.random.Generator, options: list[tuple[int, int, int]], exclude: tuple[int, int, int] | None = None
) -> tuple[int, int, int]:
    choices = [c for c in options if c != exclude]
    return choices[int(rng.integers(len(choices)))]


def _background(
    rng: np.random.Generator, width: int, height: int, env: list[tuple[int, int, int]] | None = None
) -> np.ndarray:
    """A gradient with soft blobs and fine texture, so a pan has something to move."""
    env = env if env is not None else ENV[int(rng.integers(len(ENV)))]
    base = np.array(env[0], np.float32)
    top = np.array(env[3], np.float32)
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    img = np.broadcast_to(top * (1 - ramp) + base * ramp, (height, width, 3)).copy()
    yy, xx = np.mgrid[0:height, 0:width]
    for _ in range(int(width * height / 2500)):
        cy, cx = rng.uniform(0, height), rng.uniform(0, width)
        ry, rx = rng.uniform(6, 30), rng.uniform(6, 40)
        colour = np.array(env[int(rng.integers(len(env)))], np.float32)
        mask = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1.0
        img[mask] = 0.5 * img[mask] + 0.5 * colour
    img += rng.normal(0.0, 6.0, (height, width, 1)).astype(np.float32)
    return img


@lru_cache(maxsize=4)
def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:h, 0:w]
    return yy.astype(np.float32), xx.astype(np.float32)


def _draw_character(img: np.ndarray, ch: _Character, cx: float, ground_y: float) -> None:
    """Draws in place; cx is the body centre, ground_y the feet line (pixels, may be off-frame)."""
    h, w = img.shape[:2]
    s = ch.scale
    yy, xx = _grid(h, w)

    def rect(x0: float, y0: float, x1: float, y1: float, colour: tuple[int, int, int]) -> None:
        xa, xb = max(0, round(x0)), min(w, round(x1))
        ya, yb = max(0, round(y0)), min(h, round(y1))
        if xa < xb and ya < yb:
            img[ya:yb, xa:xb] = colour

    legs_top = ground_y - 34 * s
    jacket_top = legs_top - 62 * s
    head_cy = jacket_top - 22 * s
    rect(cx - 18 * s, legs_top, cx - 4 * s, ground_y, (40, 40, 50))
    rect(cx + 4 * s, legs_top, cx + 18 * s, ground_y, (40, 40, 50))
    rect(cx - 28 * s, jacket_top, cx + 28 * s, legs_top, ch.jacket)
    head = ((xx - cx) / (17 * s)) ** 2 + ((yy - head_cy) / (22 * s)) ** 2 <= 1.0
    img[head] = ch.skin
    rect(cx - 19 * s, head_cy - 26 * s, cx + 19 * s, head_cy - 10 * s, ch.hair)
    for ex in (-7, 7):
        eye = ((xx - cx - ex * s) / (3 * s)) ** 2 + ((yy - head_cy + 2 * s) / (2.5 * s)) ** 2 <= 1.0
        img[eye] = (25, 25, 30)


def _yuv420p(rgb: np.ndarray) -> np.ndarray:
    """BT.601 limited-range YUV 4:2:0 (what swscale makes of RGB by default), computed here: swscale's own
    conversion gave different bytes for the same frames from run to run (it depends on buffer alignment
    and the process's heap), so a test clip flipped between one break and two across runs of the suite."""
    h, w = rgb.shape[:2]
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
    cb = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
    cr = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255

    def half(plane: np.ndarray) -> np.ndarray:
        return plane[: h // 2 * 2, : w // 2 * 2].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))

    planes = [y, half(cb), half(cr)]
    u8 = [np.clip(np.rint(p), 0, 255).astype(np.uint8) for p in planes]
    return np.concatenate([u8[0].reshape(-1), u8[1].reshape(-1), u8[2].reshape(-1)]).reshape(h * 3 // 2, w)


def _encode(frames: list[np.ndarray], path: Path) -> None:
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "20", "preset": "veryfast"}
        for arr in frames:
            frame = av.VideoFrame.from_ndarray(_yuv420p(arr), format="yuv420p")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _event_frame(rng: np.random.Generator, n_frames: int) -> int:
    """An event frame at least 1.2 s from either end, so both sides have a baseline."""
    margin = min(int(1.2 * FPS), n_frames // 3)
    return int(rng.integers(margin, max(margin + 1, n_frames - margin)))


def make_clip(
    kind: str, path: Path, seed: int, *, width: int = WIDTH, height: int = HEIGHT, duration_s: float | None = None
) -> GroundTruth:
    """Renders one clip of `kind` to `path` (mp4, H.264) and returns its ground truth."""
    if kind not in ALL_KINDS:
        raise ValueError(f"unknown clip kind {kind!r}; expected one of {', '.join(ALL_KINDS)}")
    rng = np.random.default_rng(seed)
    change, _, motion = kind.partition("_")  # e.g. jacket_pan: a jacket change during a pan
    if motion == "bg":
        motion = ""
    dur = duration_s if duration_s is not None else float(rng.uniform(4.0, 6.0))
    n = round(dur * FPS)
    k = width / WIDTH  # geometry is designed at 320x180 and scaled
    pan_speed = float(rng.uniform(25, 60)) * k * (1 if rng.random() < 0.5 else -1)
    bg_width = width + int(abs(pan_speed) * dur) + 4 if "pan" in (kind, motion) else width
    env = ENV[int(rng.integers(len(ENV)))]
    bg = _background(rng, bg_width, height, env)
    ch = _Character(_pick(rng, SKIN), _pick(rng, HAIR), _pick(rng, JACKET), scale=k * float(rng.uniform(0.9, 1.1)))
    cx0 = width * float(rng.uniform(0.35, 0.65))
    ground = height - 8 * k
    noise_sigma = 12.0 if kind == "noise" else 2.0
    t_event = _event_frame(rng, n)
    events: list[tuple[float, str]] = []
    if kind in EVENT_KINDS:
        events.append((t_event / FPS, EVENT_KINDS[kind]))

    changed = _Character(ch.skin, ch.hair, ch.jacket, ch.scale)
    from_bg = kind.endswith("_bg")
    if change == "face":
        changed.skin = _pick(rng, env[1:] if from_bg else SKIN, exclude=ch.skin)
    elif change == "hair":
        changed.hair = _pick(rng, HAIR, exclude=ch.hair)
    elif change == "jacket":
        changed.jacket = _pick(rng, env if from_bg else JACKET, exclude=ch.jacket)
    grade = np.ones(3, np.float32)
    offset = np.zeros(3, np.float32)
    if kind == "palette":
        warm = rng.random() < 0.5
        amount = float(rng.uniform(0.12, 0.25))
        grade = np.array([1 + amount, 1.0, 1 - amount] if warm else [1 - amount, 1.0, 1 + amount], np.float32)
        offset = np.full(3, float(rng.uniform(-15, 15)), np.float32)
    cut_bg = _background(rng, width, height) if kind == "cut" else bg
    cut_ch = _Character(_pick(rng, SKIN), _pick(rng, HAIR), _pick(rng, JACKET), scale=k * float(rng.uniform(1.3, 1.6)))
    cut_x = width * float(rng.uniform(0.3, 0.7))
    flicker_len = int(rng.integers(1, 4))
    flicker_gain = float(rng.uniform(1.35, 1.6)) if rng.random() < 0.7 else float(rng.uniform(0.5, 0.65))

    frames: list[np.ndarray] = []
    for i in range(n):
        t = i / FPS
        after = i >= t_event
        sway = 2.0 * k * np.sin(2 * np.pi * 0.4 * t)  # idle motion, so nothing is frozen
        if "pan" in (kind, motion):
            off = round(abs(pan_speed) * t) if pan_speed > 0 else bg_width - width - round(abs(pan_speed) * t)
            img = bg[:, off : off + width].copy()
            _draw_character(img, changed if after else ch, cx0 + (bg_width / 2 - off - width / 2) * 0.3 + sway, ground)
        elif "walk" in (kind, motion):
            x = -40 * k + (width + 80 * k) * (i / max(1, n - 1))
            img = bg.copy()
            _draw_character(img, changed if after else ch, x, ground + 2 * k * abs(np.sin(2 * np.pi * 1.5 * t)))
        elif kind == "cut" and after:
            img = cut_bg.copy()
            _draw_character(img, cut_ch, cut_x + sway, height + 60 * k)
        else:
            img = bg.copy()
            _draw_character(img, changed if after else ch, cx0 + sway, ground)
        if kind == "palette" and after:
            img = img * grade + offset
        if kind == "lighting":
            img = img * (0.65 + 0.6 * i / max(1, n - 1))
        if kind == "flicker" and t_event <= i < t_event + flicker_len:
            img = img * flicker_gain
        img = img + rng.normal(0.0, noise_sigma, img.shape).astype(np.float32)
        frames.append(np.clip(img, 0, 255).astype(np.uint8))
    _encode(frames, path)
    return GroundTruth(kind=kind, duration_s=n / FPS, events=events)


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/out/clips")
    out.mkdir(parents=True, exist_ok=True)
    for clip_kind in ALL_KINDS:
        gt = make_clip(clip_kind, out / f"{clip_kind}.mp4", seed=1)
        sys.stderr.write(f"{clip_kind}: {gt.events}\n")
