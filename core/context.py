"""The shared context every family receives: settings, allowed roots, the state store, the genai clients.

It holds no family: families get each other's services from server/ when they are built. The
state store is opened by the server's lifespan (after every family's migrations are known) and
closed at exit; a call that arrives before it is open gets a clear error.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from core.errors import StudioError
from core.genai import GenAIClients, GenAISettings
from core.genai.standin import STANDIN_KEY, StandIn
from core.settings import Settings
from core.state import Migration, StateStore


class StudioContext:
    def __init__(self, settings: Settings, genai: GenAIClients | None = None) -> None:
        self.settings = settings
        self.roots: list[Path] = settings.roots()
        self._standin: StandIn | None = None
        if genai is None and settings.generation == "standin":
            self._standin = StandIn()
            genai = standin_clients(self._standin.start())
        self.genai = genai or GenAIClients(GenAISettings.from_env(os.environ))
        self._state: StateStore | None = None

    @property
    def state(self) -> StateStore:
        if self._state is None:
            raise StudioError("The state store is not open yet: the server is still starting; retry in a moment.")
        return self._state

    def open_state(self, migrations: Sequence[Migration]) -> StateStore:
        """Open the state store and apply the migrations (blocking: run it in a worker thread)."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = StateStore(
            self.settings.state_database_url,
            timeout_s=self.settings.state_timeout_s,
            pool_size=self.settings.state_pool_size,
        )
        store.migrate(migrations)
        self._state = store
        return store

    def close_state(self) -> None:
        state, self._state = self._state, None
        if state is not None:
            state.close()


def standin_clients(url: str) -> GenAIClients:
    """Clients whose every call goes to the stand-in at `url`: Vertex express mode with a dummy key, and
    no Developer API key, so not even an image call can reach Google."""
    settings = GenAISettings.from_env(
        os.environ,
        api_key=None,
        use_vertex=True,
        project=None,
        location=None,
        vertex_api_key=STANDIN_KEY,
        vertex_base_url=url,
        gemini_base_url=url,
    )
    return GenAIClients(settings, standin=True)
