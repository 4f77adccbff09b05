"""Images (PNG, JPEG): a short Markdown card of caption, tags, dominant colours and size.

Pillow (and numpy and scikit-image, for the palette) load on the first image read.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from tools.style.errors import StyleInputError
from tools.style.palette import PaletteColour, image_palette
from tools.style.readers.document import MAX_INLINE_TEXT_BYTES, _decode, _read_bytes

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
# A caption for `hero.png` lives in `hero.png.txt` or `hero.png.md`.
SIDECAR_SUFFIXES = (".txt", ".md")
MAX_IMAGE_PIXELS = 50_000_000
PALETTE_SIZE = 5


def _read_caption(path: Path, label: str) -> tuple[bytes | None, str]:
    for suffix in SIDECAR_SUFFIXES:
        sidecar = path.with_name(path.name + suffix)
        if sidecar.is_file():
            raw = _read_bytes(sidecar, f"{label}{suffix}")
            if len(raw) > MAX_INLINE_TEXT_BYTES:
                raise StyleInputError(
                    f"caption file '{label}{suffix}' is {len(raw):,} bytes; keep captions under "
                    f"{MAX_INLINE_TEXT_BYTES:,} bytes and ingest longer notes as their own file."
                )
            return raw, _decode(raw, f"{label}{suffix}").strip()
    return None, ""


def _read_image(
    raw: bytes, label: str, title: str, caption: str, tags: Sequence[str]
) -> tuple[str, list[PaletteColour]]:
    from PIL import Image, UnidentifiedImageError

    formats = ("PNG", "JPEG")
    try:
        with Image.open(io.BytesIO(raw), formats=formats) as probe:
            width, height = probe.size
            kind = probe.format or "image"
            if width * height > MAX_IMAGE_PIXELS:
                raise StyleInputError(
                    f"'{label}' is {width}x{height} pixels; the limit is {MAX_IMAGE_PIXELS:,} pixels. "
                    "Downscale it (a 2048 px reference is plenty) and ingest again."
                )
            probe.verify()
        # verify() leaves the image unusable, and only a full decode catches a truncated body.
        with Image.open(io.BytesIO(raw), formats=formats) as image:
            image.draft("RGB", (512, 512))  # JPEG: decode at reduced size; the palette needs no more
            image.load()
            palette = image_palette(image, PALETTE_SIZE)
    except StyleInputError:
        raise
    except Exception as exc:  # decoders raise OSError, SyntaxError, ValueError...: all mean "unreadable"
        # Pillow's "cannot identify image file <BytesIO at 0x...>" says nothing useful to a user.
        detail = "unrecognised file signature" if isinstance(exc, UnidentifiedImageError) else f"{exc}"
        raise StyleInputError(
            f"'{label}' could not be decoded as a PNG or JPEG image ({type(exc).__name__}: {detail}). "
            "It may be truncated or another format under the wrong suffix: re-export it as PNG or JPEG."
        ) from exc

    lines = [f"# {title}", f"Reference image: {caption or title}"]
    if tags:
        lines.append("Tags: " + ", ".join(tags))
    dominant = ", ".join(f"{c.name} {c.hex} ({round((c.share or 0) * 100)}%)" for c in palette)
    lines.append(f"Dominant colours: {dominant}")
    lines.append(f"Size: {width}x{height} px {kind}")
    return "\n".join(lines) + "\n", palette
