"""Stdio transport that answers every request it cannot read, instead of dropping it.

The SDK's stdio reader drops a line that fails its JSON-RPC validation (a lone surrogate, nesting
thousands deep, a 5,000-digit number, `"jsonrpc": "1.0"`) even when it carries an id, so the client
waits forever. This reader checks each line first with the same validator: a good line passes
through untouched; a bad one that carries an id is answered with a JSON-RPC error (-32700 when it is
no JSON the SDK's parser can read, -32600 when it is JSON but no valid message) carrying that id; a bad one
without an id goes on to the SDK as before (there is nobody to answer).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import AsyncIterator
from io import TextIOWrapper
from typing import Any

import anyio
import mcp_types as types
from mcp.server import MCPServer
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from pydantic import ValidationError

from core.errors import capped

log = logging.getLogger("studio_mcp")

PARSE_ERROR = -32700
INVALID_REQUEST = -32600


def request_id(line: str) -> str | int | None:
    """The top-level "id" of a JSON object line, found without parsing the rest (which may be unreadable)."""
    depth, i, n = 0, 0, len(line)
    while i < n:
        char = line[i]
        if char == '"':
            end = _string_end(line, i)
            if end < 0:
                return None
            if depth == 1 and line[i:end] == '"id"':
                rest = line[end:].lstrip()
                if rest.startswith(":"):
                    return _scalar(rest[1:].lstrip())
            i = end
            continue
        if char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
        i += 1
    return None


def _string_end(line: str, start: int) -> int:
    """Index just past the JSON string starting at `start`, or -1 if it never ends."""
    i = start + 1
    while i < len(line):
        if line[i] == "\\":
            i += 2
        elif line[i] == '"':
            return i + 1
        else:
            i += 1
    return -1


def _scalar(text: str) -> str | int | None:
    """An id value (a string or an integer of sane length) at the start of `text`."""
    if text.startswith('"'):
        end = _string_end(text, 0)
        if end < 0:
            return None
        try:
            value: Any = json.loads(text[:end])
        except ValueError:
            return None
        return value if isinstance(value, str) else None
    digits = text[: len(text) - len(text.lstrip("-0123456789"))]
    if 0 < len(digits) <= 20 and digits.lstrip("-").isdigit():
        return int(digits)
    return None


def rejection(line: str, exc: Exception) -> types.JSONRPCError | None:
    """The error answering an unreadable line, or None when it carries no id to answer."""
    found = request_id(line)
    if found is None:
        return None
    unparsed = not isinstance(exc, ValidationError) or any(e["type"] == "json_invalid" for e in exc.errors())
    if unparsed:
        code, what = PARSE_ERROR, "Parse error: the line is not JSON this server can read"
    else:
        code, what = INVALID_REQUEST, "Invalid Request: not a valid JSON-RPC 2.0 message"
    detail = capped(_first_problem(exc), 300)
    return types.JSONRPCError(jsonrpc="2.0", id=found, error=types.ErrorData(code=code, message=f"{what} ({detail})"))


def _first_problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        errors = exc.errors(include_url=False, include_input=False)
        if errors:
            where = ".".join(str(part) for part in errors[0]["loc"][1:])  # [0] names the union member tried
            return f"{where}: {errors[0]['msg']}" if where else errors[0]["msg"]
    return type(exc).__name__


class CheckedStdin:
    """The process's stdin as text lines, bad requests answered on `replies` and held back."""

    def __init__(self, lines: anyio.AsyncFile[str]) -> None:
        self._lines = lines
        self._replies: Any = None  # the transport's write stream, once it exists
        self._ready = anyio.Event()

    def answer_on(self, replies: Any) -> None:
        self._replies = replies
        self._ready.set()

    def __aiter__(self) -> AsyncIterator[str]:
        return self._checked()

    async def _checked(self) -> AsyncIterator[str]:
        async for line in self._lines:
            try:
                types.jsonrpc_message_adapter.validate_json(line, by_name=False)
            except Exception as exc:
                reply = rejection(line, exc)
                if reply is not None:
                    log.warning("Answered an unreadable request (id %s) with error %d", reply.id, reply.error.code)
                    await self._ready.wait()
                    assert self._replies is not None
                    await self._replies.send(SessionMessage(reply))
                    continue
            yield line


def private_stdin() -> anyio.AsyncFile[str]:
    """The wire, read from a private copy of fd 0; fd 0 itself then reads /dev/null, so a child
    process that reads stdin cannot steal protocol bytes (as the SDK does for its own reader)."""
    wire = os.dup(sys.stdin.fileno())
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, sys.stdin.fileno())
    os.close(devnull)
    return anyio.wrap_file(TextIOWrapper(os.fdopen(wire, "rb"), encoding="utf-8", errors="replace"))


async def run_stdio(server: MCPServer[Any]) -> None:
    stdin = CheckedStdin(private_stdin())
    lowlevel = server._lowlevel_server  # the SDK's run_stdio_async does the same with its own reader
    async with stdio_server(stdin=stdin) as (read_stream, write_stream):  # type: ignore[arg-type]
        stdin.answer_on(write_stream)
        await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())
