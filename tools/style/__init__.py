"""Style family: kit ingestion, chunking, the embedder, the Chroma store and search."""

from tools.style.models import SearchResult, StyleHit
from tools.style.register import register
from tools.style.service import MIGRATIONS, StyleService

__all__ = ["MIGRATIONS", "SearchResult", "StyleHit", "StyleService", "register"]
