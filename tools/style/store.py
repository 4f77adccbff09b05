"""Chroma, embedded or over HTTP: one collection per kit, tagged with the embedder that built it.

All methods are synchronous (chromadb is); the service calls them from worker threads.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from core import NotFound, Settings, StudioError

COLLECTION_PREFIX = "studio-kit-"
KIT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


class KitNameError(StudioError):
    pass


class EmbedderMismatch(StudioError):
    pass


class ChromaUnavailable(StudioError):
    pass


def check_kit_name(kit: str) -> str:
    if not KIT_NAME.match(kit):
        raise KitNameError(
            f"Kit name {kit!r} is not valid: use 1-63 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit (e.g. 'lumen-moss')."
        )
    return kit


class ChromaStore:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: Any = None
        self._lock = threading.Lock()
        # Collection handles by kit, each checked once against the embedder: a search then costs
        # no metadata round trip. Dropped when the kit is deleted (or a query finds it gone).
        self._collections: dict[str, Any] = {}

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._connect()
            return self._client

    def _connect(self) -> Any:
        import chromadb  # heavy: imported on first use, not at start-up

        s = self._settings
        chroma_settings = chromadb.Settings(anonymized_telemetry=False)
        if s.chroma_mode == "embedded":
            s.chroma_path.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(s.chroma_path), settings=chroma_settings)
        headers = {k: v.get_secret_value() for k, v in s.chroma_headers.items()}
        if s.chroma_token is not None:
            headers["x-chroma-token"] = s.chroma_token.get_secret_value()
        kwargs: dict[str, Any] = {}
        if s.chroma_tenant:
            kwargs["tenant"] = s.chroma_tenant
        if s.chroma_database:
            kwargs["database"] = s.chroma_database
        try:
            return chromadb.HttpClient(
                host=s.chroma_host,
                port=s.chroma_port,
                ssl=s.chroma_ssl,
                headers=headers,
                settings=chroma_settings,
                **kwargs,
            )
        except Exception as exc:  # chromadb raises a variety of connection errors
            raise ChromaUnavailable(
                f"Cannot reach the Chroma server at {s.chroma_host}:{s.chroma_port} ({type(exc).__name__}). "
                "Start it (chroma run --path DIR --port N) or set STUDIO_CHROMA_MODE=embedded."
            ) from None

    def kits(self) -> dict[str, dict[str, Any]]:
        """Kit name -> collection metadata, for every kit collection."""
        out: dict[str, dict[str, Any]] = {}
        for collection in self.client().list_collections():
            if collection.name.startswith(COLLECTION_PREFIX):
                out[collection.name.removeprefix(COLLECTION_PREFIX)] = dict(collection.metadata or {})
        return out

    def collection(self, kit: str, embedder: str, *, create: bool = False) -> Any:
        """The kit's collection, refusing one that a different embedder built."""
        cached = self._collections.get(kit)
        if cached is not None:
            return cached
        name = COLLECTION_PREFIX + check_kit_name(kit)
        client = self.client()
        if create:
            collection = client.get_or_create_collection(
                name,
                metadata={"kit": kit, "embedder": embedder},
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
        else:
            try:
                collection = client.get_collection(name, embedding_function=None)
            except Exception:
                known = ", ".join(sorted(self.kits())) or "none yet"
                raise NotFound(
                    f"Unknown kit {kit!r} (known kits: {known}). Ingest material into it with style_ingest first."
                ) from None
        built_with = (collection.metadata or {}).get("embedder")
        if built_with != embedder:
            raise EmbedderMismatch(
                f"Kit {kit!r} was built with the embedder {built_with!r}, but this server uses {embedder!r}. "
                f"Set STUDIO_EMBEDDER back to the kit's embedder, or remove the kit (style_remove) and "
                "ingest it again with the current one."
            )
        self._collections[kit] = collection
        return collection

    def cached(self, kit: str) -> Any:
        """The kit's collection if a call already opened it, else None (no I/O)."""
        return self._collections.get(kit)

    def forget(self, kit: str) -> None:
        self._collections.pop(kit, None)

    def delete_kit(self, kit: str) -> None:
        self.forget(kit)
        self.client().delete_collection(COLLECTION_PREFIX + check_kit_name(kit))
