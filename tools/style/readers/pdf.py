"""PDF: extracted text, one section per page, hard-wrapped lines rejoined into paragraphs.

pypdf loads on the first PDF read.
"""

from __future__ import annotations

import io
import re
from typing import Any

from tools.style.errors import StyleInputError
from tools.style.readers.document import Section, _normalise_newlines

_LIST_ITEM = re.compile(r"^\s*([-*+]|\d+[.)])\s")  # a bullet or numbered line

PDF_SUFFIXES = (".pdf",)
MAX_PDF_PAGES = 2_000


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
