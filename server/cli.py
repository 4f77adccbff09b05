"""`studio-mcp serve|doctor|review|settings`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any, TypeVar, cast

import anyio
from starlette.routing import BaseRoute

from core import NotFound, Settings, StateStore, StudioContext, StudioError
from core.config import SettingsError, load_settings
from core.genai import GenAIClients, GenAISettings
from server.app import Families, build_families, serve_all
from server.auth import AuthConfigError, IntrospectionTokenVerifier, token_verifier
from server.demo import run_demo
from server.http import (
    HttpOptions,
    RefusedBind,
    bind_loopback,
    local_review_app,
    new_review_key,
    run_http,
    serve_socket,
)
from server.settings_doc import settings_table
from server.stdio import run_stdio
from tools.generation import price_table
from tools.review import ReviewService, review_routes
from tools.style import ChromaStore, StyleService, make_embedder

T = TypeVar("T")

# How long doctor waits for the embedder to load and encode (loading torch and MiniLM takes ~7 s here).
DOCTOR_EMBEDDER_TIMEOUT_S = 120.0
# Importing chromadb takes seconds once; its calls then get STUDIO_CHROMA_TIMEOUT_S each.
DOCTOR_CHROMA_IMPORT_S = 60.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="studio-mcp", description="MCP server for a creative studio's AI pipeline.")
    parser.add_argument("--version", action="version", version=f"studio-mcp {package_version('studio-mcp')}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="Run the MCP server (stdio by default).")
    serve.add_argument("--http", action="store_true", help="Serve Streamable HTTP instead of stdio.")
    serve.add_argument("--host", help="HTTP host (default STUDIO_HTTP_HOST or 127.0.0.1).")
    serve.add_argument("--port", type=int, help="HTTP port (default STUDIO_HTTP_PORT or 8765).")
    serve.add_argument(
        "--behind-auth-proxy",
        action="store_true",
        help="An authenticating proxy fronts this server: allow a non-loopback bind without STUDIO_HTTP_AUTH_*.",
    )
    serve.add_argument(
        "--stateless",
        action="store_true",
        help="HTTP without sessions, so any replica behind a load balancer can answer any request.",
    )
    commands.add_parser("doctor", help="Check settings, storage, the embedder and credentials.")
    review = commands.add_parser(
        "review", help="Serve the review page on 127.0.0.1 for you alone (a key per run), until Ctrl-C."
    )
    review.add_argument("--port", type=int, default=0, help="Port on 127.0.0.1 (default: any free port).")
    review.add_argument("--production", help="Open on this production's queue (id or name).")
    demo = commands.add_parser(
        "demo", help="One shot's whole journey, narrated, over a real MCP session (offline by default)."
    )
    demo.add_argument("--data-dir", type=Path, help="Where to keep the demo's state (default: a new temp dir).")
    demo.add_argument("--vertex", action="store_true", help="Generate with Vertex AI (paid; needs credentials).")
    reference = commands.add_parser("settings", help="Print every setting with its default and meaning.")
    reference.add_argument(
        "--markdown", action="store_true", required=True, help="As the README's Markdown table (the only format)."
    )
    args = parser.parse_args(argv)
    if args.command == "settings":  # the reference, not this environment's values: nothing is read
        sys.stdout.write(settings_table() + "\n")
        return
    if args.command == "demo":  # its own server process reads the settings
        sys.exit(run_demo(args.data_dir, vertex=args.vertex))

    settings = checked_settings()
    # stdout is the MCP wire in stdio mode: every log line goes to stderr.
    logging.basicConfig(stream=sys.stderr, level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        options = HttpOptions(
            host=args.host or settings.http_host,
            port=args.port or settings.http_port,
            stateless=args.stateless,
            behind_auth_proxy=args.behind_auth_proxy or settings.http_behind_auth_proxy,
        )
        try:
            run_serve(settings, http=args.http, options=options)
        except (RefusedBind, AuthConfigError) as exc:
            sys.stderr.write(f"studio-mcp: {exc}\n")
            sys.exit(2)
    elif args.command == "review":
        sys.exit(run_review(settings, port=args.port, production=args.production))
    else:
        doctor = Doctor(settings)
        code = doctor.run()
        if doctor.abandoned:
            # a backend call that never answered still holds a thread; do not wait for it at exit
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        sys.exit(code)


def page_routes(families: Families, settings: Settings, reviews: ReviewService | None = None) -> list[BaseRoute]:
    return review_routes(
        reviews or families.review.reviews,
        families.production.productions,
        trusted_origins=settings.http_allowed_origins,
    )


class KitsOfTheMcpServer:
    """The style service as `studio-mcp review` sees it on embedded Chroma: it never writes there.
    An embedded Chroma directory takes one process, and the MCP server on this data directory owns
    it, so a decision's kit material stays pending in the outbox (the decision itself is recorded)
    and that server's background flush writes it (at once if it is running, else when it starts)."""

    async def ingest(self, *args: Any, **kwargs: Any) -> Any:
        raise StudioError(
            "left to the MCP server on this data directory (studio-mcp review does not open its embedded Chroma)"
        )


def checked_settings() -> Settings:
    """Every setting (the price table included) read now; each bad one is a line on stderr, exit 2."""
    problems: list[str] = []
    settings: Settings | None = None
    try:
        settings = load_settings()
    except SettingsError as exc:
        problems += exc.problems
    try:
        price_table()
    except StudioError as exc:
        problems.append(str(exc))
    if problems or settings is None:
        for problem in problems:
            sys.stderr.write(f"studio-mcp: invalid setting: {problem}\n")
        sys.exit(2)
    return settings


def run_serve(settings: Settings, *, http: bool, options: HttpOptions) -> None:
    context = StudioContext(settings)
    families = build_families(context)
    server = serve_all(context, families)
    if http:
        run_http(server, settings, options, page_routes(families, settings))
    else:
        anyio.run(run_stdio, server)


def run_review(settings: Settings, *, port: int, production: str | None) -> int:
    """The review page alone, on loopback, for the local user: prints its URL and serves until Ctrl-C.

    The Veo poller does not run here: the MCP server that owns this data directory polls its jobs. On
    embedded Chroma the kit material of decisions is left to that server too (see KitsOfTheMcpServer);
    on a Chroma server this process writes it and retries it."""
    context = StudioContext(settings)
    families = build_families(context)
    reviews = families.review.reviews
    tasks_here = families.review.background
    if settings.chroma_mode == "embedded":
        reviews = ReviewService(
            context,
            productions=families.production.productions,
            ledger=families.continuity.ledger,
            kits=cast(StyleService, KitsOfTheMcpServer()),
            findings=families.continuity.findings,
        )
        tasks_here = ()
    context.open_state([m for family in families.in_order() for m in family.migrations])
    try:
        path = "/review/"
        if production is not None:
            try:
                path += families.production.productions.resolve(production)
            except NotFound as exc:
                sys.stderr.write(f"studio-mcp review: {exc}\n")
                return 2
        if not 0 <= port <= 65535:
            sys.stderr.write(f"studio-mcp review: --port {port} is not a port number (0-65535; 0 = any free port).\n")
            return 2
        try:
            sock = bind_loopback(port)
        except OSError as exc:
            sys.stderr.write(
                f"studio-mcp review: cannot listen on 127.0.0.1:{port} ({exc.strerror}): pick another --port.\n"
            )
            return 2
        bound = int(sock.getsockname()[1])
        key = new_review_key()

        @asynccontextmanager
        async def background(_app: Any) -> AsyncIterator[None]:
            async with anyio.create_task_group() as tasks:
                for task in tasks_here:
                    tasks.start_soon(task)
                try:
                    yield
                finally:
                    tasks.cancel_scope.cancel()

        app = local_review_app(page_routes(families, settings, reviews), key, bound, lifespan=background)
        sys.stdout.write(
            f"Review page for this user only (the key changes every run):\n"
            f"  http://127.0.0.1:{bound}{path}?key={key}\nCtrl-C stops it.\n"
        )
        sys.stdout.flush()
        try:
            serve_socket(app, sock, settings.log_level)
        except KeyboardInterrupt:
            pass
        finally:
            sock.close()
        sys.stdout.write("Review page stopped.\n")
        return 0
    finally:
        context.close_state()


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
