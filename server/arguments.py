"""Readable answers to malformed tool arguments.

The SDK answers arguments that fail the input schema with pydantic's own text (error types, input
reprs and documentation URLs). A person or a model fixes a call faster from "`k` must be an integer
from 1 to 50, got 'ten'": this middleware re-validates a rejected call against the tool's argument
model and rewrites the answer from the structured errors and the tool's JSON schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcp.server import MCPServer
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.types import CallToolResult, TextContent
from pydantic import ValidationError

from core import shown

MAX_LISTED = 8


class ReadableArgumentErrors:
    def __init__(self, server: MCPServer[Any]) -> None:
        self._server = server

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        result = await call_next(ctx)
        params = ctx.params if isinstance(ctx.params, Mapping) else {}
        name = params.get("name")
        if ctx.method != "tools/call" or not isinstance(name, str) or not _is_validation_answer(result, name):
            return result
        arguments = params.get("arguments")
        rewritten = self._explain(name, arguments if isinstance(arguments, Mapping) else {})
        if rewritten is None:
            return result
        return CallToolResult(content=[TextContent(type="text", text=rewritten)], is_error=True)

    def _explain(self, name: str, arguments: Mapping[str, Any]) -> str | None:
        # The SDK keeps its tools in a private manager; without it the SDK's own text stands.
        tool = getattr(getattr(self._server, "_tool_manager", None), "get_tool", lambda _n: None)(name)
        if tool is None:
            return None
        try:
            tool.fn_metadata.validate_arguments(dict(arguments))
        except ValidationError as exc:
            errors = exc.errors()
        else:
            return None
        properties = tool.parameters.get("properties", {})
        lines = [_line(error, properties) for error in errors[:MAX_LISTED]]
        more = f" (and {len(errors) - MAX_LISTED} more)" if len(errors) > MAX_LISTED else ""
        return f"{name} was called with bad arguments{more}: " + "; ".join(lines) + "."


def _is_validation_answer(result: HandlerResult, name: str) -> bool:
    """Whether the SDK answered with its argument-validation error (a model here, or its wire dict)."""
    if isinstance(result, CallToolResult):
        is_error, content = result.is_error, [c.model_dump() for c in result.content]
    elif isinstance(result, Mapping):
        is_error, content = bool(result.get("isError")), list(result.get("content") or [])
    else:
        return False
    text = content[0].get("text") if content and isinstance(content[0], Mapping) else None
    return (
        is_error
        and isinstance(text, str)
        and text.startswith(f"Error executing tool {name}: ")
        and "validation error" in text
    )


def _line(error: Mapping[str, Any], properties: Mapping[str, Any]) -> str:
    loc = [str(part) for part in error.get("loc", ())]
    field = loc[0] if loc else "?"
    where = ".".join(loc) or "?"
    schema = properties.get(field, {})
    if error.get("type") == "missing":
        hint = schema.get("description", "")
        return f"`{where}` is required" + (f" ({hint})" if hint else "")
    if error.get("type") == "extra_forbidden":
        return f"`{where}` is not a parameter of this tool"
    expected = _expected(schema) if len(loc) == 1 else None
    got = shown(error.get("input"), 60)
    if expected:
        return f"`{where}` must be {expected}, got {got}"
    return f"`{where}`: {str(error.get('msg', 'is invalid')).rstrip('.')}, got {got}"


def _expected(schema: Mapping[str, Any]) -> str | None:
    """'an integer from 1 to 50', "one of '720p', '1080p'", 'a list of text', ... from a JSON schema."""
    options = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    if options and len(options) == 1:
        schema = {**options[0], **{k: v for k, v in schema.items() if k != "anyOf"}}
    if "enum" in schema:
        return "one of " + ", ".join(repr(v) for v in schema["enum"])
    kind = schema.get("type")
    names = {"integer": "an integer", "number": "a number", "string": "text", "boolean": "true or false"}
    if kind in ("integer", "number"):
        low, high = schema.get("minimum", schema.get("exclusiveMinimum")), schema.get("maximum")
        if low is not None and high is not None:
            return f"{names[kind]} from {low:g} to {high:g}"
        if low is not None:
            return f"{names[kind]} of at least {low:g}"
        if high is not None:
            return f"{names[kind]} of at most {high:g}"
        return names[kind]
    if kind == "array":
        inner = _expected(schema.get("items", {}))
        return f"a list of {inner}" if inner else "a list"
    if kind == "object":
        return "an object"
    return names.get(str(kind))
