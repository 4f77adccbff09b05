"""Chunking: a Document's sections -> retrieval-sized chunks that keep their heading.

Each chunk's text starts with its heading path ("Night Ferry — Style Bible > Lighting"), so a
paragraph never loses the heading that gives it meaning. A section too long for one chunk is cut
at the coarsest boundary that fits: paragraph, then line, then sentence, then word; a single
"word" longer than a whole chunk (a URL, base64) is the only thing ever cut mid-word.
Consecutive chunks of one section overlap by up to `overlap` characters, starting on a word.
"""

from __future__ import annotations

import hashlib
import re

from pydantic import BaseModel, Field

from tools.style.readers import Document, Section

DEFAULT_MAX_CHARS = 1200
DEFAULT_OVERLAP = 150
MIN_MAX_CHARS = 200

# Coarsest first. The sentence rule splits after . ! ? … (optionally followed by a closing
# quote or bracket) and whitespace; lookbehinds must be fixed-width, hence two alternatives.
_SEPARATORS = (
    re.compile(r"\n[ \t]*\n\s*"),
    re.compile(r"\n\s*"),
    re.compile(r"(?<=[.!?…][\"'”’)\]])\s+|(?<=[.!?…])\s+"),
    re.compile(r"\s+"),
)
_WORD_START = re.compile(r"(?<=\s)\S")
_SENTENCE_START = re.compile(r"(?:(?<=[.!?…])\s+|\n\s*)(?=\S)")


class Chunk(BaseModel):
    """A piece of a Document ready to embed."""

    text: str = Field(description="heading path, a blank line, then the body")
    position: int = Field(description="0-based order within the document")
    heading: str = Field(description="heading path of the section it came from")
    char_start: int = Field(description="start of the body in Document.text")
    char_end: int = Field(description="end (exclusive) of the body in Document.text")


def chunk_id(kit: str, source: str, text: str) -> str:
    """A stable id from content: the same chunk of the same source in the same kit, the same id."""
    digest = hashlib.sha256("\x1f".join((kit, source, text)).encode("utf-8")).hexdigest()
    return digest[:32]


def chunk_document(doc: Document, *, max_chars: int = DEFAULT_MAX_CHARS, overlap: int = DEFAULT_OVERLAP) -> list[Chunk]:
    """Chunks of at most `max_chars` characters (heading prefix included), in document order.

    A chunk whose text exactly repeats an earlier one is dropped: it adds nothing to retrieval
    and would collide with the earlier chunk's content-derived id.
    """
    if max_chars < MIN_MAX_CHARS:
        raise ValueError(f"max_chars must be at least {MIN_MAX_CHARS}, got {max_chars}")
    if not 0 <= overlap <= max_chars // 2:
        raise ValueError(f"overlap must be between 0 and max_chars/2 ({max_chars // 2}), got {overlap}")

    sections = doc.sections or [Section(heading=doc.title, char_start=0, char_end=len(doc.text))]
    chunks: list[Chunk] = []
    seen: set[str] = set()
    for section in sections:
        heading = _clip(section.heading, max_chars // 4)
        prefix = f"{heading}\n\n" if heading else ""
        budget = max_chars - len(prefix)
        for start, end in split_span(doc.text, section.char_start, section.char_end, budget, overlap):
            text = prefix + doc.text[start:end]
            if text in seen:
                continue
            seen.add(text)
            chunks.append(
                Chunk(text=text, position=len(chunks), heading=section.heading, char_start=start, char_end=end)
            )
    return chunks


def split_span(text: str, start: int, end: int, budget: int, overlap: int = 0) -> list[tuple[int, int]]:
    """(start, end) windows over text[start:end], each at most `budget` characters, trimmed of
    surrounding whitespace, cut at the coarsest boundary available and overlapping by up to
    `overlap` characters."""
    start, end = _trim(text, start, end)
    if start >= end:
        return []
    if end - start <= budget:
        return [(start, end)]

    pieces = _pieces(text, start, end, budget, 0)
    windows: list[tuple[int, int]] = []
    win_start, win_end = pieces[0]
    for piece_start, piece_end in pieces[1:]:
        if piece_end - win_start <= budget:
            win_end = piece_end
            continue
        windows.append((win_start, win_end))
        carried = _overlap_start(text, win_start, win_end, overlap)
        win_start = carried if carried is not None and piece_end - carried <= budget else piece_start
        win_end = piece_end
    windows.append((win_start, win_end))
    return windows


def _pieces(text: str, start: int, end: int, budget: int, level: int) -> list[tuple[int, int]]:
    """Split [start, end) at separators of `level` (finer levels only where needed) into
    pieces of at most `budget` characters, in order, separators excluded."""
    if end - start <= budget:
        return [(start, end)]
    if level == len(_SEPARATORS):
        return [(i, min(i + budget, end)) for i in range(start, end, budget)]
    pieces: list[tuple[int, int]] = []
    cursor = start
    for match in _SEPARATORS[level].finditer(text, start, end):
        if match.start() > cursor:
            pieces.extend(_pieces(text, cursor, match.start(), budget, level + 1))
        cursor = match.end()
    if cursor < end:
        pieces.extend(_pieces(text, cursor, end, budget, level + 1))
    return pieces


def _overlap_start(text: str, win_start: int, win_end: int, overlap: int) -> int | None:
    """Where the next window should begin to repeat the end of this one: the earliest sentence
    start in the last `overlap` characters, else the earliest word start; None if neither."""
    if overlap <= 0:
        return None
    lo = max(win_start + 1, win_end - overlap)
    for pattern in (_SENTENCE_START, _WORD_START):
        for match in pattern.finditer(text, lo - 1 if lo > 0 else lo, win_end):
            position = match.end() if pattern is _SENTENCE_START else match.start()
            if lo <= position < win_end:
                return position
    return None


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _clip(heading: str, limit: int) -> str:
    """A heading path short enough to leave room for the body, cut at a word."""
    if len(heading) <= limit:
        return heading
    return heading[: limit - 1].rsplit(" ", 1)[0] + "…"
