"""Chroma, embedded or over HTTP: one collection per kit, tagged with the embedder that built it.

The methods that talk to Chroma are synchronous (chromadb is). The service calls them through
`run`, which gives each call Chroma's own small pool of worker threads (a stuck Chroma must not
use up the threads every other tool shares) and a deadline, and turns "Chroma is down or not
answering" into a ChromaUnavailable that says where Chroma is and what still works.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import httpcore
import httpx

from core import NotFound, Settings, StudioError, listing
from core.imports import import_heavy
from core.tracing import client_span

COLLECTION_PREFIX = "studio-kit-"
KIT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
T = TypeVar("T")

# What a request to a dead, stopped or unreachable Chroma server raises. httpx wraps httpcore's
# errors, but a few code paths let httpcore's own through.
UNREACHABLE: tuple[type[BaseException], ...] = (
    httpx.TransportError,
    httpcore.NetworkError,
    httpcore.TimeoutException,
    httpcore.ProtocolError,
)
STILL_WORKS = (
    "Productions, briefs, shots, the continuity ledger, cost_estimate and video jobs still work; "
    "prompt_build and video_generate still answer, without style passages."
)


class KitNameError(StudioError):
    pass


class EmbedderMismatch(StudioError):
    pass


class ChromaUnavailable(StudioError):
    pass


def check_kit_name(kit: str) -> str:
    if not KIT_NAME.match(kit):
        raise KitNameError(
            f"Kit name {kit!r} is not valid: use 1-63 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit (e.g. 'lumen-moss')."
        )
    return kit


class _Call:
    """One call's hand-over between its thread and its caller: did the caller stop waiting first?"""

    __slots__ = ("abandoned", "done")

    def __init__(self) -> None:
        self.done = False
        self.abandoned = False


class ChromaStore:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: Any = None
        self._lock = threading.Lock()
        # Collection handles by kit, each checked once against the embedder: a search then costs
        # no metadata round trip. Dropped when the kit is deleted (or a query finds it gone).
        self._collections: dict[str, Any] = {}
        self._limiter = anyio.CapacityLimiter(settings.chroma_threads)
        self._calls_lock = threading.Lock()
        self._stragglers = 0
        self._last_failure = -math.inf  # time.monotonic() of the last call that found Chroma unavailable

    # -- calling Chroma -------------------------------------------------------------------------

    @property
    def address(self) -> str:
        s = self._settings
        if s.chroma_mode == "embedded":
            return f"the embedded Chroma in {s.chroma_path}"
        return f"the Chroma server at {'https' if s.chroma_ssl else 'http'}://{s.chroma_host}:{s.chroma_port}"

    @property
    def stragglers(self) -> int:
        """Calls whose caller gave up at the deadline but whose thread is still running (and may still write)."""
        with self._calls_lock:
            return self._stragglers

    def failed_since(self, moment: float) -> bool:
        """Whether a call found Chroma unavailable after `moment` (a time.monotonic() value)."""
        return self._last_failure > moment

    def _no_answer(self) -> str:
        timeout = self._settings.chroma_timeout_s
        return f"did not answer within {timeout:g} s (STUDIO_CHROMA_TIMEOUT_S); it may be stopped or overloaded"

    def unavailable(self, why: str) -> ChromaUnavailable:
        if self._settings.chroma_mode == "embedded":
            remedy = "Check the data directory's disk, or restart studio-mcp."
        else:
            remedy = (
                "Check that it is running and reachable (chroma run --path DIR --port N), "
                "or set STUDIO_CHROMA_MODE=embedded."
            )
        return ChromaUnavailable(f"Style retrieval is unavailable: {self.address} {why}. {remedy} {STILL_WORKS}")

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in one of Chroma's worker threads, answered within STUDIO_CHROMA_TIMEOUT_S.

        At the deadline the caller gets ChromaUnavailable and the thread is left to finish on its own
        (the HTTP client's timeout brings it back soon after); it is counted as a straggler until then."""
        with client_span("chroma", "call", {"chroma.function": getattr(fn, "__name__", "?")}):
            if self._client is None:
                # Importing chromadb takes seconds once, on this machine: not time to hold against Chroma.
                await anyio.to_thread.run_sync(import_heavy, "chromadb")
                await self._run(self.client)  # connecting is a call of its own, with its own deadline
            return await self._run(fn, *args)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        call = _Call()

        def in_thread() -> T:
            try:
                return fn(*args)
            except UNREACHABLE as exc:
                raise self.unavailable(self._why(exc)) from None
            finally:
                with self._calls_lock:
                    call.done = True
                    if call.abandoned:
                        self._stragglers -= 1

        timeout = self._settings.chroma_timeout_s
        try:
            with anyio.fail_after(timeout):
                return await anyio.to_thread.run_sync(in_thread, limiter=self._limiter, abandon_on_cancel=True)
        except TimeoutError:
            with self._calls_lock:
                if not call.done:
                    call.abandoned = True
                    self._stragglers += 1
            self._last_failure = time.monotonic()
            raise self.unavailable(self._no_answer()) from None
        except ChromaUnavailable:
            self._last_failure = time.monotonic()
            raise

    # -- the client and collections (blocking: call them through `run`) --------------------------

    def client(self) -> Any:
        # Bounded, so that threads queued behind a connection attempt that hangs come back.
        if not self._lock.acquire(timeout=self._settings.chroma_timeout_s):
            raise self.unavailable("is still being connected to by an earlier call")
        try:
            if self._client is None:
                self._client = self._connect()
            return self._client
        finally:
            self._lock.release()

    def _connect(self) -> Any:
        import chromadb  # heavy: imported on first use, not at start-up

        s = self._settings
        chroma_settings = chromadb.Settings(anonymized_telemetry=False)
        if s.chroma_mode == "embedded":
            s.chroma_path.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(s.chroma_path), settings=chroma_settings)
        headers = {k: v.get_secret_value() for k, v in s.chroma_headers.items()}
        if s.chroma_token is not None:
            headers["x-chroma-token"] = s.chroma_token.get_secret_value()
        kwargs: dict[str, Any] = {}
        if s.chroma_tenant:
            kwargs["tenant"] = s.chroma_tenant
        if s.chroma_database:
            kwargs["database"] = s.chroma_database
        try:
            return _http_client(
                s.chroma_host,
                s.chroma_port,
                ssl=s.chroma_ssl,
                headers=headers,
                settings=chroma_settings,
                timeout_s=s.chroma_timeout_s,
                **kwargs,
            )
        except Exception as exc:  # chromadb wraps connection errors and timeouts in ValueError and others
            raise self.unavailable(self._why(exc)) from None

    def _why(self, exc: BaseException) -> str:
        """Why a call failed, from the transport error chromadb may have wrapped. The HTTP timeout and the
        caller's deadline are the same length, so either may fire first: both read the same."""
        cause: BaseException | None = exc
        while cause is not None:
            if isinstance(cause, (httpx.TimeoutException, httpcore.TimeoutException)):
                return self._no_answer()
            if isinstance(cause, UNREACHABLE):
                return f"is unreachable ({type(cause).__name__})"
            cause = cause.__cause__ or cause.__context__
        return f"cannot be reached ({type(exc).__name__})"

    def kits(self) -> dict[str, dict[str, Any]]:
        """Kit name -> collection metadata, for every kit collection."""
        out: dict[str, dict[str, Any]] = {}
        for collection in self.client().list_collections():
            if collection.name.startswith(COLLECTION_PREFIX):
                out[collection.name.removeprefix(COLLECTION_PREFIX)] = dict(collection.metadata or {})
        return out

    def collection(self, kit: str, embedder: str, *, create: bool = False) -> Any:
        """The kit's collection, refusing one that a different embedder built."""
        cached = self._collections.get(kit)
        if cached is not None:
            return cached
        name = COLLECTION_PREFIX + check_kit_name(kit)
        client = self.client()
        if create:
            collection = client.get_or_create_collection(
                name,
                metadata={"kit": kit, "embedder": embedder},
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
        else:
            try:
                collection = client.get_collection(name, embedding_function=None)
            except UNREACHABLE:
                raise
            except Exception:
                known = listing(sorted(self.kits()), like=kit, empty="none yet")
                raise NotFound(
                    f"Unknown kit {kit!r} (known kits: {known}). Ingest material into it with style_ingest first."
                ) from None
        built_with = (collection.metadata or {}).get("embedder")
        if built_with != embedder:
            raise EmbedderMismatch(
                f"Kit {kit!r} was built with the embedder {built_with!r}, but this server uses {embedder!r}. "
                f"Set STUDIO_EMBEDDER back to the kit's embedder, or remove the kit (style_remove) and "
                "ingest it again with the current one."
            )
        self._collections[kit] = collection
        return collection

    def cached(self, kit: str) -> Any:
        """The kit's collection if a call already opened it, else None (no I/O)."""
        return self._collections.get(kit)

    def forget(self, kit: str) -> None:
        self._collections.pop(kit, None)

    def delete_kit(self, kit: str) -> None:
        self.forget(kit)
        self.client().delete_collection(COLLECTION_PREFIX + check_kit_name(kit))


def _http_client(
    host: str, port: int, *, ssl: bool, headers: dict[str, str], settings: Any, timeout_s: float, **kwargs: Any
) -> Any:
    """What `chromadb.HttpClient` builds, with every request under `timeout_s`, the constructor's own too.

    chromadb creates its httpx session with timeout=None and offers no setting for it
    (chroma-core/chroma#5805), and its client's constructor already asks the server who we are and
    whether the tenant and database exist: against a stopped server each of those waits forever.
    Its first request goes through `get_user_identity`, so the session gets its timeout there."""
    from chromadb.api.client import Client
    from chromadb.auth import UserIdentity

    timeout = httpx.Timeout(timeout_s)

    class DeadlineClient(Client):
        def get_user_identity(self) -> UserIdentity:
            _session_of(self).timeout = timeout
            return super().get_user_identity()

    # As chromadb.HttpClient sets them up.
    settings.chroma_api_impl = "chromadb.api.fastapi.FastAPI"
    settings.chroma_server_host = host
    settings.chroma_server_http_port = port
    settings.chroma_server_ssl_enabled = ssl
    settings.chroma_server_headers = headers
    client = DeadlineClient(settings=settings, **kwargs)
    _session_of(client).timeout = timeout  # in case a chromadb release stops calling get_user_identity first
    return client


def _session_of(client: Any) -> httpx.Client:
    """The httpx session of chromadb's HTTP API behind a client (a private attribute: no public way in)."""
    session: httpx.Client = client._server._session
    return session
