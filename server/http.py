"""The Streamable HTTP server: the SDK's MCP app inside two ASGI layers that every route gets.

Outermost, the Host/Origin check (DNS-rebinding protection) on every bind, not only loopback ones;
inside it, authentication (when configured): no request reaches any route, the MCP endpoint or
one added later (the review page), without a valid token, except the public OAuth metadata
that tells a client where to get one. Stateful sessions expire after `http_session_idle_s`.

`studio-mcp review` serves the review page alone on loopback, behind a key made for each run.
"""

from __future__ import annotations

import base64
import functools
import hmac
import ipaddress
import logging
import secrets
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import anyio
import uvicorn
from mcp.server import MCPServer
from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser, BearerAuthBackend, RequireAuthMiddleware
from mcp.server.auth.provider import TokenVerifier
from mcp.server.auth.routes import build_resource_metadata_url, create_protected_resource_routes
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from pydantic import AnyHttpUrl
from starlette.applications import Starlette
from starlette.authentication import AuthCredentials, BaseUser
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import Settings
from server.auth import token_verifier

log = logging.getLogger("studio_mcp")

MCP_PATH = "/mcp"
PUBLIC_PREFIX = "/.well-known/oauth-protected-resource"
LOOPBACK_HOSTS = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
LOOPBACK_ORIGINS = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
BASIC_CHALLENGE = (b"www-authenticate", b'Basic realm="studio-mcp", charset="UTF-8"')


class RefusedBind(Exception):
    """The HTTP server would be reachable from other machines with nobody checking who calls."""


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def transport_security(settings: Settings, host: str) -> TransportSecuritySettings:
    """Host/Origin allow-lists: the loopback names, the bound address if specific, and the configured ones."""
    hosts = list(LOOPBACK_HOSTS)
    if not is_loopback(host) and host not in ("0.0.0.0", "::", ""):
        hosts.append(f"[{host}]:*" if ":" in host else f"{host}:*")
    for allowed in settings.http_allowed_hosts:
        # a bare name is accepted as sent (default port, e.g. behind a proxy) and with any port
        hosts += [allowed] if allowed.endswith("]") or ":" in allowed.split("]")[-1] else [allowed, f"{allowed}:*"]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts,
        allowed_origins=[*LOOPBACK_ORIGINS, *(origin.rstrip("/") for origin in settings.http_allowed_origins)],
    )


class HostOriginGuard:
    """Refuses (421/403) a request whose Host or Origin header is not allowed, on every route."""

    def __init__(self, app: ASGIApp, security: TransportSecuritySettings) -> None:
        self.app = app
        self.check = TransportSecurityMiddleware(security)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refused = await self.check.validate_request(Request(scope, receive), is_post=False)
            if refused is not None:
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)


class TokenAuthBackend(BearerAuthBackend):
    """The SDK's bearer backend, also taking the token as the password of HTTP Basic auth: a browser
    cannot send a bearer header, but it asks for Basic credentials (the review page)."""

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        header = conn.headers.get("authorization", "")
        if header[:6].lower() != "basic ":
            return await super().authenticate(conn)
        try:
            _, _, token = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        verified = await self.token_verifier.verify_token(token) if token else None
        if verified is None or (verified.expires_at and verified.expires_at < time.time()):
            return None
        return AuthCredentials(verified.scopes), AuthenticatedUser(verified)


class RequireAuth:
    """The SDK's RequireAuthMiddleware for every HTTP route but the public OAuth metadata. Outside the
    MCP endpoint a refusal also offers Basic auth, so a browser asks for the token."""

    def __init__(self, app: ASGIApp, scopes: list[str], metadata_url: AnyHttpUrl | None) -> None:
        self.app = app
        self.require = RequireAuthMiddleware(app, scopes, metadata_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or path.startswith(PUBLIC_PREFIX):
            await self.app(scope, receive, send)
            return
        if path == MCP_PATH or path.startswith(MCP_PATH + "/"):
            await self.require(scope, receive, send)
            return

        async def offer_basic(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                message = {**message, "headers": [*message["headers"], BASIC_CHALLENGE]}
            await send(message)

        await self.require(scope, receive, offer_basic)


@dataclass(frozen=True)
class HttpOptions:
    host: str
    port: int
    stateless: bool = False
    behind_auth_proxy: bool = False


def check_bind(settings: Settings, options: HttpOptions, verifier: TokenVerifier | None) -> None:
    if verifier is None and not is_loopback(options.host) and not options.behind_auth_proxy:
        raise RefusedBind(
            f"Refusing to serve HTTP on {options.host} without authentication: anyone who reaches the port would "
            "get every tool, spending included. Set STUDIO_HTTP_AUTH_TOKENS (or STUDIO_HTTP_AUTH_TOKENS_FILE), or "
            "STUDIO_HTTP_OAUTH_INTROSPECTION_URL; or, if an authenticating proxy fronts this server, pass "
            "--behind-auth-proxy (STUDIO_HTTP_BEHIND_AUTH_PROXY=true). Or bind 127.0.0.1."
        )


def http_app(
    server: MCPServer[Any], settings: Settings, options: HttpOptions, routes: Sequence[BaseRoute] = ()
) -> ASGIApp:
    """The whole ASGI app: guards around the SDK's Starlette app, which `routes` (the review page) join,
    so they sit behind exactly the MCP endpoint's Host/Origin check and authentication."""
    verifier = token_verifier(settings)
    check_bind(settings, options, verifier)
    security = transport_security(settings, options.host)
    if not is_loopback(options.host) and not settings.http_allowed_hosts:
        log.warning(
            "Serving on %s but STUDIO_HTTP_ALLOWED_HOSTS is empty: only loopback Host headers are accepted; "
            "add the name clients use (e.g. studio.example.com).",
            options.host,
        )
    starlette: Starlette = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=options.stateless,
        session_idle_timeout=settings.http_session_idle_s,
        max_sessions=settings.http_max_sessions,
        transport_security=security,
        host=options.host,
    )
    starlette.router.routes.extend(routes)
    app: ASGIApp = starlette
    if verifier is not None:
        resource = AnyHttpUrl(settings.http_oauth_resource_url) if settings.http_oauth_resource_url else None
        issuer = settings.http_oauth_issuer_url
        if resource is not None and issuer:
            starlette.router.routes.extend(
                create_protected_resource_routes(
                    resource_url=resource,
                    authorization_servers=[AnyHttpUrl(issuer)],
                    scopes_supported=settings.http_oauth_required_scopes or None,
                )
            )
        metadata = build_resource_metadata_url(resource) if resource is not None and issuer else None
        app = RequireAuth(app, settings.http_oauth_required_scopes, metadata)
        app = AuthContextMiddleware(app)
        app = AuthenticationMiddleware(app, backend=TokenAuthBackend(verifier))
    elif options.behind_auth_proxy:
        log.warning("No authentication here: trusting the proxy in front (--behind-auth-proxy) to do it.")
    return HostOriginGuard(app, security)


def run_http(
    server: MCPServer[Any], settings: Settings, options: HttpOptions, routes: Sequence[BaseRoute] = ()
) -> None:
    app = http_app(server, settings, options, routes)
    config = uvicorn.Config(app, host=options.host, port=options.port, log_level=settings.log_level.lower())
    anyio.run(uvicorn.Server(config).serve)


# -- `studio-mcp review`: the review page alone, for one local user ------------------------------

LOCAL_HOST = "127.0.0.1"
KEY_PARAM = "key"


class LocalKeyGuard:
    """Only whoever holds this run's key gets in: the printed URL carries it once (`?key=`), and the
    answer moves it into an HttpOnly, SameSite=Strict cookie and drops it from the address bar. Other
    local users reach the same loopback port but not the key; another site's form post carries no
    SameSite=Strict cookie."""

    def __init__(self, app: ASGIApp, key: str, port: int) -> None:
        self.app = app
        self.key = key.encode()
        self.cookie = f"studio_review_{port}"  # cookies ignore ports: one name per run's port

    def _matches(self, offered: str | None) -> bool:
        return offered is not None and hmac.compare_digest(offered.encode("utf-8", "replace"), self.key)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        if self._matches(request.cookies.get(self.cookie)):
            await self.app(scope, receive, send)
            return
        response: Response
        if request.method == "GET" and self._matches(request.query_params.get(KEY_PARAM)):
            rest = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != KEY_PARAM])
            response = RedirectResponse(request.url.path + (f"?{rest}" if rest else ""), status_code=303)
            response.set_cookie(self.cookie, self.key.decode(), httponly=True, samesite="strict", path="/")
        else:
            response = PlainTextResponse(
                "This review page needs this run's key: open the address `studio-mcp review` printed "
                "(http://127.0.0.1:<port>/review/...?key=...).",
                status_code=401,
            )
        await response(scope, receive, send)


def local_review_app(routes: Sequence[BaseRoute], key: str, port: int, lifespan: Any = None) -> ASGIApp:
    """The review page on loopback: Host/Origin limited to loopback names, then the run's key."""

    async def home(request: Request) -> Response:
        return RedirectResponse("/review/", status_code=307)

    starlette = Starlette(routes=[Route("/", home, methods=["GET"]), *routes], lifespan=lifespan)
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=LOOPBACK_HOSTS, allowed_origins=LOOPBACK_ORIGINS
    )
    return HostOriginGuard(LocalKeyGuard(starlette, key, port), security)


def new_review_key() -> str:
    return secrets.token_urlsafe(24)


def bind_loopback(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1 (port 0: any free one); OSError if the port is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((LOCAL_HOST, port))
        sock.listen(128)  # connections wait in the backlog until the server starts accepting
    except OSError:
        sock.close()
        raise
    return sock


def serve_socket(app: ASGIApp, sock: socket.socket, log_level: str) -> None:
    """Serve until Ctrl-C (uvicorn shuts down gracefully, then re-raises the interrupt)."""
    # no access log: the first request's line would carry the run's key
    config = uvicorn.Config(app, log_level=log_level.lower(), access_log=False)
    anyio.run(functools.partial(uvicorn.Server(config).serve, sockets=[sock]))
