"""Builds the MCP server: the shared context, the families in pipeline order, and the lifespan.

This is the one place that knows every family. Each is built with the services it needs from the
ones before it, by role, so no family looks another up and a missing collaborator fails here, at
start-up, not in the middle of a tool call.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
from mcp.server import MCPServer
from mcp.server.context import ServerMiddleware

from core import Family, Settings, tracing
from core.context import StudioContext
from core.imports import import_heavy
from server.base import NAME, new_server
from server.deferred import Loaded
from server.tracing import ToolCallTracing
from tools.consent import ConsentFamily
from tools.continuity import ContinuityFamily
from tools.generation import GenerationFamily
from tools.production import ProductionFamily
from tools.review import ReviewFamily
from tools.style import StyleFamily

log = logging.getLogger("studio_mcp")


@dataclass(frozen=True)
class Families:
    style: StyleFamily
    production: ProductionFamily
    continuity: ContinuityFamily
    generation: GenerationFamily
    consent: ConsentFamily
    review: ReviewFamily

    def in_order(self) -> list[Family]:
        return [self.style, self.production, self.consent, self.continuity, self.review, self.generation]


def build_families(context: StudioContext) -> Families:
    """style <- production <- consent <- continuity <- review <- generation: each receives what it
    uses, already built."""
    style = StyleFamily(context)
    production = ProductionFamily(context, kits=style.kits)
    consent = ConsentFamily(context, productions=production.productions)
    continuity = ContinuityFamily(context, productions=production.productions, kits=style.kits, consent=consent.consent)
    review = ReviewFamily(
        context,
        productions=production.productions,
        ledger=continuity.ledger,
        kits=style.kits,
        findings=continuity.findings,
    )
    generation = GenerationFamily(
        context,
        productions=production.productions,
        kits=style.kits,
        ledger=continuity.ledger,
        preflight=continuity.preflight,
        consent=consent.consent,
        reviews=review.reviews,
    )
    return Families(style, production, continuity, generation, consent, review)


def lifespan(context: StudioContext, families: Sequence[Family]) -> Any:
    """Open the state store with every family's migrations, run their background tasks, close at exit."""

    @asynccontextmanager
    async def run(_server: Any) -> AsyncIterator[StudioContext]:
        migrations = [m for family in families for m in family.migrations]
        await anyio.to_thread.run_sync(context.open_state, migrations)
        log.info("studio-mcp data in %s", context.settings.data_dir.resolve())
        # numpy is under every heavy library: imported here, before any background task or tool thread.
        await anyio.to_thread.run_sync(import_heavy, "numpy")
        stop_exporting = tracing.start_exporting()
        try:
            async with anyio.create_task_group() as tasks:
                for family in families:
                    for task in family.background:
                        tasks.start_soon(task)
                try:
                    yield context
                finally:
                    tasks.cancel_scope.cancel()
        finally:
            if stop_exporting is not None:
                await anyio.to_thread.run_sync(stop_exporting)  # flushes the spans still batched
            context.close_state()

    return run


def serve_families(
    context: StudioContext,
    families: Sequence[Family],
    name: str = NAME,
    middleware: Sequence[ServerMiddleware[Any]] = (),
) -> MCPServer[StudioContext]:
    """An MCP server offering these families' tools (tests build one from a subset)."""
    server = new_server(context.settings.log_level, lifespan(context, families), middleware, name=name)
    for family in families:
        family.register(server)
    return server


def call_tracing(families: Families) -> list[ServerMiddleware[Any]]:
    """Tool-call tracing when OTEL_* asks for export, else nothing."""
    if not tracing.exporting():
        return []
    return [ToolCallTracing(families.production.productions, families.generation.videos.store.get)]


def serve_all(context: StudioContext, families: Families) -> MCPServer[StudioContext]:
    """The server of every family, with tool-call tracing when OTEL_* asks for export."""
    return serve_families(context, families.in_order(), middleware=call_tracing(families))


def load_into(server: MCPServer[Any], settings: Settings) -> Loaded:
    """Build every family and register its tools on a server made by `new_server` (blocking: it
    imports them all; server/deferred.py runs it in a worker thread)."""
    context = StudioContext(settings)
    families = build_families(context)
    for family in families.in_order():
        family.register(server)
    return Loaded(lifespan(context, families.in_order()), call_tracing(families))


def build_server(settings: Settings | None = None, *, context: StudioContext | None = None) -> MCPServer[StudioContext]:
    context = context or StudioContext(settings or Settings())
    return serve_all(context, build_families(context))
