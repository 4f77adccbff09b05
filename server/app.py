"""Builds the MCP server: the shared context, the families in pipeline order, and the lifespan.

This is the one place that knows every family. Each is built with the services it needs from the
ones before it, by role, so no family looks another up and a missing collaborator fails here, at
start-up, not in the middle of a tool call.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
from mcp.server import MCPServer
from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, CallToolResult, TextContent

from core import Family, Settings, StudioContext, tracing
from core.errors import shown
from core.imports import import_heavy
from server.arguments import ReadableArgumentErrors
from server.tracing import ToolCallTracing
from tools.consent import ConsentFamily
from tools.continuity import ContinuityFamily
from tools.generation import GenerationFamily
from tools.production import ProductionFamily
from tools.review import ReviewFamily
from tools.style import StyleFamily

log = logging.getLogger("studio_mcp")

INSTRUCTIONS = """\
studio-mcp serves a creative studio's pipeline: style retrieval (style_*), productions and briefs,
shot plans and grounded prompts (prompt_build), continuity checks before and after generation,
Veo/Gemini generation with cost and budget, human review gates (review_*), performer consent
(performer_*), and pipeline figures (pipeline_report). Ground every generation in style_search
results and the production's brief; a rejected take's notes reach the next prompt_build."""


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


MAX_TOOL_NAME = 128
MAX_URI = 4096


async def bounded_names(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Answer an over-long tool name or resource URI here, in a few hundred characters: the SDK would
    echo it whole in its error and its log line (a 1 MB name made a 1 MB error and two 1 MB log lines)."""
    params = ctx.params if isinstance(ctx.params, Mapping) else {}
    name, uri = params.get("name"), params.get("uri")
    if ctx.method == "tools/call" and isinstance(name, str) and len(name) > MAX_TOOL_NAME:
        text = f"Unknown tool: {shown(name)}. Tool names are at most {MAX_TOOL_NAME} characters; tools/list lists them."
        return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)
    if ctx.method == "resources/read" and isinstance(uri, str) and len(uri) > MAX_URI:
        raise MCPError(code=INVALID_PARAMS, message=f"Resource URI {shown(uri)} is longer than {MAX_URI} characters.")
    return await call_next(ctx)


def serve_families(
    context: StudioContext,
    families: Sequence[Family],
    name: str = "studio-mcp",
    middleware: Sequence[ServerMiddleware[Any]] = (),
) -> MCPServer[StudioContext]:
    """An MCP server offering these families' tools (tests build one from a subset)."""
    server: MCPServer[StudioContext] = MCPServer(
        name,
        instructions=INSTRUCTIONS,
        version="0.1.0",
        lifespan=lifespan(context, families),
        log_level=context.settings.log_level,
        middleware=[bounded_names, *middleware],
    )
    server.middleware.append(ReadableArgumentErrors(server))
    for family in families:
        family.register(server)
    return server


def serve_all(context: StudioContext, families: Families) -> MCPServer[StudioContext]:
    """The server of every family, with tool-call tracing when OTEL_* asks for export."""
    traced = (
        [ToolCallTracing(families.production.productions, families.generation.videos.store.get)]
        if tracing.exporting()
        else []
    )
    return serve_families(context, families.in_order(), middleware=traced)


def build_server(settings: Settings | None = None, *, context: StudioContext | None = None) -> MCPServer[StudioContext]:
    context = context or StudioContext(settings or Settings())
    return serve_all(context, build_families(context))
