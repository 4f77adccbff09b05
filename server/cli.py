"""`studio-mcp serve|doctor|review|settings|demo`.

Each command imports what it runs when it runs: `serve` over stdio must answer `initialize` about as
fast as a bare MCP server, so nothing here imports a family, SQLAlchemy or Starlette.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

import anyio
from mcp.server import MCPServer

from core import Settings, StudioError
from core.config import SettingsError, load_settings
from core.pricing import price_table
from server.base import VERSION, new_server
from server.deferred import DeferredFamilies, Loaded
from server.stdio import run_stdio


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="studio-mcp", description="MCP server for a creative studio's AI pipeline.")
    parser.add_argument("--version", action="version", version=f"studio-mcp {VERSION}")
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
        from server.settings_doc import settings_table

        sys.stdout.write(settings_table() + "\n")
        return
    if args.command == "demo":  # its own server process reads the settings
        from server.demo import run_demo

        sys.exit(run_demo(args.data_dir, vertex=args.vertex))

    settings = checked_settings()
    # stdout is the MCP wire in stdio mode: every log line goes to stderr.
    logging.basicConfig(stream=sys.stderr, level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "serve" and not args.http:
        serve_stdio(settings)
    elif args.command == "serve":
        from server.auth import AuthConfigError
        from server.commands import run_http_serve
        from server.http import HttpOptions, RefusedBind

        options = HttpOptions(
            host=args.host or settings.http_host,
            port=args.port or settings.http_port,
            stateless=args.stateless,
            behind_auth_proxy=args.behind_auth_proxy or settings.http_behind_auth_proxy,
        )
        try:
            run_http_serve(settings, options)
        except (RefusedBind, AuthConfigError) as exc:
            sys.stderr.write(f"studio-mcp: {exc}\n")
            sys.exit(2)
    elif args.command == "review":
        from server.commands import run_review

        sys.exit(run_review(settings, port=args.port, production=args.production))
    else:
        from server.doctor import Doctor

        doctor = Doctor(settings)
        code = doctor.run()
        if doctor.abandoned:
            # a backend call that never answered still holds a thread; do not wait for it at exit
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        sys.exit(code)


def serve_stdio(settings: Settings) -> None:
    """The stdio server, answering while its families load (server/deferred.py)."""

    def load(server: MCPServer[Any]) -> Loaded:
        from server.app import load_into  # every family: imported in the loader's worker thread

        return load_into(server, settings)

    deferred = DeferredFamilies(load)
    server = new_server(settings.log_level, deferred.lifespan, [deferred])
    deferred.answer_lists_early(server)
    anyio.run(run_stdio, server)


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
