"""Heavy libraries imported on first use, one import at a time per process.

Two threads importing numpy's package tree at once (the embedder warm-up loading sentence-transformers
while a tool's thread imports chromadb) can each meet the other's half-initialised modules and fail
with "cannot import name ... from partially initialized module". Every lazy import of a heavy library
goes through here."""

from __future__ import annotations

import importlib
import threading
from types import ModuleType

_one_at_a_time = threading.RLock()


def import_heavy(name: str) -> ModuleType:
    """Import `name` (blocking: call it from a worker thread) after any other heavy import under way."""
    with _one_at_a_time:
        return importlib.import_module(name)
