"""Decoding: images via Pillow, video via PyAV, downscaled while decoding so memory stays bounded.

Only the sampled frames are converted to RGB, at analysis size (swscale does the downscale), so a long
4K clip never has a full-resolution RGB frame in Python. Every decoded frame contributes its mean luma
(read from the Y plane without conversion), which is what flicker detection needs.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar, cast

import av
import numpy as np
from av.video.reformatter import VideoReformatter
from PIL import Image, UnidentifiedImageError

from .errors import MediaError

log = logging.getLogger(__name__)

T = TypeVar("T")
_DONE = object()

_YUV_PLANAR = {
    "yuv420p",
    "yuvj420p",
    "yuv422p",
    "yuvj422p",
    "yuv444p",
    "yuvj444p",
    "nv12",
    "nv21",
    "yuv420p10le",
    "gray",
}


def sample_rate_for(duration_s: float) -> float:
    """At least 4 samples a second; denser for short clips where every break matters."""
    if duration_s <= 20:
        return 8.0
    if duration_s <= 60:
        return 6.0
    return 4.0


def analysis_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    scale = min(1.0, max_side / max(width, height))
    # even sizes keep swscale and chroma subsampling happy
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


@dataclass
class VideoInfo:
    width: int = 0
    height: int = 0
    fps_native: float | None = None
    fps_sampled: float | None = None
    duration_s: float = 0.0
    frame_times: list[float] = field(default_factory=list)
    frame_luma: list[float] = field(default_factory=list)


def _check_file(path: Path) -> None:
    if not path.exists():
        raise MediaError(f"{path}: file not found; pass the path of an existing video or image")
    if not path.is_file():
        raise MediaError(f"{path}: not a regular file; pass the path of a video or image file")
    if path.stat().st_size == 0:
        raise MediaError(
            f"{path}: the file is empty (0 bytes); the download or render did not finish — fetch or export it again"
        )


def load_image(path: Path, max_side: int) -> tuple[np.ndarray, int, int] | None:
    """RGB uint8 at analysis size plus the original size, or None if Pillow does not see a still image."""
    try:
        with Image.open(path) as img:
            if getattr(img, "n_frames", 1) > 1:
                return None  # animated GIF/WebP: let PyAV treat it as video
            width, height = img.size
            aw, ah = analysis_size(width, height, max_side)
            img.draft("RGB", (aw, ah))  # JPEG decodes at reduced scale: huge images stay cheap
            rgb = img.convert("RGB").resize((aw, ah), Image.Resampling.BOX)
            return np.asarray(rgb, dtype=np.uint8), width, height
    except UnidentifiedImageError:
        return None
    except Image.DecompressionBombError as exc:
        raise MediaError(f"{path}: image is too large to analyse safely ({exc}); downscale it first") from exc
    except OSError as exc:
        raise MediaError(f"{path}: the image is truncated or corrupt ({exc}); export it again") from exc


def _luma_mean(frame: av.VideoFrame) -> float:
    if frame.format.name in _YUV_PLANAR:
        plane = frame.planes[0]
        if frame.format.name.endswith("10le"):
            y16 = np.frombuffer(memoryview(plane), np.uint16).reshape(plane.height, plane.line_size // 2)
            return float(y16[::4, : plane.width : 4].mean()) / 4.0
        y = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
        return float(y[::4, : plane.width : 4].mean())
    small = frame.to_ndarray(format="gray", width=64, height=36)
    return float(small.mean())


def iter_video(
    path: Path, max_side: int, info: VideoInfo, face_side: int = 0, face_every_s: float = 0.25
) -> Iterator[tuple[float, np.ndarray, np.ndarray | None]]:
    """Yields (time_s, RGB uint8 at analysis size, RGB at face size or None) for each sample; fills `info`.

    With `face_side`, every sample at least `face_every_s` after the last one also comes at up to
    `face_side` pixels (faces need more pixels than colour statistics do); otherwise the third item is None.
    """
    try:
        container = av.open(str(path))
    except (av.FFmpegError, UnicodeDecodeError) as exc:
        raise MediaError(
            f"{path}: not a readable video or image ({exc.__class__.__name__}); pass an MP4/MOV/WebM "
            "video or a PNG/JPEG image — if it is one, the file is truncated or corrupt"
        ) from exc
    with container:
        if not container.streams.video:
            raise MediaError(f"{path}: the file has no video stream (audio only?); pass a video or image")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        info.width, info.height = stream.codec_context.width, stream.codec_context.height
        if info.width <= 0 or info.height <= 0:
            raise MediaError(f"{path}: the video stream has no frame size; the file is corrupt — export it again")
        rate = stream.average_rate or stream.guessed_rate
        info.fps_native = float(rate) if rate else None
        declared = _declared_duration(container, stream)
        info.fps_sampled = sample_rate_for(declared or 0.0)
        aw, ah = analysis_size(info.width, info.height, max_side)
        step = 1.0 / info.fps_sampled
        half_frame = 0.5 / info.fps_native if info.fps_native else 0.0
        start: float | None = None
        next_t = 0.0
        fw, fh = analysis_size(info.width, info.height, max(face_side, max_side))
        next_face = 0.0
        # one reformatter per size for the whole clip: it caches the scaler, which is ~10x cheaper than per call
        reformatter = VideoReformatter()
        face_reformatter = VideoReformatter()
        try:
            for frame in container.decode(stream):
                if frame.time is None:
                    continue
                if start is None:
                    start = frame.time
                t = frame.time - start
                info.frame_times.append(t)
                info.frame_luma.append(_luma_mean(frame))
                if t + half_frame >= next_t:
                    rgb = reformatter.reformat(
                        frame, width=aw, height=ah, format="rgb24", interpolation="AREA"
                    ).to_ndarray()
                    face = None
                    if face_side and t + half_frame >= next_face:
                        next_face = t + face_every_s - half_frame
                        face = (
                            rgb
                            if (fw, fh) == (aw, ah)
                            else face_reformatter.reformat(
                                frame, width=fw, height=fh, format="rgb24", interpolation="AREA"
                            ).to_ndarray()
                        )
                    yield t, rgb, face
                    while next_t <= t + half_frame:
                        next_t += step
        except av.FFmpegError as exc:
            if not info.frame_times:
                raise MediaError(
                    f"{path}: no frame could be decoded ({exc}); the video is corrupt — export or download it again"
                ) from exc
            raise MediaError(
                f"{path}: decoding failed after {info.frame_times[-1]:.2f} s ({exc}); the video is "
                "truncated or corrupt — export or download it again"
            ) from exc
    if not info.frame_times:
        raise MediaError(f"{path}: the video has no decodable frames; export or download it again")
    frame_dur = 1.0 / info.fps_native if info.fps_native else 0.0
    info.duration_s = info.frame_times[-1] + frame_dur
    if declared and info.duration_s < 0.9 * declared - 2 * frame_dur:
        raise MediaError(
            f"{path}: the video is truncated: frames stop at {info.duration_s:.2f} s of a declared "
            f"{declared:.2f} s; export or download it again"
        )


def _declared_duration(container: av.container.InputContainer, stream: av.VideoStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return None


def prefetch(items: Iterator[T], depth: int = 4) -> Iterator[T]:
    """Runs `items` in a worker thread, `depth` items ahead of the consumer.

    PyAV decodes and rescales without the GIL, so the next frames decode while this thread analyses the
    current one (on HD clips decoding is about as costly as the analysis). Exceptions reach the consumer;
    a consumer that stops early stops the worker, which closes the generator (and its container).
    """
    q: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not put(item):
                    break
            put(_DONE)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put(exc)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=work, name="media-decode", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield cast(T, item)
    finally:
        stop.set()
        worker.join()
