"""The one exception type a tool raises for a failure the caller can fix.

It subclasses the SDK's ToolError so its message reaches the client verbatim (any other
exception reaches it only as "Error executing tool X"). Messages say what was wrong and
how to fix it, and never carry a secret.
"""

from __future__ import annotations

from mcp.server.mcpserver.exceptions import ToolError


class StudioError(ToolError):
    """A failure the caller can act on."""


class NotFound(StudioError):
    """A named thing (kit, production, shot, asset, job) does not exist."""
