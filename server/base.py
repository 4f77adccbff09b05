"""The MCP server every mode starts from: its name, version, instructions and the first middleware.

It imports only the MCP SDK and the light part of core, so the stdio server built from it can answer
`initialize` and the lists before any family is imported (see server/deferred.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from mcp.server import MCPServer
from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, CallToolResult, TextContent

from core.errors import shown
from server.arguments import ReadableArgumentErrors

NAME = "studio-mcp"
VERSION = "0.1.0"
INSTRUCTIONS = """\
studio-mcp serves a creative studio's pipeline: style retrieval (style_*), productions and briefs,
shot plans and grounded prompts (prompt_build), continuity checks before and after generation,
Veo/Gemini generation with cost and budget, human review gates (review_*), performer consent
(performer_*), and pipeline figures (pipeline_report). Ground every generation in style_search
results and the production's brief; a rejected take's notes reach the next prompt_build."""

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


def new_server(
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"],
    lifespan: Callable[[Any], Any],
    middleware: Sequence[ServerMiddleware[Any]] = (),
    name: str = NAME,
) -> MCPServer[Any]:
    """A server with no tools yet: over-long names answered first, then `middleware`, then readable
    argument errors next to the tools."""
    server: MCPServer[Any] = MCPServer(
        name,
        instructions=INSTRUCTIONS,
        version=VERSION,
        lifespan=lifespan,
        log_level=log_level,
        middleware=[bounded_names, *middleware],
    )
    server.middleware.append(ReadableArgumentErrors(server))
    return server
