"""A stdio server that answers at once and loads its families in the background.

Clients that start a server per call (LangChain's default tools, Claude Desktop at launch) wait for
`initialize` and `tools/list` every time. Importing the families (SQLAlchemy, the pydantic models of
every tool) and opening the state store take about a second more than a bare MCP server needs. So
over stdio the server answers `initialize` and the four lists from `manifest.json` (exactly what the
loaded server lists; written by `python -m server.manifest`, and a test keeps the two equal). A
worker thread imports and registers the families as soon as `tools/list` is answered (or a request
that needs them arrives first); the embedder's warm-up follows as the style family's background task.
Every other request waits until the families are loaded.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from mcp.server import MCPServer
from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.types import INTERNAL_ERROR, CallToolResult, TextContent

from core.errors import StudioError

log = logging.getLogger("studio_mcp")

MANIFEST = Path(__file__).with_name("manifest.json")
LISTS = ("tools/list", "resources/list", "resources/templates/list", "prompts/list")
ANSWER_WRITTEN_S = 0.02
# Answered by the SDK itself, families or not: waiting on the families there would only delay the handshake.
UNGATED = frozenset({"initialize", "server/discover", "ping", "logging/setLevel"}) | {
    "notifications/initialized",
    "notifications/cancelled",
}


@dataclass(frozen=True)
class Loaded:
    """What loading the families gives: their lifespan (state store, background tasks) and the
    middleware that needs them (tool-call tracing)."""

    lifespan: Callable[[Any], Any]
    middleware: Sequence[ServerMiddleware[Any]]


class DeferredFamilies:
    """Lifespan and middleware of a server whose families `load` registers in a worker thread.

    Install the middleware right after `bounded_names` (server.base.new_server does) and call
    `answer_lists_early` once the server exists."""

    def __init__(self, load: Callable[[MCPServer[Any]], Loaded]) -> None:
        self._load = load
        self._wanted = anyio.Event()
        self._ready = anyio.Event()
        self._loaded: Loaded | None = None
        self._failure = ""

    def answer_lists_early(self, server: MCPServer[Any]) -> None:
        """Until the families are loaded the four lists come from the manifest, through the SDK's
        own handler slots, so the runner shapes them for the client's protocol version as usual."""
        manifest: dict[str, dict[str, Any]] = json.loads(MANIFEST.read_text(encoding="utf-8"))
        lowlevel = server._lowlevel_server  # the SDK exposes handler registration only there
        for method in LISTS:
            entry = lowlevel.get_request_handler(method)
            assert entry is not None, method
            lowlevel.add_request_handler(method, entry.params_type, self._early(manifest[method], entry.handler))

    def _early(self, listed: dict[str, Any], loaded: Any) -> Any:
        async def handler(ctx: Any, params: Any) -> Any:
            if self._loaded is None:
                return listed
            return await loaded(ctx, params)

        return handler

    @asynccontextmanager
    async def lifespan(self, server: MCPServer[Any]) -> AsyncIterator[None]:
        stop = anyio.Event()
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(self._run, server, stop)
            try:
                yield None
            finally:
                stop.set()
                self._wanted.set()

    async def _run(self, server: MCPServer[Any], stop: anyio.Event) -> None:
        await self._wanted.wait()
        # The answer that asked for the load is still on its way out through the stdout writer's thread;
        # the loader's imports would hold the GIL against it.
        await anyio.sleep(ANSWER_WRITTEN_S)
        if stop.is_set():
            return
        try:
            switch_s = sys.getswitchinterval()
            # The loader thread runs imports for a second or more; asked for the GIL, it lets go after
            # 0.5 ms instead of 5, so the handshake's and the lists' thread hops are not queued behind it.
            sys.setswitchinterval(0.0005)
            try:
                loaded = await anyio.to_thread.run_sync(self._load, server)
            finally:
                sys.setswitchinterval(switch_s)
            if stop.is_set():  # the client left while the families loaded
                return
            async with loaded.lifespan(server):
                self._loaded = loaded
                self._ready.set()
                await stop.wait()
        except Exception as exc:  # a start-up failure is every later call's answer, not a dead server
            if isinstance(exc, StudioError):
                self._failure = str(exc)
                log.error("studio-mcp could not start: %s", exc)
            else:
                self._failure = f"{type(exc).__name__}: {exc}"
                log.exception("studio-mcp could not start")
            self._loaded = None
            self._ready.set()

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if self._loaded is None and (ctx.method in UNGATED or ctx.method in LISTS):
            try:
                return await call_next(ctx)  # a list comes from the manifest until the families are loaded
            finally:
                if ctx.method == "tools/list":
                    self._wanted.set()
        self._wanted.set()
        await self._ready.wait()
        if self._loaded is None:
            message = f"studio-mcp could not start: {self._failure}. Fix it (see `studio-mcp doctor`) and restart."
            if ctx.method == "tools/call":
                return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)
            raise MCPError(code=INTERNAL_ERROR, message=message)
        chain = call_next
        for middleware in reversed(self._loaded.middleware):
            chain = _bound(middleware, chain)
        return await chain(ctx)


def _bound(middleware: ServerMiddleware[Any], call_next: CallNext) -> CallNext:
    async def call(ctx: ServerRequestContext[Any, Any]) -> HandlerResult:
        return await middleware(ctx, call_next)

    return call
