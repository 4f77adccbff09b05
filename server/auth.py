"""Who may use the HTTP server: bearer tokens from settings or a file, or OAuth tokens checked by
RFC 7662 introspection at the team's identity provider. Both are the SDK's `TokenVerifier`, so the
SDK's bearer backend, its per-session owner check and `get_access_token()` work with either.

Tokens are secrets: they are compared in constant time and never logged or echoed.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from mcp.server.auth.provider import AccessToken, TokenVerifier

from core import Settings

log = logging.getLogger(__name__)


class AuthConfigError(Exception):
    """The auth settings cannot work (an unreadable token file, a half-configured OAuth)."""


class StaticTokenVerifier:
    """Accepts exactly the configured tokens. Each token is its own client ('token-1', 'token-2', ...),
    so a session opened with one token cannot be used with another."""

    def __init__(self, tokens: Sequence[str]) -> None:
        self._tokens = [token.encode() for token in tokens if token]

    async def verify_token(self, token: str) -> AccessToken | None:
        offered = token.encode()
        match = 0
        for index, known in enumerate(self._tokens, start=1):
            # compare against every token, so the time taken does not say which one nearly matched
            if hmac.compare_digest(offered, known):
                match = index
        if not match:
            return None
        return AccessToken(token=token, client_id=f"token-{match}", scopes=[])


class IntrospectionTokenVerifier:
    """Asks the identity provider about each token (RFC 7662): only an active token, unexpired, issued
    for this server (its `aud` names `resource_url` when that is set) and carrying the required
    scopes is accepted. The provider being down or slow refuses the token; it never hangs a request."""

    def __init__(
        self,
        url: str,
        *,
        client_id: str | None,
        client_secret: str | None,
        resource_url: str | None,
        timeout_s: float,
    ) -> None:
        self._url = url
        self._auth = httpx.BasicAuth(client_id, client_secret or "") if client_id else None
        self._resource = resource_url.rstrip("/") if resource_url else None
        self._timeout = httpx.Timeout(timeout_s)

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            async with httpx.AsyncClient(timeout=self._timeout, auth=self._auth) as client:
                response = await client.post(
                    self._url,
                    data={"token": token, "token_type_hint": "access_token"},
                    headers={"Accept": "application/json"},
                )
            if response.status_code != 200:
                log.warning("Token introspection answered HTTP %d: token refused", response.status_code)
                return None
            claims: dict[str, Any] = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("Token introspection failed (%s): token refused", type(exc).__name__)
            return None
        if not isinstance(claims, dict) or claims.get("active") is not True:
            return None
        expires = claims.get("exp")
        if isinstance(expires, int | float) and expires < time.time():
            return None
        if self._resource is not None and not self._names_this_server(claims.get("aud")):
            log.warning("Token introspection: the token's audience is not %s: token refused", self._resource)
            return None
        scope = claims.get("scope")
        return AccessToken(
            token=token,
            client_id=str(claims.get("client_id") or claims.get("sub") or "unknown"),
            scopes=scope.split() if isinstance(scope, str) else [],
            expires_at=int(expires) if isinstance(expires, int | float) else None,
            resource=self._resource,
            subject=str(claims["sub"]) if claims.get("sub") is not None else None,
            claims={k: v for k, v in claims.items() if k in ("iss", "aud", "username")},
        )

    def _names_this_server(self, audience: object) -> bool:
        names = audience if isinstance(audience, list) else [audience]
        return any(isinstance(name, str) and name.rstrip("/") == self._resource for name in names)


def read_token_file(path: Path) -> list[str]:
    """Tokens one per line; blank lines and '#' comments skipped."""
    try:
        lines = path.expanduser().read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise AuthConfigError(
            f"STUDIO_HTTP_AUTH_TOKENS_FILE {path} cannot be read ({type(exc).__name__}): fix the path or its "
            "permissions."
        ) from None
    tokens = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    if not tokens:
        raise AuthConfigError(f"STUDIO_HTTP_AUTH_TOKENS_FILE {path} holds no token: put one token per line.")
    return tokens


def token_verifier(settings: Settings) -> TokenVerifier | None:
    """The verifier the settings ask for, or None when HTTP auth is off."""
    tokens = [token.get_secret_value() for token in settings.http_auth_tokens]
    if settings.http_auth_tokens_file is not None:
        tokens += read_token_file(settings.http_auth_tokens_file)
    introspection = settings.http_oauth_introspection_url
    if tokens and introspection:
        raise AuthConfigError(
            "Both bearer tokens and STUDIO_HTTP_OAUTH_INTROSPECTION_URL are set: choose one way to authenticate."
        )
    if introspection:
        secret = settings.http_oauth_client_secret
        return IntrospectionTokenVerifier(
            introspection,
            client_id=settings.http_oauth_client_id,
            client_secret=secret.get_secret_value() if secret else None,
            resource_url=settings.http_oauth_resource_url,
            timeout_s=settings.http_oauth_timeout_s,
        )
    if tokens:
        short = [i for i, token in enumerate(tokens, start=1) if len(token) < 16]
        if short:
            raise AuthConfigError(
                f"Bearer token(s) number {', '.join(map(str, short))} are shorter than 16 characters: use long "
                "random tokens (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)."
            )
        return StaticTokenVerifier(tokens)
    return None
