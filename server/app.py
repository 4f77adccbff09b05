"""Builds the MCP server: the Studio context every tool closes over, its lifespan, and the families."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from mcp.server import MCPServer

from server.db import Migration, StateStore
from server.errors import StudioError
from server.settings import Settings
from tools.generation.client import GenAIClients, GenAISettings

if TYPE_CHECKING:
    from tools.continuity.ledger import LedgerService
    from tools.generation.jobs import JobService
    from tools.production import ProductionService
    from tools.style import StyleService

log = logging.getLogger("studio_mcp")

INSTRUCTIONS = """\
studio-mcp serves a creative studio's pipeline: style retrieval (style_*), productions and briefs,
shot plans and grounded prompts, continuity checks, Veo/Gemini generation with cost and budget, and
review gates. Ground every generation in style_search results and the production's brief."""


class Studio:
    """What the tools share: settings, the state store, the Gemini clients and the family services.

    Tools close over one Studio; the lifespan opens it when the server starts and closes it at exit.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.roots: list[Path] = settings.roots()
        self.genai = GenAIClients(GenAISettings.from_env(os.environ))
        self.migrations: list[Migration] = []
        self.background: list[Callable[[], Coroutine[Any, Any, None]]] = []
        self._state: StateStore | None = None
        # Family services, set by each family's register().
        self.style: StyleService
        self.production: ProductionService
        self.continuity: LedgerService
        self.video_jobs: JobService

    @property
    def state(self) -> StateStore:
        if self._state is None:
            raise StudioError("The state store is not open yet: the server is still starting; retry in a moment.")
        return self._state

    def _open_state(self) -> StateStore:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = StateStore(self.settings.state_path)
        store.migrate(self.migrations)
        return store

    @asynccontextmanager
    async def lifespan(self, _server: Any) -> AsyncIterator[Studio]:
        self._state = await anyio.to_thread.run_sync(self._open_state)
        log.info("studio-mcp data in %s", self.settings.data_dir.resolve())
        try:
            async with anyio.create_task_group() as tasks:
                for job in self.background:
                    tasks.start_soon(job)
                try:
                    yield self
                finally:
                    tasks.cancel_scope.cancel()
        finally:
            state, self._state = self._state, None
            if state is not None:
                state.close()


def build_server(settings: Settings | None = None) -> MCPServer[Studio]:
    from tools import continuity, generation, production, style

    studio = Studio(settings or Settings())
    server: MCPServer[Studio] = MCPServer(
        "studio-mcp",
        instructions=INSTRUCTIONS,
        version="0.1.0",
        lifespan=studio.lifespan,
        log_level=studio.settings.log_level,
    )
    for family in (style, production, generation, continuity):
        family.register(server, studio)
    return server
