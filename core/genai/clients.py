"""The one place that builds google-genai clients from settings, and the retry policy of every call.

Two async clients, built lazily (importing google.genai costs start-up time):
- `developer()`: Gemini Developer API (an API key): text, structured output, Gemini native
  images, embeddings.
- `vertex()`: Vertex AI, with a project (+ Application Default Credentials) or an express-mode API
  key: Veo and Imagen live only here, and text works here too.

Retries, decided per call:
- PAID calls create something billed: the Veo submit (`models.generate_videos`) and image generation
  (`models.generate_images` for Imagen, `models.generate_content` with IMAGE output for Gemini). They
  go through `send_paid` with `paid_http_options()`: the SDK makes exactly ONE attempt (its retry
  predicate would otherwise resend after a dropped connection, a reset or a timeout whatever the
  status codes, i.e. after the request may have been processed), and the only retry is ours, on a
  429, which means the request was refused and created nothing.
- Everything else keeps the clients' default (408/429/5xx and transport errors, exponential backoff
  with jitter): text and structured output (a lost answer costs a few tokens and changes nothing),
  embeddings, and Veo operation polls (reads). `shots_plan` is a structured-output call: a retry
  returns a new plan and nothing is saved until it validates.
Every call stops waiting after `timeout_s`.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import anyio
from pydantic import BaseModel

from core.genai.errors import Backend, GenerationError, MissingCredentials, map_genai_error
from core.genai.settings import GenAISettings
from core.tracing import client_span

if TYPE_CHECKING:
    from google.genai.client import AsyncClient, Client
    from google.genai.types import HttpOptions, HttpRetryOptions

ResultT = TypeVar("ResultT")

RETRY_STATUS_CODES = [408, 429, 500, 502, 503, 504]
PAID_RETRY_STATUS = 429  # the one answer after which resending a paid call cannot bill twice
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

    def __init__(self, settings: GenAISettings, *, vertex_credentials: Any = None, standin: bool = False) -> None:
        """`vertex_credentials`: google.auth credentials to use instead of ADC (rarely needed);
        `standin`: the Vertex endpoint is the local generation stand-in (nothing is paid)."""
        self.settings = settings
        self.standin = standin
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
        retry = self._retry_options()
        base_url = s.gemini_base_url if backend == "developer" else s.vertex_base_url
        http_options = types.HttpOptions(
            base_url=base_url, timeout=self._timeout_ms(), retry_options=retry, **self._transport_options()
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

    def _retry_options(self) -> HttpRetryOptions:
        """The default for calls that are not paid: 408/429/5xx and transport errors, with backoff."""
        from google.genai import types

        s = self.settings
        return types.HttpRetryOptions(
            attempts=max(s.max_retries, 0) + 1,
            initial_delay=s.retry_initial_delay_s,
            max_delay=s.retry_max_delay_s,
            exp_base=2.0,
            jitter=s.retry_jitter_s,
            http_status_codes=RETRY_STATUS_CODES,
        )

    def _timeout_ms(self) -> int:
        return max(int(self.settings.timeout_s * 1000), 1)

    def _transport_options(self) -> dict[str, Any]:
        """HttpOptions fields that pick the SDK's async transport: its own choice (aiohttp when installed),
        or httpx when asked for (STUDIO_GENAI_TRANSPORT=httpx: an httpx transport makes the SDK skip aiohttp)."""
        if self.settings.transport != "httpx":
            return {}
        import httpx

        return {"async_client_args": {"transport": httpx.AsyncHTTPTransport()}}

    def paid_http_options(self) -> HttpOptions:
        """Per-request `HttpOptions` for a paid call (see the module docstring): exactly one SDK attempt.

        google-genai retries a request given `HttpRetryOptions` on 408/429/5xx or on any connection
        drop, reset or timeout (aiohttp ServerDisconnectedError/ClientOSError, httpx ConnectError/
        TimeoutException), and its aiohttp path has an implicit retry of its own; `attempts=1` stops
        both. Pass it in the call's config (`GenerateVideosConfig(http_options=...)`, ...) and send the
        call through `send_paid`."""
        from google.genai import types

        return types.HttpOptions(timeout=self._timeout_ms(), retry_options=types.HttpRetryOptions(attempts=1))

    async def send_paid(
        self, send: Callable[[], Awaitable[ResultT]], *, backend: Backend, model: str | None = None
    ) -> ResultT:
        """Run a paid call (`send` makes one request with `paid_http_options()`) and retry it only after
        a 429 (the request was refused: nothing was created), at most `max_retries` times, honouring
        the server's retry delay. Any other failure is raised at once as a GenerationError: after a lost
        answer (a dropped or reset connection, a timeout, a 5xx) the call may have been processed, and
        only the caller can decide what that means. Each attempt has a deadline beyond the SDK's own
        timeout, so a stuck transport cannot hold the caller forever."""
        s = self.settings
        attempt = 0
        while True:
            try:
                with (
                    client_span(
                        "gen_ai", "paid call", {"gen_ai.request.model": model or "", "studio.attempt": attempt}
                    ),
                    anyio.fail_after(s.timeout_s * 2 + 30),
                ):
                    return await send()
            except Exception as exc:
                error = self.map_error(exc, backend=backend, model=model)
                if error.status_code != PAID_RETRY_STATUS or attempt >= max(s.max_retries, 0):
                    raise error from exc
            backoff = min(s.retry_initial_delay_s * 2**attempt, s.retry_max_delay_s)
            delay = error.retry_after_s if error.retry_after_s is not None else backoff
            await anyio.sleep(min(delay, s.retry_max_delay_s) + random.uniform(0, max(s.retry_jitter_s, 0.0)))
            attempt += 1

    def built(self, backend: Backend) -> bool:
        """Whether that backend's client has been built (and google.genai imported) already."""
        with self._lock:
            return backend in self._clients

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
