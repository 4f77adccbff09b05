"""The Streamable HTTP server: the SDK's MCP app inside two ASGI layers that every route gets.

Outermost, the Host/Origin check (DNS-rebinding protection) on every bind, not only loopback ones;
inside it, authentication (when configured): no request reaches any route, the MCP endpoint or
one added later (the review page), without a valid token, except the public OAuth metadata
that tells a client where to get one. Stateful sessions expire after `http_session_idle_s`.
"""

from __future__ import annotations

import base64
import ipaddress
import logging
import time
from dataclasses import dataclass
from typing import Any

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


def http_app(server: MCPServer[Any], settings: Settings, options: HttpOptions) -> ASGIApp:
    """The whole ASGI app: guards around the SDK's Starlette app (whose routes any later one joins)."""
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


def run_http(server: MCPServer[Any], settings: Settings, options: HttpOptions) -> None:
    app = http_app(server, settings, options)
    config = uvicorn.Config(app, host=options.host, port=options.port, log_level=settings.log_level.lower())
    anyio.run(uvicorn.Server(config).serve)
