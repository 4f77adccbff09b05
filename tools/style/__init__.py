"""Style family: kit ingestion, chunking, the embedder, the Chroma store and search.

Other families use the names below, nothing else: a `StyleService` (handed to them as `kits`)
for search, kit lookups and brand palettes, and its models."""

from tools.style.embedder import Embedder, make_embedder
from tools.style.family import StyleFamily
from tools.style.models import SearchResult, StyleHit, StyleKind
from tools.style.service import StyleService
from tools.style.store import ChromaStore, ChromaUnavailable, check_kit_name

__all__ = [
    "ChromaStore",
    "ChromaUnavailable",
    "Embedder",
    "SearchResult",
    "StyleFamily",
    "StyleHit",
    "StyleKind",
    "StyleService",
    "check_kit_name",
    "make_embedder",
]
