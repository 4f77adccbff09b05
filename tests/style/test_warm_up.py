"""The offline embedder loads in the background right after start-up: tools/list does not wait for
it, and it is loaded before any tool asked for it."""

from __future__ import annotations

import time
from pathlib import Path

from core import Settings
from core.context import StudioContext
from server.app import build_families
from tests.conftest import make_workdir, start_http_server, stop


async def test_a_fresh_server_loads_its_embedder_without_being_asked(tmp_path: Path) -> None:
    server = start_http_server(make_workdir(tmp_path), STUDIO_LOG_LEVEL="INFO")
    log = server.workdir / f"server-{server.url.split(':')[2].split('/')[0]}.log"
    try:
        async with server.client() as client:
            assert len((await client.list_tools()).tools) > 30
        deadline = time.monotonic() + 120
        while "embedder minilm/all-MiniLM-L6-v2 loaded" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)  # noqa: ASYNC251 - the server is another process; nothing here to await
        assert "embedder minilm/all-MiniLM-L6-v2 loaded" in log.read_text()
    finally:
        stop(server.proc)


def test_warm_up_can_be_turned_off() -> None:
    context = StudioContext(Settings(data_dir=Path("unused"), warm_embedder=False))
    [style] = [f for f in build_families(context).in_order() if f.name == "style"]
    assert [task.__name__ for task in style.background] == ["maintain_journal"]
