"""What every part of the production service shares: the state store and production lookup.

Methods that take a production's *name* (tool inputs) resolve it once with `resolve`; methods
that take `pid` expect an id already resolved (a `Production.id`) and never look it up again."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import sqlalchemy as sa

from core import NotFound
from core.context import StudioContext
from core.state import StateStore, Tx
from tools.production import validate
from tools.production.schema import productions


def digest(inputs: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of a call's inputs."""
    canonical = json.dumps(inputs, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class ServiceBase:
    def __init__(self, context: StudioContext) -> None:
        self._context = context

    @property
    def state(self) -> StateStore:
        return self._context.state

    def _tx(self, tx: Tx | None, *, read_only: bool = False) -> AbstractContextManager[Tx]:
        """The caller's transaction when it passes one, else a new one (`read_only`: for pure reads)."""
        return nullcontext(tx) if tx is not None else self.state.transaction(read_only=read_only)

    @contextmanager
    def _read(self) -> Iterator[Tx]:
        # A transaction gives a consistent snapshot across the several reads of one answer.
        with self.state.transaction(read_only=True) as tx:
            yield tx

    def resolve(self, production: str, tx: Tx | None = None) -> str:
        """The id of a production given its id or its name; NotFound lists some known ids."""
        key = (production or "").strip()
        with self._tx(tx, read_only=True) as t:
            for candidate in dict.fromkeys([key, validate.slugify(key)]):
                if candidate and t.row(sa.select(productions.c.id).where(productions.c.id == candidate)) is not None:
                    return candidate
            # By its display name too: ids made by an earlier slug rule stay reachable by name.
            named = t.scalar(
                sa.select(productions.c.id)
                .where(sa.func.lower(productions.c.name) == sa.func.lower(key))
                .order_by(productions.c.created_at, productions.c.id)
            )
            if named is not None:
                return str(named)
            known = t.scalars(sa.select(productions.c.id).order_by(productions.c.created_at.desc()).limit(6))
        if not known:
            raise NotFound(
                f"No production {production!r}: there are no productions yet; create one with production_create."
            )
        more = " (and more)" if len(known) > 5 else ""
        raise NotFound(
            f"No production {production!r}. Known productions: {', '.join(known[:5])}{more}. "
            "Pass one of these ids, or create it with production_create."
        )
