"""Shared fixtures: servers run as real subprocesses and are reached through the official MCP client.

Loading torch and the embedder takes seconds, so the HTTP servers are started once per test
session (one on embedded Chroma, one on a real `chroma run` server) and every test opens its own
client session on them; tests keep out of each other's way by using their own kit names.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tests import helpers, postgres
from tests.fake_gemini import FakeGemini
from tests.postgres import STATE_URL_VARIABLE

REPO = Path(__file__).resolve().parent.parent
SAMPLE_KIT = REPO / "server" / "sample_kit"  # ships in the package for `studio-mcp demo`
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listening on {port} after {timeout}s")


def server_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a server under test: no real credentials, data in `data_dir`, the test's state store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDIO_", "GEMINI_", "GOOGLE_"))}
    env.update({"STUDIO_DATA_DIR": str(data_dir), "STUDIO_LOG_LEVEL": "WARNING"})
    if os.environ.get(STATE_URL_VARIABLE):
        env["STUDIO_STATE_URL"] = os.environ[STATE_URL_VARIABLE]
    env.update(extra)
    return env


def stdio_params(cwd: Path, data_dir: Path, **extra: str) -> StdioServerParameters:
    # The working directory is no allowed root by itself: name it explicitly (a test may override).
    env = server_env(data_dir, **{"STUDIO_ALLOWED_ROOTS": json.dumps([str(cwd)]), **extra})
    return StdioServerParameters(command=str(BIN / "studio-mcp"), args=["serve"], env=env, cwd=str(cwd))


@dataclass
class RunningServer:
    url: str
    workdir: Path
    data_dir: Path
    proc: subprocess.Popen[bytes]
    env: dict[str, str] = field(default_factory=dict)

    def client(self, **kwargs: Any) -> AbstractAsyncContextManager[Client]:
        """A client of this server; it presents the server's first bearer token when it has any."""
        raw = self.env.get("STUDIO_HTTP_AUTH_TOKENS", "").strip()
        tokens = json.loads(raw) if raw.startswith("[") else [t for t in raw.split(",") if t.strip()]
        return authed_client(self.url, tokens[0].strip(), **kwargs) if tokens else Client(self.url, **kwargs)


@asynccontextmanager
async def authed_client(url: str, token: str | None, **kwargs: Any) -> AsyncIterator[Client]:
    """An MCP client over Streamable HTTP that sends `Authorization: Bearer <token>` (none if None)."""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    async with create_mcp_http_client(headers=headers) as http:
        async with Client(streamable_http_client(url, http_client=http), **kwargs) as client:
            yield client


def start_http_server(workdir: Path, *flags: str, **extra: str) -> RunningServer:
    data_dir = workdir / "studio-data"
    port = free_port()
    env = server_env(data_dir, **{"STUDIO_ALLOWED_ROOTS": json.dumps([str(workdir)]), **extra})
    log = open(workdir / f"server-{port}.log", "wb")
    proc = subprocess.Popen(
        [str(BIN / "studio-mcp"), "serve", "--http", "--port", str(port), *flags],
        cwd=workdir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    wait_for_port(port, proc)
    return RunningServer(url=f"http://127.0.0.1:{port}/mcp", workdir=workdir, data_dir=data_dir, proc=proc, env=env)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def make_workdir(root: Path) -> Path:
    """A working directory holding a copy of the sample kit (so its paths are inside the allowed roots)."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(SAMPLE_KIT, root / "sample_kit")
    return root


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No real credentials or settings of this machine reach an in-process server."""
    for name in list(os.environ):
        if name.startswith(("GOOGLE_", "GEMINI_", "STUDIO_")):
            monkeypatch.delenv(name)
    if os.environ.get(STATE_URL_VARIABLE):
        monkeypatch.setenv("STUDIO_STATE_URL", os.environ[STATE_URL_VARIABLE])
    return monkeypatch


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--state",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="The state store of every server the tests start (postgresql: a throw-away local cluster).",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: reads the SQLite file itself; skipped under --state=postgresql")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--state") == "postgresql":
        skip = pytest.mark.skip(reason="reads the SQLite state file itself (run without --state=postgresql)")
        for item in items:
            if "sqlite_only" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[postgres.Cluster]:
    """A real PostgreSQL server for the session (Debian's binaries, a temporary cluster)."""
    with postgres.cluster() as running:
        yield running


@pytest.fixture(autouse=True)
def state_store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Under --state=postgresql each test gets a new PostgreSQL database, which every server it starts
    uses (in-process or a subprocess); by default servers keep SQLite in their data directory."""
    if request.config.getoption("--state") != "postgresql":
        return "sqlite"
    cluster: postgres.Cluster = request.getfixturevalue("postgres_cluster")
    url = cluster.database()
    monkeypatch.setenv(STATE_URL_VARIABLE, url)
    monkeypatch.setenv("STUDIO_STATE_URL", url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a new, empty state store: each test using it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.sqlite3'}"
    cluster: postgres.Cluster = request.getfixturevalue("postgres_cluster")
    return cluster.database()


@pytest.fixture
def fake_env(fake: FakeGemini, clean_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """An in-process server whose google-genai clients reach the fake (credentials still to set)."""
    fake.reset()
    clean_env.setenv("GOOGLE_GEMINI_BASE_URL", fake.url)
    clean_env.setenv("GOOGLE_VERTEX_BASE_URL", fake.url)
    return clean_env


@pytest.fixture
def vertex_fake_env(fake: FakeGemini, fake_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """An in-process server with Vertex express credentials for the fake, and quick polls."""
    for name, value in helpers.vertex_env(fake.url).items():
        fake_env.setenv(name, value)
    return fake_env


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGemini]:
    """A fake Gemini/Vertex API on a loopback port, in a thread of the test process."""
    with FakeGemini() as server:
        yield server


@pytest.fixture(scope="session")
def embedded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_http_server(make_workdir(tmp_path_factory.mktemp("embedded")))
    yield server
    stop(server.proc)


@pytest.fixture(scope="session")
def chroma_http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real Chroma server, from the chromadb package, on a free loopback port."""
    path = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    log = open(path / "chroma.log", "wb")
    proc = subprocess.Popen(
        [str(BIN / "chroma"), "run", "--path", str(path / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    wait_for_port(port, proc)
    yield port
    stop(proc)


@pytest.fixture(scope="session")
def chroma_server_mcp(tmp_path_factory: pytest.TempPathFactory, chroma_http: int) -> Iterator[RunningServer]:
    server = start_http_server(
        make_workdir(tmp_path_factory.mktemp("chroma-mode")),
        STUDIO_CHROMA_MODE="http",
        STUDIO_CHROMA_HOST="127.0.0.1",
        STUDIO_CHROMA_PORT=str(chroma_http),
    )
    yield server
    stop(server.proc)


@pytest.fixture(params=["embedded", "chroma-server"])
def any_server(request: pytest.FixtureRequest) -> RunningServer:
    """Each test using it runs twice: on embedded Chroma and on a real Chroma server."""
    name = "embedded_server" if request.param == "embedded" else "chroma_server_mcp"
    server: RunningServer = request.getfixturevalue(name)
    return server


def dump(value: Any) -> str:
    return json.dumps(value, indent=2, default=str)
