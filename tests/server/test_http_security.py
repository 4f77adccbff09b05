"""Securing the HTTP transport, against real `studio-mcp serve --http` processes: bearer tokens, OAuth
token introspection at a real (local) endpoint, the refusal of an unauthenticated public bind,
Host/Origin checks on every bind, and idle sessions expiring."""

from __future__ import annotations

import base64
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import anyio
import httpx
import pytest
from mcp import Client

from tests.conftest import (
    BIN,
    RunningServer,
    authed_client,
    free_port,
    make_workdir,
    server_env,
    start_http_server,
    stop,
)
from tests.helpers import call

TOKEN = "s3cret-token-for-tests-0123456789"
OTHER_TOKEN = "another-token-for-tests-987654321"
RESOURCE = "https://studio.test/mcp"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}},
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def client_with(server: RunningServer, token: str | None = None, **kwargs: Any) -> AbstractAsyncContextManager[Client]:
    return authed_client(server.url, token, **kwargs)


def post(url: str, body: object = INITIALIZE, **headers: str) -> httpx.Response:
    return httpx.post(url, json=body, headers={**MCP_HEADERS, **headers}, timeout=30)


async def apost(url: str, body: object = INITIALIZE, **headers: str) -> httpx.Response:
    return await anyio.to_thread.run_sync(lambda: post(url, body, **headers))


@pytest.fixture(scope="module")
def token_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_http_server(
        make_workdir(tmp_path_factory.mktemp("tokens")), STUDIO_HTTP_AUTH_TOKENS=f"{TOKEN},{OTHER_TOKEN}"
    )
    yield server
    stop(server.proc)


def test_without_a_token_or_with_a_wrong_one_the_server_answers_401(token_server: RunningServer) -> None:
    assert post(token_server.url).status_code == 401
    refused = post(token_server.url, Authorization="Bearer not-the-token")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert TOKEN not in refused.text
    # every route, including ones added later (the review page), sits behind the same layer, and
    # outside the MCP endpoint a refusal asks a browser for the token (as the Basic password)
    page = httpx.get(token_server.url.replace("/mcp", "/review/"), timeout=30)
    assert page.status_code == 401
    assert 'Basic realm="studio-mcp"' in page.headers.get_list("www-authenticate")[-1]
    assert httpx.get(page.url, auth=("reviewer", "not-the-token"), timeout=30).status_code == 401
    assert httpx.get(page.url, auth=("reviewer", TOKEN), timeout=30).status_code != 401


def test_a_browser_may_send_the_token_as_the_basic_password(token_server: RunningServer) -> None:
    basic = "Basic " + base64.b64encode(f"anyone:{TOKEN}".encode()).decode()
    assert post(token_server.url, Authorization=basic).status_code == 200
    assert post(token_server.url, Authorization="Basic not-base64!").status_code == 401


async def test_with_the_right_token_the_tools_work(token_server: RunningServer) -> None:
    async with client_with(token_server, TOKEN) as client:
        assert await call(client, "style_kits") == {"kits": []}
        created = await call(client, "production_create", name="Token Film", kit="k", logline="l", tone="t")
    async with client_with(token_server, OTHER_TOKEN) as client:
        assert (await call(client, "production_get", production=created["id"]))["id"] == "token-film"


def test_a_session_answers_only_the_token_that_opened_it(token_server: RunningServer) -> None:
    opened = post(token_server.url, Authorization=f"Bearer {TOKEN}")
    session = opened.headers["mcp-session-id"]
    note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    headers = {"mcp-session-id": session, "mcp-protocol-version": "2025-11-25"}
    assert post(token_server.url, note, Authorization=f"Bearer {OTHER_TOKEN}", **headers).status_code == 404
    assert post(token_server.url, note, Authorization=f"Bearer {TOKEN}", **headers).status_code == 202


def test_the_review_page_takes_the_same_tokens_and_refuses_cross_site_posts(token_server: RunningServer) -> None:
    root = token_server.url.removesuffix("/mcp")
    decide = f"{root}/review/no-such-film/a_0000000000000000/decide"
    form = {"decision": "approve", "notes": ""}
    assert httpx.get(f"{root}/review/", auth=("reviewer", TOKEN), timeout=30).status_code == 200
    assert httpx.get(f"{root}/review/", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30).status_code == 200
    assert httpx.post(decide, data=form, headers={"Origin": root}, timeout=30).status_code == 401
    # a browser sends its Basic credentials with any site's form post: the origin decides
    for origin in ["https://evil.example", "http://127.0.0.1:1", None]:
        headers = {"Origin": origin} if origin else {}
        answer = httpx.post(decide, data=form, headers=headers, auth=("reviewer", TOKEN), timeout=30)
        assert answer.status_code == 403, origin
    own = httpx.post(decide, data=form, headers={"Origin": root}, auth=("reviewer", TOKEN), timeout=30)
    assert own.status_code == 404 and "no-such-film" in own.text  # through both layers, to the page


def serve_http(tmp_path: Path, *flags: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "studio-mcp"), "serve", "--http", "--port", str(free_port()), *flags],
        cwd=tmp_path,
        env=server_env(tmp_path / "data", **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_public_bind_without_authentication_is_refused(tmp_path: Path) -> None:
    done = serve_http(tmp_path, "--host", "0.0.0.0")
    assert done.returncode == 2
    assert "Refusing to serve HTTP on 0.0.0.0 without authentication" in done.stderr
    assert "STUDIO_HTTP_AUTH_TOKENS" in done.stderr and "--behind-auth-proxy" in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_auth_settings_fail_fast_with_a_clear_message(tmp_path: Path) -> None:
    done = serve_http(tmp_path, STUDIO_HTTP_AUTH_TOKENS_FILE=str(tmp_path / "missing-tokens"))
    assert done.returncode == 2 and "STUDIO_HTTP_AUTH_TOKENS_FILE" in done.stderr and "Traceback" not in done.stderr
    done = serve_http(tmp_path, STUDIO_HTTP_AUTH_TOKENS="short")
    assert done.returncode == 2 and "shorter than 16 characters" in done.stderr and "short" not in done.stderr[:12]


def test_plain_allowed_roots_do_not_crash_serve(tmp_path: Path) -> None:
    # a plain path used to end in a pydantic-settings traceback (it expected JSON)
    done = serve_http(tmp_path, "--host", "0.0.0.0", STUDIO_ALLOWED_ROOTS=str(tmp_path))
    assert done.returncode == 2 and "Traceback" not in done.stderr and "Refusing" in done.stderr


def test_host_and_origin_are_checked_on_a_public_bind(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text(f"# the team's tokens\n{TOKEN}\n")
    server = start_http_server(
        make_workdir(tmp_path / "w"),
        "--host",
        "0.0.0.0",
        STUDIO_HTTP_AUTH_TOKENS_FILE=str(tokens),
        STUDIO_HTTP_ALLOWED_HOSTS="studio.test",
        STUDIO_HTTP_ALLOWED_ORIGINS="https://studio.test",
    )
    try:
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert post(server.url, **bearer, Host="evil.example").status_code == 421
        assert post(server.url, **bearer, Host="evil.example", Origin="https://evil.example").status_code == 421
        assert post(server.url, **bearer, Origin="https://evil.example").status_code == 403
        assert post(server.url, **bearer, Host="studio.test", Origin="https://studio.test").status_code == 200
        assert post(server.url, Host="studio.test:8443").status_code == 401  # allowed host, still no token
        assert post(server.url, **bearer).status_code == 200  # loopback Host, from the token file
    finally:
        stop(server.proc)


def test_behind_an_auth_proxy_a_public_bind_starts_and_still_checks_the_host(tmp_path: Path) -> None:
    server = start_http_server(make_workdir(tmp_path / "w"), "--host", "0.0.0.0", "--behind-auth-proxy")
    try:
        assert post(server.url).status_code == 200
        assert post(server.url, Host="evil.example").status_code == 421
    finally:
        stop(server.proc)


def test_idle_sessions_expire_and_the_session_limit_holds(tmp_path: Path) -> None:
    server = start_http_server(
        make_workdir(tmp_path / "w"), STUDIO_HTTP_SESSION_IDLE_S="1.5", STUDIO_HTTP_MAX_SESSIONS="3"
    )
    note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    try:
        sessions = [post(server.url).headers["mcp-session-id"] for _ in range(3)]
        assert post(server.url).status_code == 503  # the fourth: too many open sessions
        for session in sessions:
            headers = {"mcp-session-id": session, "mcp-protocol-version": "2025-11-25"}
            assert post(server.url, note, **headers).status_code == 202  # alive, and its idle clock restarts
        time.sleep(4)
        for session in sessions:
            headers = {"mcp-session-id": session, "mcp-protocol-version": "2025-11-25"}
            assert post(server.url, note, **headers).status_code == 404
        assert post(server.url).status_code == 200  # room again
    finally:
        stop(server.proc)


class Introspection:
    """A small RFC 7662 introspection endpoint on a loopback port, with known tokens."""

    CLIENT = ("studio-mcp", "introspection-secret")

    def __init__(self) -> None:
        now = int(time.time())
        self.tokens: dict[str, dict[str, Any]] = {
            "oauth-good": {"active": True, "client_id": "desk", "sub": "ana", "scope": "studio other", "aud": RESOURCE},
            "oauth-no-scope": {"active": True, "client_id": "desk", "sub": "ana", "scope": "other", "aud": RESOURCE},
            "oauth-other-aud": {"active": True, "client_id": "desk", "scope": "studio", "aud": "https://else/mcp"},
            "oauth-expired": {"active": True, "client_id": "desk", "scope": "studio", "aud": RESOURCE, "exp": now - 5},
            "oauth-revoked": {"active": False},
        }
        self.calls: list[str] = []
        self.slow = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                token = form.get("token", [""])[0]
                owner.calls.append(token)
                expected = "Basic " + base64.b64encode(":".join(owner.CLIENT).encode()).decode()
                if self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.end_headers()
                    return
                if token == "oauth-slow":
                    time.sleep(3)  # longer than the server's timeout: it has hung up by now
                    return
                body = json.dumps(owner.tokens.get(token, {"active": False})).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/introspect"

    def __enter__(self) -> Introspection:
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.shutdown()
        self.http.server_close()


async def test_oauth_tokens_are_checked_by_introspection(tmp_path: Path) -> None:
    with Introspection() as idp:
        server = start_http_server(
            make_workdir(tmp_path / "w"),
            STUDIO_HTTP_OAUTH_INTROSPECTION_URL=idp.url,
            STUDIO_HTTP_OAUTH_CLIENT_ID=idp.CLIENT[0],
            STUDIO_HTTP_OAUTH_CLIENT_SECRET=idp.CLIENT[1],
            STUDIO_HTTP_OAUTH_ISSUER_URL="https://idp.test",
            STUDIO_HTTP_OAUTH_RESOURCE_URL=RESOURCE,
            STUDIO_HTTP_OAUTH_REQUIRED_SCOPES="studio",
            STUDIO_HTTP_OAUTH_TIMEOUT_S="1",
        )
        try:
            async with client_with(server, "oauth-good") as client:
                assert await call(client, "style_kits") == {"kits": []}
            assert "oauth-good" in idp.calls
            for refused in ["oauth-other-aud", "oauth-expired", "oauth-revoked", "oauth-unknown", None]:
                headers = {"Authorization": f"Bearer {refused}"} if refused else {}
                answer = await apost(server.url, **headers)
                assert answer.status_code == 401, refused
                assert (
                    'resource_metadata="https://studio.test/.well-known/oauth-protected-resource/mcp"'
                    in (answer.headers["www-authenticate"])
                )
            assert (await apost(server.url, Authorization="Bearer oauth-no-scope")).status_code == 403
            started = time.monotonic()
            assert (await apost(server.url, Authorization="Bearer oauth-slow")).status_code == 401  # timed out, refused
            assert time.monotonic() - started < 2.9
            # the metadata that tells a client where to get a token is public
            where = server.url.replace("/mcp", "/.well-known/oauth-protected-resource/mcp")
            metadata = await anyio.to_thread.run_sync(lambda: httpx.get(where, timeout=30))
            assert metadata.status_code == 200
            assert metadata.json()["authorization_servers"] == ["https://idp.test/"]
            log = next(server.workdir.glob("server-*.log")).read_text()
            assert "oauth-good" not in log and idp.CLIENT[1] not in log
        finally:
            stop(server.proc)
