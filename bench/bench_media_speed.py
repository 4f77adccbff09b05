"""Speed of the media continuity analysis (face identity included) against a pure PyAV decode.

    python bench/bench_media_speed.py [--runs 5] [--seconds 8]

Renders an 8 s clip at 1280x720 and at 1920x1080 from the real-footage excerpt in tests/data/footage
(a signer facing the camera, so the face tracker and the identity descriptors do real work), played
forwards then backwards so the loop has no cut. For each size it times, alternately and in the same run,
a pure PyAV decode of every frame and analyze_media on the same file, and prints the median of each and
the ratio of the medians. The target is analysis ≤ 3x the decode at 720p.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tools.continuity.media import analyze_media  # noqa: E402

SOURCE = REPO / "tests" / "data" / "footage" / "book_a.mp4"


def render(path: Path, width: int, height: int, seconds: float) -> None:
    with av.open(str(SOURCE)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or 30)
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    loop = frames + frames[-2:0:-1]
    wanted = int(seconds * fps)
    with av.open(str(path), "w") as out:
        enc = out.add_stream("libx264", rate=Fraction(round(fps * 1000), 1000))
        enc.width, enc.height, enc.pix_fmt = width, height, "yuv420p"
        enc.options = {"crf": "20", "preset": "veryfast"}
        for k in range(wanted):
            big = cv2.resize(loop[k % len(loop)], (width, height), interpolation=cv2.INTER_CUBIC)
            for packet in enc.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(big, dtype=np.uint8))):
                out.mux(packet)
        for packet in enc.encode():
            out.mux(packet)


def decode(path: Path) -> float:
    start = time.perf_counter()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for _ in container.decode(stream):
            pass
    return time.perf_counter() - start


def analyse(path: Path) -> float:
    start = time.perf_counter()
    analyze_media(path)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for width, height in ((1280, 720), (1920, 1080)):
            path = Path(tmp) / f"clip_{height}.mp4"
            render(path, width, height, args.seconds)
            analyse(path)  # warm: dlib's models and the lookup tables load once per process
            decodes, analyses = [], []
            for _ in range(args.runs):
                decodes.append(decode(path))
                analyses.append(analyse(path))
            d, a = statistics.median(decodes), statistics.median(analyses)
            paired = statistics.median(x / y for x, y in zip(analyses, decodes, strict=True))
            target = " (target <= 3x)" if height == 720 else ""
            print(
                f"{width}x{height} {args.seconds:g} s: pure decode {d:.2f} s, analysis with face identity "
                f"{a:.2f} s (medians of {args.runs} alternating runs) -> ratio {a / d:.2f}x{target}; "
                f"median of the per-run ratios {paired:.2f}x",
                flush=True,
            )


if __name__ == "__main__":
    main()
