"""What every part of the production service shares: the state store and production lookup."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from server.errors import NotFound
from tools.production import validate

if TYPE_CHECKING:
    from server.app import Studio
    from server.db import StateStore, Tx


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def digest(inputs: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of a call's inputs."""
    canonical = json.dumps(inputs, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class ServiceBase:
    def __init__(self, studio: Studio) -> None:
        self._studio = studio

    @property
    def state(self) -> StateStore:
        return self._studio.state

    def _tx(self, tx: Tx | None) -> AbstractContextManager[Tx]:
        """The caller's transaction when it passes one, else a new one."""
        return nullcontext(tx) if tx is not None else self.state.transaction()

    @contextmanager
    def _read(self) -> Iterator[Tx]:
        # A transaction gives a consistent snapshot across the several reads of one answer.
        with self.state.transaction() as tx:
            yield tx

    def resolve(self, production: str, tx: Tx | None = None) -> str:
        """The id of a production given its id or its name; NotFound lists some known ids."""
        key = (production or "").strip()
        with self._tx(tx) as t:
            for candidate in dict.fromkeys([key, validate.slugify(key)]):
                if candidate and t.execute("SELECT 1 FROM productions WHERE id = ?", (candidate,)).fetchone():
                    return candidate
            known = [
                row["id"] for row in t.execute("SELECT id FROM productions ORDER BY created_at DESC LIMIT 6")
            ]
        if not known:
            raise NotFound(
                f"No production {production!r}: there are no productions yet; "
                "create one with production_create."
            )
        more = " (and more)" if len(known) > 5 else ""
        raise NotFound(
            f"No production {production!r}. Known productions: {', '.join(known[:5])}{more}. "
            "Pass one of these ids, or create it with production_create."
        )
