"""What `serve` and `review` run: the MCP server over stdio or HTTP, and the review page alone."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import anyio
from starlette.routing import BaseRoute

from core import NotFound, Settings, StudioError
from core.context import StudioContext
from server.app import Families, build_families, serve_all
from server.http import HttpOptions, bind_loopback, local_review_app, new_review_key, run_http, serve_socket
from tools.review import ReviewService, review_routes
from tools.style import StyleService


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


def run_http_serve(settings: Settings, options: HttpOptions) -> None:
    """Streamable HTTP with every family loaded before the first request (a long-lived deployment)."""
    context = StudioContext(settings)
    families = build_families(context)
    run_http(serve_all(context, families), settings, options, page_routes(families, settings))


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
