"""The MCP tool annotations every tool carries, by what the tool does: clients use them to decide what
to run without asking (read-only), what is safe to retry (idempotent) and what reaches a paid API."""

from __future__ import annotations

from mcp.types import ToolAnnotations


def _hints(*, read_only: bool, destructive: bool, idempotent: bool, open_world: bool) -> ToolAnnotations:
    return ToolAnnotations(
        readOnlyHint=read_only, destructiveHint=destructive, idempotentHint=idempotent, openWorldHint=open_world
    )


READ_ONLY = _hints(read_only=True, destructive=False, idempotent=True, open_world=False)
# Writes that the same call repeated leaves as they are (an ingest of unchanged files, a submit already made).
RECORDS = _hints(read_only=False, destructive=False, idempotent=True, open_world=False)
# Writes that add a new record each time (a brief version, a fact, a decision).
APPENDS = _hints(read_only=False, destructive=False, idempotent=False, open_world=False)
# Writes that replace or remove what was there (a scene's shot list, a kit's source, a job's polling).
REPLACES = _hints(read_only=False, destructive=True, idempotent=True, open_world=False)
# Checks that record their findings and, with judge=true, ask Gemini.
CHECKS = _hints(read_only=False, destructive=False, idempotent=True, open_world=True)
# Calls a paid Google API: never read-only, never assumed safe to repeat.
PAID = _hints(read_only=False, destructive=False, idempotent=False, open_world=True)
