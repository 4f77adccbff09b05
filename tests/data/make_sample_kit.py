"""Regenerate the binary files of the sample kit: three PNG references and treatment.pdf.

Run from anywhere: `python tests/data/make_sample_kit.py`. The output is committed; this script
exists so the binaries can be reviewed and rebuilt. The PDF is assembled by hand (a Helvetica
text stream per page) so that its text is really extractable, unlike an image saved as PDF.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
from PIL import Image

KIT = Path(__file__).resolve().parents[2] / "server" / "sample_kit"

TREATMENT_TITLE = "Night Ferry - Treatment"
TREATMENT_PAGES: list[list[str]] = [
    [
        "#NIGHT FERRY",
        "#Treatment - Lumen & Moss",
        "",
        "Written and directed by Ines Halvorsen. Animated short, running time nine minutes, "
        "38 shots over 9 scenes. Production schedule: fourteen weeks.",
        "",
        "LOGLINE. On the last night before her ferry is decommissioned, a young deckhand and the "
        "old captain who has never missed a crossing must bring the Saint Aud home through a storm.",
    ],
    [
        "#Acts One and Two",
        "",
        "ACT ONE. Dusk at the harbour. Ode Marrin lights the three wheelhouse lanterns as he has "
        "every evening for thirty-one years. Mara Vell, nineteen, in her first season, tends the bow "
        "lantern and barely speaks. Their only passengers are a sleeping lorry driver and a small "
        "boy named Tobiah who folds paper boats from the timetable and drops them over the rail.",
        "",
        "ACT TWO. Mid-crossing the squall arrives. The bow lantern blows out, and Mara climbs "
        "forward along the green rail to relight it while Ode holds the ferry into the swell. "
        "We learn that Mara's father was the ferry's engineer, lost in a winter storm three years ago.",
    ],
    [
        "#Act Three and Ending",
        "",
        "ACT THREE. The storm passes. Ode, his hands shaking, asks Mara to take the wheel for the "
        "approach. She brings the Saint Aud alongside the far pier at first light. Ode puts the "
        "lanterns out one by one. Tobiah's last paper boat floats past the pier, still upright.",
        "",
        "FINAL IMAGE. Wide and high: the small ferry at the pier in a pink-gold dawn, Mara's red "
        "coat hanging open, Ode walking ashore without looking back.",
        "",
        "THEMES. Endings as handovers. Grief carried quietly. Craft passed from one pair of hands to the next.",
    ],
]


def harbour_dusk() -> Image.Image:
    """Dusk sky from Night Navy down to Harbour Teal, with a dark band of water."""
    height, width = 72, 128
    top, bottom = np.array([0x14, 0x21, 0x3D]), np.array([0x1F, 0x5F, 0x63])
    t = np.linspace(0.0, 1.0, 48)[:, None]
    sky = (top * (1 - t) + bottom * t).round().astype(np.uint8)
    rows = np.concatenate([sky, np.tile(np.array([[0x0E, 0x2A, 0x2E]], dtype=np.uint8), (height - 48, 1))])
    return Image.fromarray(np.repeat(rows[:, None, :], width, axis=1), "RGB")


def lantern_glow() -> Image.Image:
    """A warm Lantern Amber glow fading into a dark navy night."""
    size = 96
    y, x = np.mgrid[0:size, 0:size]
    r = np.sqrt((x - size / 2) ** 2 + (y - size / 2) ** 2) / (size / 2)
    glow = np.clip(1.0 - r, 0.0, 1.0)[..., None] ** 0.6
    amber, night = np.array([0xF2, 0xA5, 0x41]), np.array([0x14, 0x21, 0x3D])
    return Image.fromarray((amber * glow + night * (1 - glow)).round().astype(np.uint8), "RGB")


def red_coat_silhouette() -> Image.Image:
    """A figure in a Coat Red coat against Fog Grey: the costume's shape and colour."""
    width, height = 72, 128
    pixels = np.tile(np.array([0xA7, 0xB1, 0xB4], dtype=np.uint8), (height, width, 1))
    y, x = np.mgrid[0:height, 0:width]
    head = (x - 36) ** 2 + (y - 24) ** 2 <= 10**2
    # The coat widens from shoulders to hem: a trapezoid from y=36 to y=110.
    half_width = 12 + (y - 36) * 0.18
    coat = (y >= 36) & (y <= 110) & (np.abs(x - 36) <= half_width)
    legs = (y > 110) & (np.abs(x - 36) <= 9) & (np.abs(x - 36) >= 2)
    pixels[head | legs] = (0x1A, 0x1A, 0x1A)
    pixels[coat] = (0xB3, 0x26, 0x1E)
    return Image.fromarray(pixels, "RGB")


def build_pdf(pages: list[list[str]], title: str) -> bytes:
    """A minimal PDF 1.4: one Helvetica text stream per page. Lines starting with '#' are bold."""
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, filled in once the page objects are numbered
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Title (" + _pdf_string(title) + b") /Producer (make_sample_kit.py) >>",
    ]
    page_ids = []
    for lines in pages:
        stream = _page_stream(lines)
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        content_id = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents %d 0 R >>" % content_id
        )
        page_ids.append(len(objects))
    kids = b" ".join(b"%d 0 R" % i for i in page_ids)
    objects[1] = b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % len(page_ids)

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _page_stream(lines: list[str]) -> bytes:
    ops = [b"BT", b"15 TL", b"72 740 Td"]
    for line in lines:
        if line.startswith("#"):
            ops += [b"/F2 14 Tf", b"(" + _pdf_string(line[1:]) + b") Tj T*"]
            continue
        ops.append(b"/F1 11 Tf")
        if not line:
            ops.append(b"T*")
        for wrapped in textwrap.wrap(line, 88):
            ops.append(b"(" + _pdf_string(wrapped) + b") Tj T*")
    ops.append(b"ET")
    return b"\n".join(ops)


def _pdf_string(text: str) -> bytes:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("ascii")


def main() -> None:
    refs = KIT / "refs"
    refs.mkdir(parents=True, exist_ok=True)
    for name, image in (
        ("harbour_dusk.png", harbour_dusk()),
        ("lantern_glow.png", lantern_glow()),
        ("red_coat_silhouette.png", red_coat_silhouette()),
    ):
        image.save(refs / name, optimize=True)
    (KIT / "treatment.pdf").write_bytes(build_pdf(TREATMENT_PAGES, TREATMENT_TITLE))


if __name__ == "__main__":
    main()
