"""What a tool family is to the server: its tables, its MCP surface and its background work."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from mcp.server import MCPServer

if TYPE_CHECKING:  # SQLAlchemy is not imported before the families are
    from core.state import Migration

BackgroundTask = Callable[[], Coroutine[Any, Any, None]]


class Family(Protocol):
    """One tool family, built by server/ with the collaborators it needs already in hand."""

    name: str

    @property
    def migrations(self) -> Sequence[Migration]:
        """Its tables, applied once each, in order, when the server starts."""
        ...

    @property
    def background(self) -> Sequence[BackgroundTask]:
        """Tasks that run for the server's whole life (e.g. the Veo poller)."""
        ...

    def register(self, server: MCPServer[Any]) -> None:
        """Declare its tools, resources and prompts on the server."""
        ...
