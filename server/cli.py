"""`studio-mcp serve|doctor`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile

import anyio

from core import Settings
from core.genai import GenAIClients, GenAISettings
from server.app import build_server
from server.auth import AuthConfigError, IntrospectionTokenVerifier, token_verifier
from server.http import HttpOptions, RefusedBind, run_http
from server.stdio import run_stdio
from tools.style import ChromaStore, make_embedder


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="studio-mcp", description="MCP server for a creative studio's AI pipeline.")
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
    args = parser.parse_args(argv)

    settings = Settings()
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
    else:
        sys.exit(run_doctor(settings))


def run_serve(settings: Settings, *, http: bool, options: HttpOptions) -> None:
    server = build_server(settings)
    if http:
        run_http(server, settings, options)
    else:
        anyio.run(run_stdio, server)


def run_doctor(settings: Settings) -> int:
    """Print what this server will use and what each missing piece disables. Exit 1 if a core piece fails."""
    failures = 0

    def say(text: str = "") -> None:
        sys.stdout.write(text + "\n")  # doctor is a CLI report, never run while serving stdio

    def line(ok: bool | None, what: str, detail: str) -> None:
        mark = {True: "ok  ", False: "FAIL", None: "off "}[ok]
        say(f"[{mark}] {what}: {detail}")

    say("studio-mcp doctor\n\nSettings (secrets masked):")
    for name, value in settings.masked().items():
        say(f"  {name} = {value}")
    say()

    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=settings.data_dir):
            pass
        line(True, "data directory", f"{settings.data_dir.resolve()} is writable")
    except OSError as exc:
        failures += 1
        line(False, "data directory", f"{settings.data_dir} is not writable ({exc}); set STUDIO_DATA_DIR")

    try:
        kits = ChromaStore(settings).kits()
        where = (
            settings.chroma_path
            if settings.chroma_mode == "embedded"
            else f"{settings.chroma_host}:{settings.chroma_port}"
        )
        line(True, "chroma", f"{settings.chroma_mode} at {where}, {len(kits)} kit(s)")
    except Exception as exc:
        failures += 1
        line(False, "chroma", f"{exc} — style tools are disabled until it is reachable")

    if settings.embedder == "gemini":
        line(None, "embedder", "gemini: needs GEMINI_API_KEY; checked on first use")
    else:
        try:
            embedder = make_embedder(settings.embedder, GenAIClients(GenAISettings.from_env(os.environ)), "")
            dim = len(embedder.embed_sync(["doctor check"])[0])  # type: ignore[attr-defined]
            line(True, "embedder", f"{embedder.name}, {dim} dimensions, loaded offline")
        except Exception as exc:
            failures += 1
            line(False, "embedder", f"{exc} — style_ingest and style_search are disabled")

    present = GenAIClients(GenAISettings.from_env(os.environ)).describe()
    line(
        True if present.developer_ready else None,
        "Gemini Developer API",
        "configured"
        if present.developer_ready
        else "no GEMINI_API_KEY/GOOGLE_API_KEY: shots_plan, Gemini images and gemini embeddings are disabled",
    )
    line(
        True if present.vertex_ready else None,
        "Vertex AI",
        f"configured ({present.vertex_auth})"
        if present.vertex_ready
        else "no Vertex credentials (GOOGLE_GENAI_USE_VERTEXAI=true with GOOGLE_CLOUD_PROJECT/GOOGLE_CLOUD_LOCATION "
        "and ADC, or a Vertex express-mode API key): Veo video and Imagen are disabled",
    )
    try:
        verifier = token_verifier(settings)
    except AuthConfigError as exc:
        failures += 1
        line(False, "HTTP auth", str(exc))
    else:
        if isinstance(verifier, IntrospectionTokenVerifier):
            line(True, "HTTP auth", f"OAuth token introspection at {settings.http_oauth_introspection_url}")
        elif verifier is not None:
            line(True, "HTTP auth", "bearer tokens")
        elif settings.http_behind_auth_proxy:
            line(None, "HTTP auth", "none here: an authenticating proxy is trusted to do it")
        else:
            line(None, "HTTP auth", "none: `serve --http` binds only loopback addresses (see STUDIO_HTTP_AUTH_*)")
    say("\nStyle retrieval, productions, shots_save, prompt_build, continuity and cost tools need no credentials.")
    return 1 if failures else 0
