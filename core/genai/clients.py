"""The one place that builds google-genai clients from settings.

Two async clients, built lazily (importing google.genai costs start-up time):
- `developer()`: Gemini Developer API (an API key): text, structured output, Gemini native
  images, embeddings.
- `vertex()`: Vertex AI, with a project (+ Application Default Credentials) or an express-mode API
  key: Veo and Imagen live only here, and text works here too.

Both retry 408/429/5xx with exponential backoff and jitter and stop waiting after `timeout_s`.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from core.genai.errors import Backend, GenerationError, MissingCredentials, map_genai_error
from core.genai.settings import GenAISettings

if TYPE_CHECKING:
    from google.genai.client import AsyncClient, Client
    from google.genai.types import HttpOptions, HttpRetryOptions

RETRY_STATUS_CODES = [408, 429, 500, 502, 503, 504]
DEFAULT_VERTEX_LOCATION = "us-central1"  # Veo is served there; the SDK's "global" default is not enough


class CredentialsReport(BaseModel):
    """Which credentials are configured (never their values), for `doctor`."""

    developer_api_key: bool
    vertex_api_key: bool
    vertex_project: bool
    vertex_location: str | None
    vertex_auth: Literal["express_api_key", "adc", "none"]
    use_vertex: bool | None
    developer_ready: bool
    vertex_ready: bool
    text_backend: Backend | None
    gemini_base_url: str | None
    vertex_base_url: str | None


class GenAIClients:
    """Lazily built async clients for the Developer API and Vertex AI, sharing one configuration."""

    def __init__(self, settings: GenAISettings, *, vertex_credentials: Any = None) -> None:
        """`vertex_credentials`: google.auth credentials to use instead of ADC (rarely needed)."""
        self.settings = settings
        self._vertex_credentials = vertex_credentials
        self._lock = threading.Lock()
        self._clients: dict[Backend, Client] = {}

    # -- which backends are usable

    def has_developer(self) -> bool:
        return bool(self.settings.api_key and self.settings.api_key.get_secret_value())

    def has_vertex(self) -> bool:
        key = self.settings.vertex_api_key
        return bool((key and key.get_secret_value()) or self.settings.project)

    def text_backend(self) -> Backend | None:
        """Where text and structured output go: Vertex when asked for, else the Developer API, else
        Vertex if that is all there is."""
        if self.settings.use_vertex and self.has_vertex():
            return "vertex"
        if self.has_developer():
            return "developer"
        if self.has_vertex():
            return "vertex"
        return None

    def describe(self) -> CredentialsReport:
        s = self.settings
        express = bool(s.vertex_api_key and s.vertex_api_key.get_secret_value())
        return CredentialsReport(
            developer_api_key=self.has_developer(),
            vertex_api_key=express,
            vertex_project=bool(s.project),
            vertex_location=(s.location or DEFAULT_VERTEX_LOCATION) if s.project else s.location,
            vertex_auth="express_api_key" if express else ("adc" if s.project else "none"),
            use_vertex=s.use_vertex,
            developer_ready=self.has_developer(),
            vertex_ready=self.has_vertex(),
            text_backend=self.text_backend(),
            gemini_base_url=s.gemini_base_url,
            vertex_base_url=s.vertex_base_url,
        )

    # -- the clients

    def developer(self) -> AsyncClient:
        if not self.has_developer():
            raise MissingCredentials("developer")
        return self._client("developer").aio

    def vertex(self) -> AsyncClient:
        if not self.has_vertex():
            raise MissingCredentials("vertex")
        return self._client("vertex").aio

    def for_text(self) -> tuple[Backend, AsyncClient]:
        backend = self.text_backend()
        if backend is None:
            raise MissingCredentials("developer")
        return backend, (self.developer() if backend == "developer" else self.vertex())

    def _client(self, backend: Backend) -> Client:
        with self._lock:
            client = self._clients.get(backend)
            if client is None:
                client = self._build(backend)
                self._clients[backend] = client
            return client

    def _build(self, backend: Backend) -> Client:
        from google import genai  # lazy: a cold import costs about a second
        from google.genai import types

        s = self.settings
        retry = self._retry_options(RETRY_STATUS_CODES)
        base_url = s.gemini_base_url if backend == "developer" else s.vertex_base_url
        http_options = types.HttpOptions(
            base_url=base_url, timeout=max(int(s.timeout_s * 1000), 1), retry_options=retry
        )
        if backend == "developer":
            assert s.api_key is not None
            return genai.Client(vertexai=False, api_key=s.api_key.get_secret_value(), http_options=http_options)
        express = s.vertex_api_key.get_secret_value() if s.vertex_api_key else None
        if express:
            return genai.Client(vertexai=True, api_key=express, http_options=http_options)
        # Always pass a location: with a custom base URL and none, the SDK would post to the bare URL.
        return genai.Client(
            vertexai=True,
            project=s.project,
            location=s.location or DEFAULT_VERTEX_LOCATION,
            credentials=self._vertex_credentials,
            http_options=http_options,
        )

    def _retry_options(self, status_codes: list[int]) -> HttpRetryOptions:
        from google.genai import types

        s = self.settings
        return types.HttpRetryOptions(
            attempts=max(s.max_retries, 0) + 1,
            initial_delay=s.retry_initial_delay_s,
            max_delay=s.retry_max_delay_s,
            exp_base=2.0,
            jitter=s.retry_jitter_s,
            http_status_codes=status_codes,
        )

    def submit_http_options(self) -> HttpOptions:
        """Per-request `HttpOptions` for a paid, non-idempotent submit (Veo `generate_videos`): retry
        only 429, which means the request was refused, never 5xx or 408, after which the job may exist
        already. Pass it as `GenerateVideosConfig(http_options=...)`."""
        from google.genai import types

        s = self.settings
        retry = self._retry_options([429])
        return types.HttpOptions(timeout=max(int(s.timeout_s * 1000), 1), retry_options=retry)

    async def aclose(self) -> None:
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
        for client in clients:
            await client.aio.aclose()
            client.close()

    # -- errors

    def map_error(
        self, exc: BaseException, *, backend: Backend | None = None, model: str | None = None
    ) -> GenerationError:
        return map_genai_error(
            exc,
            secrets=self.settings.secrets(),
            backend=backend,
            model=model,
            timeout_s=self.settings.timeout_s,
        )
