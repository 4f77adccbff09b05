"""Readers: one file (or inline text) of style material -> a Document of text and sections.

Every format ends as readable text with heading-path sections, so one chunker serves them all:
a brand-kit JSON and an image are rendered to short Markdown first. Anything the caller can fix
(bad JSON, a corrupt PDF, an unsupported type, too big, empty) raises StyleInputError with the
remedy. Heavy libraries (pypdf, Pillow, numpy, scikit-image) load inside the readers that need
them, so importing this module stays cheap.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from tools.style.errors import StyleInputError
from tools.style.palette import PaletteColour, image_palette, normalise_hex, swatch

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_INLINE_TEXT_BYTES = 200_000
# Bounds the text extracted from any one source (about 1,700 chunks at the default size).
MAX_DOCUMENT_CHARS = 2_000_000
MAX_PDF_PAGES = 2_000
MAX_IMAGE_PIXELS = 50_000_000
PALETTE_SIZE = 5
DEFAULT_KIND = "guide"

MARKDOWN_SUFFIXES = (".md", ".markdown")
TEXT_SUFFIXES = (".txt",)
PDF_SUFFIXES = (".pdf",)
JSON_SUFFIXES = (".json",)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
SUPPORTED_SUFFIXES = MARKDOWN_SUFFIXES + TEXT_SUFFIXES + PDF_SUFFIXES + JSON_SUFFIXES + IMAGE_SUFFIXES
# A caption for `hero.png` lives in `hero.png.txt` or `hero.png.md`.
SIDECAR_SUFFIXES = (".txt", ".md")

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
        raise StyleInputError(
            "text is empty; pass the material itself in `text`, or pass file paths instead."
        )
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


def read_source(path: Path, *, source: str | None = None, tags: Sequence[str] = ()) -> Document:
    """Read one file by its suffix. `source` names it in messages and results (default: the path);
    `tags` are written into an image's indexed text so they can be searched."""
    label = source or path.as_posix()
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise StyleInputError(
            f"'{label}' has unsupported type '{suffix or '(no suffix)'}'. Supported: "
            f"{', '.join(SUPPORTED_SUFFIXES)}. Convert it (e.g. export .docx as PDF or Markdown) "
            "and ingest again."
        )
    raw = _read_bytes(path, label)
    content_hash = hashlib.sha256(raw).hexdigest()
    palette: list[PaletteColour] = []

    if suffix in MARKDOWN_SUFFIXES:
        text = _decode(raw, label)
        title, sections = markdown_sections(text, _humanise(path.stem))
    elif suffix in TEXT_SUFFIXES:
        text = _decode(raw, label)
        title = _humanise(path.stem)
        sections = _whole(text, title)
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


# --- Markdown structure -----------------------------------------------------------------------

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_LIST_ITEM = re.compile(r"^\s*([-*+]|\d+[.)])\s")


def markdown_sections(text: str, fallback_title: str) -> tuple[str, list[Section]]:
    """(title, sections) of Markdown: the title is the first H1, else `fallback_title`.

    Each section is the body under one heading, labelled with its heading path. A path that does
    not start at an H1 is rooted at the title, so every chunk says which document it is from.
    Headings inside fenced code and YAML front matter are ignored.
    """
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    skip = _front_matter_lines(lines)
    headings: list[tuple[int, str, int, int]] = []  # level, text, start offset, end offset
    fence: str | None = None
    for i, line in enumerate(lines):
        if i < skip:
            continue
        stripped = line.rstrip("\n")
        fence_match = _FENCE.match(stripped)
        if fence is not None:
            if (
                fence_match
                and fence_match.group(1)[0] == fence[0]
                and len(fence_match.group(1)) >= len(fence)
            ):
                fence = None
            continue
        if fence_match:
            fence = fence_match.group(1)
            continue
        atx = _ATX.match(stripped)
        if atx:
            headings.append(
                (len(atx.group(1)), _clean_heading(atx.group(2) or ""), offsets[i], offsets[i + 1])
            )
            continue
        setext = _SETEXT.match(stripped)
        if setext and i > skip and _is_setext_text(lines, i, skip, headings, offsets):
            level = 1 if setext.group(1)[0] == "=" else 2
            headings.append((level, _clean_heading(lines[i - 1]), offsets[i - 1], offsets[i + 1]))

    title = next((h[1] for h in headings if h[0] == 1 and h[1]), fallback_title)
    sections: list[Section] = []
    preamble_end = headings[0][2] if headings else len(text)
    # Text before the first heading is not under that heading: label it with the fallback title.
    _add_section(sections, text, fallback_title, 0, preamble_end)
    stack: list[tuple[int, str]] = []
    for n, (level, heading, _start, end) in enumerate(headings):
        while stack and stack[-1][0] >= level:
            stack.pop()
        if heading:
            stack.append((level, heading))
        path = [h for _, h in stack]
        if not stack or stack[0][0] != 1:
            path.insert(0, title)
        body_end = headings[n + 1][2] if n + 1 < len(headings) else len(text)
        _add_section(sections, text, " > ".join(path), end, body_end)
    return title, sections


def _front_matter_lines(lines: list[str]) -> int:
    """Number of lines of a leading YAML front-matter block (0 if none)."""
    if not lines or lines[0].rstrip() != "---":
        return 0
    for i in range(1, min(len(lines), 200)):
        if lines[i].rstrip() in ("---", "..."):
            return i + 1
    return 0


def _is_setext_text(
    lines: list[str], i: int, skip: int, headings: list[tuple[int, str, int, int]], offsets: list[int]
) -> bool:
    """A `===`/`---` underline makes a heading only of a lone one-line paragraph (not a list item),
    so a `---` rule after a longer paragraph stays a rule."""
    previous = lines[i - 1]
    if not previous.strip() or _LIST_ITEM.match(previous) or _FENCE.match(previous):
        return False
    if headings and headings[-1][3] > offsets[i - 1]:
        return False
    return i - 1 == skip or not lines[i - 2].strip()


def _clean_heading(raw: str) -> str:
    return re.sub(r"[*`]+", "", raw).strip()


def _add_section(sections: list[Section], text: str, heading: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        sections.append(Section(heading=heading, char_start=start, char_end=end))


def _whole(text: str, heading: str) -> list[Section]:
    sections: list[Section] = []
    _add_section(sections, text, heading, 0, len(text))
    return sections


# --- PDF ----------------------------------------------------------------------------------------


def _read_pdf(raw: bytes, label: str, fallback_title: str) -> tuple[str, str, list[Section]]:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not _decrypt_without_password(reader):
            raise StyleInputError(
                f"'{label}' is a password-protected PDF. Save an unprotected copy "
                "(e.g. `qpdf --decrypt in.pdf out.pdf`, or print to PDF) and ingest that."
            )
        if len(reader.pages) > MAX_PDF_PAGES:
            raise StyleInputError(
                f"'{label}' has {len(reader.pages):,} pages; the limit is {MAX_PDF_PAGES:,}. "
                "Split it and ingest the parts."
            )
        pages = [_unwrap_pdf_text(page.extract_text() or "") for page in reader.pages]
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except StyleInputError:
        raise
    except Exception as exc:  # pypdf raises many types on damaged files; all mean "unreadable"
        raise StyleInputError(
            f"'{label}' is not a readable PDF ({type(exc).__name__}: {exc}). It may be truncated or "
            "damaged: re-export it from its source application, or ingest the text as Markdown."
        ) from exc

    title = str(meta_title).strip() or fallback_title
    parts: list[str] = []
    sections: list[Section] = []
    cursor = 0
    for number, page_text in enumerate(pages, start=1):
        if not page_text.strip():
            continue
        if parts:
            cursor += 2  # the "\n\n" that joins pages
        parts.append(page_text)
        sections.append(
            Section(heading=f"{title} > page {number}", char_start=cursor, char_end=cursor + len(page_text))
        )
        cursor += len(page_text)
    if not sections:
        raise StyleInputError(
            f"'{label}' has no extractable text (it is probably scanned images). Run OCR on it "
            "(e.g. `ocrmypdf in.pdf out.pdf`) or ingest its text as Markdown."
        )
    return title, "\n\n".join(parts), sections


def _decrypt_without_password(reader: Any) -> bool:
    # Many "encrypted" PDFs only restrict printing/editing and open with an empty password.
    try:
        return bool(reader.decrypt(""))
    except Exception:  # missing crypto backend or an unknown scheme: treat as locked
        return False


def _unwrap_pdf_text(page: str) -> str:
    """Rejoin a PDF page's hard-wrapped lines into paragraphs, so sentences stay whole.

    Text extraction gives lines but no paragraph marks. In wrapped text every line of a
    paragraph but the last runs near the full measure, so a line much shorter than the page's
    longest (a paragraph's last line, a heading) ends a paragraph. List items keep their lines.
    """
    lines = [line.strip() for line in _normalise_newlines(page).split("\n")]
    measure = max((len(line) for line in lines), default=0)
    paragraphs: list[str] = []
    current = ""
    for line in lines:
        if not line:
            paragraphs.append(current)
            current = ""
            continue
        if not current:
            current = line
        elif _LIST_ITEM.match(line) or line.startswith("•"):
            current = f"{current}\n{line}"
        else:
            current = f"{current} {line}"
        if measure >= 40 and len(line) < 0.75 * measure:
            paragraphs.append(current)
            current = ""
    paragraphs.append(current)
    return "\n\n".join(re.sub(r"[ \t]{2,}", " ", p) for p in paragraphs if p)


# --- JSON brand kit -----------------------------------------------------------------------------

_NAME_KEYS = ("name", "title", "brand", "kit")
_PALETTE_KEYS = ("palette", "colours", "colors", "colourpalette", "colorpalette", "swatches")
_TYPE_KEYS = ("typography", "type", "fonts", "typefaces")
_DO_KEYS = ("do", "dos")
_DONT_KEYS = ("dont", "donts", "avoid", "never")
_NESTED_RULE_KEYS = ("guidelines", "rules", "usage")
_DESCRIPTION_KEYS = ("description", "summary")
_HEX_IN_TEXT = re.compile(r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")


def _read_brand_kit(raw: bytes, label: str, fallback_title: str) -> tuple[str, list[PaletteColour]]:
    """Render a brand kit as Markdown: Palette, Typography, Do, Don't, then anything else."""
    source_text = _decode(raw, label)
    try:
        data = json.loads(source_text)
    except json.JSONDecodeError as exc:
        raise StyleInputError(
            f"'{label}' is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}. "
            "Fix it there (`python -m json.tool FILE` shows the spot) and ingest again."
        ) from exc
    if not isinstance(data, dict):
        raise StyleInputError(
            f"'{label}' is a JSON {type(data).__name__}, not a brand kit. Expected an object with keys "
            "such as palette, typography, do, dont."
        )
    fields: dict[str, Any] = dict(data)
    for k in list(fields):
        if _key(k) in _NESTED_RULE_KEYS and isinstance(fields[k], dict):
            for inner_key, inner in fields.pop(k).items():
                fields.setdefault(inner_key, inner)

    name_key = next((k for k in fields if _key(k) in _NAME_KEYS and isinstance(fields[k], str)), None)
    title = str(fields.pop(name_key)).strip() if name_key else fallback_title
    palette = _parse_palette(_pop_first(fields, _PALETTE_KEYS), label)
    typography = _pop_first(fields, _TYPE_KEYS)
    dos = _pop_first(fields, _DO_KEYS)
    donts = _pop_first(fields, _DONT_KEYS)
    description = _pop_first(fields, _DESCRIPTION_KEYS)

    out = [f"# {title}"]
    intro = [_inline(description)] if description else []
    intro += [
        f"{_humanise(k)}: {_inline(v)}"
        for k, v in fields.items()
        if v is not None and not isinstance(v, dict | list)
    ]
    if intro:
        out.append("\n".join(intro))
    if palette:
        lines = []
        for colour, usage in palette:
            line = f"- {colour.name} {colour.hex} ({colour.common_name})"
            lines.append(f"{line}: {usage}" if usage else line)
        out.append("## Palette\n" + "\n".join(lines))
    if typography:
        out.append("## Typography\n" + "\n".join(_bullets(typography)))
    if dos:
        out.append("## Do\n" + "\n".join(_bullets(dos)))
    if donts:
        out.append("## Don't\n" + "\n".join(_bullets(donts)))
    for k, v in fields.items():
        if isinstance(v, dict | list) and v:
            out.append(f"## {_humanise(k)}\n" + "\n".join(_bullets(v)))
    if len(out) == 1:
        raise StyleInputError(
            f"'{label}' has nothing to index. A brand kit needs at least one of: palette (names with hex "
            "codes), typography, do, dont."
        )
    return "\n\n".join(out) + "\n", [colour for colour, _ in palette]


def _parse_palette(value: Any, label: str) -> list[tuple[PaletteColour, str]]:
    """(swatch, usage text) for each colour; shapes accepted are listed in _palette_entries."""
    result: list[tuple[PaletteColour, str]] = []
    for group, name, item in _palette_entries(value, label):
        raw_hex: Any = None
        usage = ""
        if isinstance(item, dict):
            raw_hex = _colour_field(item)
            name = str(item.get("name") or item.get("label") or item.get("title") or name)
            usage = _inline({k: v for k, v in item.items() if _key(k) not in _RECORD_KEYS})
        elif isinstance(item, str):
            match = _HEX_IN_TEXT.search(item)
            raw_hex = match.group(0) if match else item
            rest = item.replace(match.group(0), "").strip(" :-–—,") if match else ""
            name = rest or name
        hex_code = normalise_hex(raw_hex) if isinstance(raw_hex, str) else None
        if hex_code is None:
            raise StyleInputError(
                f"'{label}': palette colour '{name or item}' has {raw_hex!r}, which is not a hex code. "
                'Write each colour as #RRGGBB, e.g. {"name": "Harbour Teal", "hex": "#1F5F63"}.'
            )
        if group:
            usage = f"{group}; {usage}" if usage else group
        result.append((swatch(hex_code, name=name.strip() or None), usage))
    return result


def _palette_entries(value: Any, label: str) -> list[tuple[str, str, Any]]:
    """(group, name, item) from: a list of {name, hex, ...} records or "Name #hex" strings;
    a {name: hex} or {name: {hex, ...}} map; or groups of those ({"primary": [...], ...})."""
    if value is None:
        return []
    if isinstance(value, list):
        return [("", "", item) for item in value]
    if not isinstance(value, dict):
        raise StyleInputError(
            f"'{label}': palette must be a list or an object of colours, not a {type(value).__name__}."
        )
    entries: list[tuple[str, str, Any]] = []
    for name, item in value.items():
        if isinstance(item, list):
            entries.extend((str(name), "", sub) for sub in item)
        elif isinstance(item, dict) and _colour_field(item) is None:
            entries.extend((str(name), str(k), v) for k, v in item.items())
        else:
            entries.append(("", str(name), item))
    return entries


_RECORD_KEYS = {"name", "label", "title", "hex", "hexcode", "value", "color", "colour", "code"}


def _colour_field(record: dict[str, Any]) -> Any:
    for k, v in record.items():
        if _key(k) in ("hex", "hexcode", "value", "color", "colour", "code") and isinstance(v, str):
            return v
    return None


def _pop_first(fields: dict[str, Any], keys: Sequence[str]) -> Any:
    """Remove and return the first field whose normalised key is one of `keys`."""
    for k in list(fields):
        if _key(k) in keys:
            return fields.pop(k)
    return None


def _key(raw: str) -> str:
    """'Don't' -> 'dont', "Do's" -> 'dos', 'Colour Palette' -> 'colourpalette'."""
    return re.sub(r"[^a-z0-9]", "", str(raw).lower())


def _bullets(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [f"- {_humanise(str(k))}: {_inline(v)}" for k, v in value.items()]
    if isinstance(value, list):
        return [f"- {_inline(v)}" for v in value]
    return [f"- {_inline(value)}"]


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{_humanise(str(k)).lower()}: {_inline(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(_inline(v) for v in value)
    return str(value)


# --- Images -------------------------------------------------------------------------------------


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


# --- Shared helpers -----------------------------------------------------------------------------


def _read_bytes(path: Path, label: str) -> bytes:
    try:
        if path.is_dir():
            raise StyleInputError(
                f"'{label}' is a directory; pass the files in it (style_ingest walks directories)."
            )
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise StyleInputError(
                f"'{label}' is {size / 1e6:.1f} MB; the limit is {MAX_FILE_BYTES / 1e6:.0f} MB per file. "
                "Split it, or downscale/compress it, and ingest again."
            )
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise StyleInputError(
            f"'{label}' does not exist; check the path (it is resolved on the server)."
        ) from exc
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


def _finish(doc: Document) -> Document:
    if not doc.text.strip() or not doc.sections:
        raise StyleInputError(
            f"'{doc.source}' has no text to index; add content, or check it is the right file."
        )
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


def _humanise(stem: str) -> str:
    """'ferry_deck' -> 'Ferry Deck'; words already capitalised are kept as written."""
    words = re.sub(r"[_\-\s]+", " ", stem).strip().split(" ")
    return " ".join(w.capitalize() if w.islower() else w for w in words) or "Untitled"


def _first_line(text: str) -> str:
    line = next((ln.strip().lstrip("#").strip() for ln in text.splitlines() if ln.strip()), "Untitled")
    return line if len(line) <= 80 else line[:80].rsplit(" ", 1)[0] + "…"
