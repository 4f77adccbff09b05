"""The document model every reader produces, and the helpers the readers share.

A Document is one piece of style material as text, with heading-path sections indexing into it.
The helpers read a file's bytes within the size limit, decode text, build sections and turn file
stems into titles; each raises StyleInputError with the remedy for anything the caller can fix.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, Field

from tools.style.errors import StyleInputError
from tools.style.palette import PaletteColour

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_INLINE_TEXT_BYTES = 200_000


class Section(BaseModel):
    """A run of a Document's text under one heading path, e.g. "Style Bible > Lighting"."""

    heading: str
    char_start: int
    char_end: int


class Document(BaseModel):
    """One piece of style material as text; `sections` index into `text`."""

    source: str = Field(description="where it came from: a path, or 'inline:<title>'")
    title: str
    kind_hint: str = Field(description="kind guessed from format and folder; see effective_kind")
    text: str
    sections: list[Section]
    palette: list[PaletteColour] = Field(
        default_factory=list, description="dominant colours of an image, or a brand kit's swatches"
    )
    content_hash: str = Field(description="sha256 hex of the raw bytes (plus an image's caption file)")

    def section_text(self, section: Section) -> str:
        return self.text[section.char_start : section.char_end]


def _add_section(sections: list[Section], text: str, heading: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        sections.append(Section(heading=heading, char_start=start, char_end=end))


def _read_bytes(path: Path, label: str, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    try:
        if path.is_dir():
            raise StyleInputError(f"'{label}' is a directory; pass the files in it (style_ingest walks directories).")
        size = path.stat().st_size
        if size > max_bytes:
            raise StyleInputError(
                f"'{label}' is {size / 2**20:.1f} MB; the limit is {max_bytes / 2**20:g} MB per file. "
                "Split it, or downscale/compress it, and ingest again."
            )
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise StyleInputError(f"'{label}' does not exist; check the path (it is resolved on the server).") from exc
    except PermissionError as exc:
        raise StyleInputError(f"'{label}' is not readable by the server; fix its permissions.") from exc
    except OSError as exc:
        raise StyleInputError(f"'{label}' could not be read ({exc.strerror}); check the path.") from exc


def _decode(raw: bytes, label: str) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = raw.decode("utf-16")
    else:
        if b"\x00" in raw[:8192]:
            raise StyleInputError(f"'{label}' looks binary, not text; check the file and its suffix.")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise StyleInputError(
                f"'{label}' is not UTF-8 text (invalid byte at offset {exc.start}); "
                "re-save it as UTF-8 and ingest again."
            ) from exc
    return _normalise_newlines(text)


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _humanise(stem: str) -> str:
    """'ferry_deck' -> 'Ferry Deck'; words already capitalised are kept as written."""
    words = re.sub(r"[_\-\s]+", " ", stem).strip().split(" ")
    return " ".join(w.capitalize() if w.islower() else w for w in words) or "Untitled"
