"""Helpers shared by the tests (fixtures live in conftest.py): in-process servers built from the real
families, and calls through a real MCP client."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from mcp import Client
from mcp.server import MCPServer
from mcp.types import CallToolResult

from core import Settings
from core.context import StudioContext
from server.app import Families, build_families, serve_families
from tests.postgres import STATE_URL_VARIABLE
from tools.production import ProductionService

VERTEX_KEY = "vertex-express-test-key"


def vertex_env(url: str, **extra: str) -> dict[str, str]:
    """Vertex express mode against the fake at `url`, with quick polls: set it on an in-process server's
    environment (the `vertex_fake_env` fixture) or pass it to a server subprocess; `extra` overrides."""
    return {
        "GOOGLE_GENAI_USE_VERTEXAI": "true",
        "GOOGLE_API_KEY": VERTEX_KEY,
        "GOOGLE_VERTEX_BASE_URL": url,
        "GOOGLE_GEMINI_BASE_URL": url,
        "STUDIO_VEO_POLL_INITIAL_S": "0.02",
        "STUDIO_VEO_POLL_MAX_S": "0.1",
        "STUDIO_VEO_JOB_DEADLINE_S": "60",
        **extra,
    }


@dataclass
class App:
    """An in-process server and the families behind it, so a test can also reach a service directly."""

    server: MCPServer[StudioContext]
    context: StudioContext
    families: Families

    @property
    def productions(self) -> ProductionService:
        return self.families.production.productions


def build_app(data_dir: Path, *serve: str) -> App:
    """Every family built as the server builds them; only those named in `serve` offer their tools
    (default: all), e.g. build_app(tmp, "production", "continuity")."""
    context = StudioContext(Settings(data_dir=data_dir))
    families = build_families(context)
    served = [f for f in families.in_order() if not serve or f.name in serve]
    return App(serve_families(context, served, name="studio-mcp-test"), context, families)


def result_data(result: CallToolResult) -> dict[str, Any]:
    """The structured result of a successful call; fails the test with the error text otherwise."""
    if result.is_error:
        pytest.fail(f"tool returned an error: {error_text(result)}")
    assert result.structured_content is not None
    return result.structured_content


async def call(client: Client, tool: str, args: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    """Call a tool (arguments as a dict, as keywords, or both) and return its structured result."""
    return result_data(await client.call_tool(tool, {**(args or {}), **kwargs}))


def error_text(result: CallToolResult) -> str:
    assert result.is_error, f"expected an error, got {result.structured_content}"
    return " ".join(getattr(c, "text", "") for c in result.content)


async def make_production(
    client: Client,
    name: str,
    *,
    kit: str | None = None,
    logline: str = "A ferry pilot carries lanterns across a dark harbour.",
    tone: str = "quiet, warm",
    must: list[str] | None = None,
    must_not: list[str] | None = None,
    budget_usd: float | None = None,
    shots: dict[str, list[dict[str, Any]]] | None = None,
) -> str:
    """Create a production (kit default '<slug>-kit') and save the shot lists given by scene; its id."""
    created = await call(
        client,
        "production_create",
        name=name,
        kit=kit or f"{name.lower().replace(' ', '-')}-kit",
        logline=logline,
        tone=tone,
        must=must or [],
        must_not=must_not or [],
        budget_usd=budget_usd,
    )
    pid = str(created["id"])
    for scene, scene_shots in (shots or {}).items():
        await call(client, "shots_save", production=pid, scene=scene, shots=scene_shots)
    return pid


def stored_text(data_dir: Path) -> str:
    """Everything the server keeps: every file in its data directory, and under --state=postgresql every row
    of the test's database (for checks that a secret was never written anywhere)."""
    parts = [p.read_bytes().decode("latin-1") for p in data_dir.rglob("*") if p.is_file()]
    if url := os.environ.get(STATE_URL_VARIABLE):
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            metadata = sa.MetaData()
            metadata.reflect(engine)
            with engine.connect() as conn:
                parts += [repr(list(conn.execute(sa.select(table)))) for table in metadata.sorted_tables]
        finally:
            engine.dispose()
    return "\n".join(parts)
