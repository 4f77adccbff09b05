"""Dispatch: which reader a file gets (by suffix), its kind hint, inline text, and the final checks."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from tools.style.errors import StyleInputError
from tools.style.palette import PaletteColour
from tools.style.readers.brand_kit import JSON_SUFFIXES, _read_brand_kit
from tools.style.readers.document import (
    MAX_FILE_BYTES,
    MAX_INLINE_TEXT_BYTES,
    Document,
    _humanise,
    _normalise_newlines,
    _read_bytes,
)
from tools.style.readers.image import IMAGE_SUFFIXES, SIDECAR_SUFFIXES, _read_caption, _read_image
from tools.style.readers.markdown import MARKDOWN_SUFFIXES, _read_markdown, markdown_sections
from tools.style.readers.pdf import PDF_SUFFIXES, _read_pdf
from tools.style.readers.text import TEXT_SUFFIXES, _read_plain_text

# Bounds the text extracted from any one source (about 1,700 chunks at the default size).
MAX_DOCUMENT_CHARS = 2_000_000
DEFAULT_KIND = "guide"

SUPPORTED_SUFFIXES = MARKDOWN_SUFFIXES + TEXT_SUFFIXES + PDF_SUFFIXES + JSON_SUFFIXES + IMAGE_SUFFIXES

# Folder names that say what a file is, nearest folder first; the caller's explicit kind wins.
_FOLDER_KINDS = {
    "characters": "character",
    "character": "character",
    "locations": "location",
    "location": "location",
    "props": "prop",
    "palettes": "palette",
    "typography": "typography",
    "notes": "director_note",
    "director_notes": "director_note",
    "approved": "approved_shot",
    "rejected": "rejected_shot",
}
_STEM_KINDS = {
    "tone": "tone",
    "typography": "typography",
    "palette": "palette",
    "director_notes": "director_note",
}


def effective_kind(requested: str, hint: str) -> str:
    """The caller's kind, unless it is the default, in which case the reader's guess."""
    return hint if requested == DEFAULT_KIND else requested


def is_sidecar(path: Path) -> bool:
    """True for `x.png.txt` / `x.png.md` next to `x.png`: a caption, not material of its own."""
    if path.suffix.lower() not in SIDECAR_SUFFIXES:
        return False
    image = path.with_suffix("")
    return image.suffix.lower() in IMAGE_SUFFIXES and image.is_file()


def read_text(text: str, title: str | None = None, *, source: str | None = None) -> Document:
    """Inline text (Markdown or plain) as a Document. The title defaults to its first heading or line."""
    size = len(text.encode("utf-8"))
    if size > MAX_INLINE_TEXT_BYTES:
        raise StyleInputError(
            f"text is {size:,} bytes; the limit for inline text is {MAX_INLINE_TEXT_BYTES:,}. "
            "Split it into several ingests, or save it as a file and ingest its path."
        )
    if not text.strip():
        raise StyleInputError("text is empty; pass the material itself in `text`, or pass file paths instead.")
    body = _normalise_newlines(text)
    found_title, sections = markdown_sections(body, (title or "").strip() or _first_line(body))
    doc_title = (title or "").strip() or found_title
    return _finish(
        Document(
            source=source or f"inline:{doc_title}",
            title=doc_title,
            kind_hint=DEFAULT_KIND,
            text=body,
            sections=sections,
            content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        )
    )


def read_source(
    path: Path, *, source: str | None = None, tags: Sequence[str] = (), max_bytes: int = MAX_FILE_BYTES
) -> Document:
    """Read one file by its suffix. `source` names it in messages and results (default: the path);
    `tags` are written into an image's indexed text so they can be searched; `max_bytes` is the
    caller's size limit (the server passes STUDIO_MAX_FILE_MB)."""
    label = source or path.as_posix()
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise StyleInputError(
            f"'{label}' has unsupported type '{suffix or '(no suffix)'}'. Supported: "
            f"{', '.join(SUPPORTED_SUFFIXES)}. Convert it (e.g. export .docx as PDF or Markdown) "
            "and ingest again."
        )
    raw = _read_bytes(path, label, max_bytes)
    content_hash = hashlib.sha256(raw).hexdigest()
    palette: list[PaletteColour] = []

    if suffix in MARKDOWN_SUFFIXES:
        title, text, sections = _read_markdown(raw, label, _humanise(path.stem))
    elif suffix in TEXT_SUFFIXES:
        title, text, sections = _read_plain_text(raw, label, _humanise(path.stem))
    elif suffix in PDF_SUFFIXES:
        title, text, sections = _read_pdf(raw, label, _humanise(path.stem))
    elif suffix in JSON_SUFFIXES:
        text, palette = _read_brand_kit(raw, label, _humanise(path.stem))
        title, sections = markdown_sections(text, _humanise(path.stem))
    else:
        caption_raw, caption = _read_caption(path, label)
        if caption_raw is not None:
            content_hash = hashlib.sha256(raw + b"\x00caption\x00" + caption_raw).hexdigest()
        text, palette = _read_image(raw, label, _humanise(path.stem), caption, tags)
        title, sections = markdown_sections(text, _humanise(path.stem))

    return _finish(
        Document(
            source=label,
            title=title,
            kind_hint=_kind_hint(path, suffix),
            text=text,
            sections=sections,
            palette=palette,
            content_hash=content_hash,
        )
    )


def _finish(doc: Document) -> Document:
    if not doc.text.strip() or not doc.sections:
        raise StyleInputError(f"'{doc.source}' has no text to index; add content, or check it is the right file.")
    if len(doc.text) > MAX_DOCUMENT_CHARS:
        raise StyleInputError(
            f"'{doc.source}' holds {len(doc.text):,} characters of text; the limit is "
            f"{MAX_DOCUMENT_CHARS:,} per source. Split it into several files and ingest those."
        )
    return doc


def _kind_hint(path: Path, suffix: str) -> str:
    if suffix in IMAGE_SUFFIXES:
        return "reference_image"
    if suffix in JSON_SUFFIXES:
        return "palette"
    # Only the nearest folder: an ancestor such as ~/notes/ says nothing about the file.
    kind = _FOLDER_KINDS.get(path.parent.name.lower())
    if kind:
        return kind
    return _STEM_KINDS.get(path.stem.lower(), DEFAULT_KIND)


def _first_line(text: str) -> str:
    line = next((ln.strip().lstrip("#").strip() for ln in text.splitlines() if ln.strip()), "Untitled")
    return line if len(line) <= 80 else line[:80].rsplit(" ", 1)[0] + "…"
