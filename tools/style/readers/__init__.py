"""Readers: one file (or inline text) of style material -> a Document of text and sections.

Every format ends as readable text with heading-path sections, so one chunker serves them all:
a brand-kit JSON and an image are rendered to short Markdown first. Anything the caller can fix
(bad JSON, a corrupt PDF, an unsupported type, too big, empty) raises StyleInputError with the
remedy. Heavy libraries (pypdf, Pillow, numpy, scikit-image) load inside the readers that need
them, so importing this package stays cheap.

This module is the package's public face. Behind it: `document` (the Document model and the
helpers every reader shares), `dispatch` (which reader a file gets, and the checks on the
result), and one module per format: `markdown`, `text`, `pdf`, `brand_kit`, `image`. Names with
a leading underscore are shared between those modules only.
"""

from tools.style.readers.brand_kit import JSON_SUFFIXES
from tools.style.readers.dispatch import (
    DEFAULT_KIND,
    MAX_DOCUMENT_CHARS,
    SUPPORTED_SUFFIXES,
    effective_kind,
    is_sidecar,
    read_source,
    read_text,
)
from tools.style.readers.document import MAX_FILE_BYTES, MAX_INLINE_TEXT_BYTES, Document, Section
from tools.style.readers.image import IMAGE_SUFFIXES, MAX_IMAGE_PIXELS, PALETTE_SIZE, SIDECAR_SUFFIXES
from tools.style.readers.markdown import MARKDOWN_SUFFIXES, markdown_sections
from tools.style.readers.pdf import MAX_PDF_PAGES, PDF_SUFFIXES
from tools.style.readers.text import TEXT_SUFFIXES

__all__ = [
    "DEFAULT_KIND",
    "IMAGE_SUFFIXES",
    "JSON_SUFFIXES",
    "MARKDOWN_SUFFIXES",
    "MAX_DOCUMENT_CHARS",
    "MAX_FILE_BYTES",
    "MAX_IMAGE_PIXELS",
    "MAX_INLINE_TEXT_BYTES",
    "MAX_PDF_PAGES",
    "PALETTE_SIZE",
    "PDF_SUFFIXES",
    "SIDECAR_SUFFIXES",
    "SUPPORTED_SUFFIXES",
    "TEXT_SUFFIXES",
    "Document",
    "Section",
    "effective_kind",
    "is_sidecar",
    "markdown_sections",
    "read_source",
    "read_text",
]
