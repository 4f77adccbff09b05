"""`studio-mcp doctor`: what this server will use, and what each missing piece disables."""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from collections.abc import Callable
from typing import TypeVar

import anyio

from core import Settings
from core.context import StudioContext
from core.genai import GenAIClients, GenAISettings
from core.state import StateStore
from server.app import build_families
from server.auth import AuthConfigError, IntrospectionTokenVerifier, token_verifier
from tools.style import ChromaStore, make_embedder

T = TypeVar("T")

# How long doctor waits for the embedder to load and encode (loading torch and MiniLM takes ~7 s here).
DOCTOR_EMBEDDER_TIMEOUT_S = 120.0
# Importing chromadb takes seconds once; its calls then get STUDIO_CHROMA_TIMEOUT_S each.
DOCTOR_CHROMA_IMPORT_S = 60.0


class Timeout(Exception):
    """A doctor check did not finish in time."""


def run_doctor(settings: Settings) -> int:
    return Doctor(settings).run()


class Doctor:
    """Prints what this server will use and what each missing piece disables (exit 1 if a core piece
    fails). Every backend call runs under a deadline, so a frozen Chroma or a stuck embedder load is
    reported, not waited on: `abandoned` then says a thread is still stuck in one."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.failures = 0
        self.abandoned = False

    def say(self, text: str = "") -> None:
        sys.stdout.write(text + "\n")  # doctor is a CLI report, never run while serving stdio

    def line(self, ok: bool | None, what: str, detail: str) -> None:
        mark = {True: "ok  ", False: "FAIL", None: "off "}[ok]
        if ok is False:
            self.failures += 1
        self.say(f"[{mark}] {what}: {detail}")

    def bounded(self, fn: Callable[[], T], seconds: float) -> T:
        """fn() in a daemon thread, given up on after `seconds` (the thread is left to itself)."""
        result: list[T] = []
        error: list[BaseException] = []

        def work() -> None:
            try:
                result.append(fn())
            except BaseException as exc:  # handed to the caller's thread as is
                error.append(exc)

        worker = threading.Thread(target=work, name="doctor-check", daemon=True)
        worker.start()
        worker.join(seconds)
        if worker.is_alive():
            self.abandoned = True
            raise Timeout(f"no answer within {seconds:g} s")
        if error:
            raise error[0]
        return result[0]

    def run(self) -> int:
        settings = self.settings
        self.say("studio-mcp doctor\n\nSettings (secrets masked):")
        for name, value in settings.masked().items():
            self.say(f"  {name} = {value}")
        self.say()
        self.check_data_dir()
        self.check_state()
        self.check_chroma()
        self.check_embedder()
        self.check_credentials()
        self.check_auth()
        self.say(
            "\nStyle retrieval, productions, shots_save, prompt_build, continuity and cost tools need no credentials."
        )
        return 1 if self.failures else 0

    def check_data_dir(self) -> None:
        data_dir = self.settings.data_dir

        def probe() -> None:
            data_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=data_dir):
                pass

        try:
            self.bounded(probe, 30)  # a hung network mount must not hang doctor either
            self.line(True, "data directory", f"{data_dir.resolve()} is writable")
        except Timeout as exc:
            self.line(False, "data directory", f"{data_dir} did not answer ({exc}): check its disk or mount")
        except OSError as exc:
            self.line(False, "data directory", f"{data_dir} is not writable ({exc}); set STUDIO_DATA_DIR")

    def check_state(self) -> None:
        """The state store answers, and which migrations `serve` would still apply (none are applied here)."""
        settings = self.settings
        migrations = [m for family in build_families(StudioContext(settings)).in_order() for m in family.migrations]

        def probe() -> tuple[str, list[str]]:
            store = StateStore(settings.state_database_url, timeout_s=min(settings.state_timeout_s, 10), pool_size=1)
            try:
                return store.where, store.pending(migrations)
            finally:
                store.close()

        try:
            where, pending = self.bounded(probe, 30)
        except Timeout as exc:
            self.line(False, "state store", f"did not answer ({exc}): check STUDIO_STATE_URL and the server")
        except Exception as exc:  # doctor reports whatever the backend raised, and goes on
            self.line(False, "state store", f"{exc}")
        else:
            state = f"{len(migrations) - len(pending)} of {len(migrations)} migrations applied"
            if pending:
                state += f"; serve applies the rest at start-up: {', '.join(pending)}"
            self.line(True, "state store", f"{where}: {state}")

    def check_chroma(self) -> None:
        settings = self.settings
        store = ChromaStore(settings)
        # the store gives each call (connecting, listing) STUDIO_CHROMA_TIMEOUT_S and says so when it runs out
        deadline = DOCTOR_CHROMA_IMPORT_S + 3 * settings.chroma_timeout_s
        disabled = "style tools are disabled until it is reachable"
        try:
            kits = self.bounded(lambda: anyio.run(store.run, store.kits), deadline)
        except Timeout as exc:
            self.line(False, "chroma", f"{store.address} did not answer ({exc}) — {disabled}")
        except Exception as exc:  # doctor reports whatever the backend raised, and goes on
            self.line(False, "chroma", f"{exc} — {disabled}")
        else:
            where = (
                settings.chroma_path
                if settings.chroma_mode == "embedded"
                else f"{settings.chroma_host}:{settings.chroma_port}"
            )
            self.line(True, "chroma", f"{settings.chroma_mode} at {where}, {len(kits)} kit(s)")
        if store.stragglers:
            self.abandoned = True

    def check_embedder(self) -> None:
        settings = self.settings
        if settings.embedder == "gemini":
            self.line(None, "embedder", "gemini: needs GEMINI_API_KEY; checked on first use")
            return
        disabled = "style_ingest and style_search are disabled"

        def load() -> tuple[str, int]:
            embedder = make_embedder(settings.embedder, GenAIClients(GenAISettings.from_env(os.environ)), "")
            return embedder.name, len(embedder.embed_sync(["doctor check"])[0])  # type: ignore[attr-defined]

        try:
            name, dim = self.bounded(load, DOCTOR_EMBEDDER_TIMEOUT_S)
        except Timeout as exc:
            self.line(False, "embedder", f"{settings.embedder} did not load and encode ({exc}) — {disabled}")
        except Exception as exc:  # doctor reports whatever the backend raised, and goes on
            self.line(False, "embedder", f"{exc} — {disabled}")
        else:
            self.line(True, "embedder", f"{name}, {dim} dimensions, loaded offline")

    def check_credentials(self) -> None:
        present = GenAIClients(GenAISettings.from_env(os.environ)).describe()
        self.line(
            True if present.developer_ready else None,
            "Gemini Developer API",
            "configured"
            if present.developer_ready
            else "no GEMINI_API_KEY/GOOGLE_API_KEY: shots_plan, Gemini images and gemini embeddings are disabled",
        )
        self.line(
            True if present.vertex_ready else None,
            "Vertex AI",
            f"configured ({present.vertex_auth})"
            if present.vertex_ready
            else "no Vertex credentials (GOOGLE_GENAI_USE_VERTEXAI=true with GOOGLE_CLOUD_PROJECT/"
            "GOOGLE_CLOUD_LOCATION and ADC, or a Vertex express-mode API key): Veo video and Imagen are disabled",
        )

    def check_auth(self) -> None:
        settings = self.settings
        try:
            verifier = token_verifier(settings)  # reads settings and the token file; calls no provider
        except AuthConfigError as exc:
            self.line(False, "HTTP auth", str(exc))
            return
        if isinstance(verifier, IntrospectionTokenVerifier):
            self.line(True, "HTTP auth", f"OAuth token introspection at {settings.http_oauth_introspection_url}")
        elif verifier is not None:
            self.line(True, "HTTP auth", "bearer tokens")
        elif settings.http_behind_auth_proxy:
            self.line(None, "HTTP auth", "none here: an authenticating proxy is trusted to do it")
        else:
            self.line(None, "HTTP auth", "none: `serve --http` binds only loopback addresses (see STUDIO_HTTP_AUTH_*)")
