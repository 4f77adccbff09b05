"""Errors and log lines echo a caller's value cut short (a 1 MB argument used to come back as a
1,000,235-character error and two 1 MB log lines), and lists of what exists are capped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.errors import NotFound, capped, listing, shown
from tests.conftest import make_workdir, start_http_server, stop
from tests.helpers import call, error_text

BIG = "x" * 1_000_000


def test_shown_and_capped_keep_the_start_the_end_and_the_length() -> None:
    assert shown("kit") == "'kit'"
    assert shown(BIG).endswith("… (1,000,002 characters in all)") and len(shown(BIG)) < 260
    message = str(NotFound(f"No production {BIG!r}. Create it with production_create."))
    assert message.startswith("No production 'xxx") and message.endswith("Create it with production_create.")
    assert "(1,000,002 characters in all)" in message and len(message) < 300
    long_unquoted = "word " * 2000
    assert len(capped(long_unquoted)) < 2100 and "characters omitted" in capped(long_unquoted)


def test_listing_caps_and_puts_the_likely_names_first() -> None:
    kits = [f"kit-{n}" for n in range(40)]
    assert listing(kits) == ", ".join(kits[:10]) + " and 30 more"
    assert listing(kits, like="kit-33").startswith("kit-33, ")
    assert listing([], empty="none yet") == "none yet"


async def test_a_1_mb_argument_gives_a_short_error_and_short_log_lines(tmp_path: Path) -> None:
    server = start_http_server(make_workdir(tmp_path / "w"), STUDIO_LOG_LEVEL="INFO")
    try:
        async with server.client() as client:
            for n in range(12):
                await call(client, "production_create", name=f"Film {n}", kit=f"kit-{n}", logline="l", tone="t")
            calls: list[tuple[str, dict[str, Any]]] = [
                ("production_get", {"production": BIG}),
                ("style_ingest", {"kit": "k", "paths": [BIG]}),
                ("style_ingest", {"kit": "k", "paths": ["/" + BIG]}),
                ("style_search", {"query": "a", "kit": BIG}),
                ("continuity_get", {"production": "film-1", "entity": BIG}),
                (BIG, {}),
            ]
            for tool, args in calls:
                text = error_text(await client.call_tool(tool, args))
                assert len(text) < 700, (tool[:20], len(text))
                assert "characters in all" in text, (tool[:20], text[:300])
            missing = error_text(await client.call_tool("production_get", {"production": "film-99"}))
            assert missing.count("film-") <= 8 and str(server.workdir) not in missing
        log = next(server.workdir.glob("server-*.log")).read_text()
        assert "failed:" in log  # the calls above were logged ...
        assert len(log) < 30_000  # ... in short lines (it was over 2 MB)
    finally:
        stop(server.proc)
