"""Raw lines on a real `studio-mcp serve` process's stdin: every request that carries an id gets an
answer, even one the SDK cannot read (it used to drop those, leaving the client waiting forever)."""

from __future__ import annotations

import json
import select
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BIN, server_env


class RawStdio:
    def __init__(self, cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [str(BIN / "studio-mcp"), "serve"],
            cwd=cwd,
            env=server_env(cwd / "data"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def answer(self, timeout: float = 20) -> dict[str, Any] | None:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return None
        message: dict[str, Any] = json.loads(self.proc.stdout.readline())
        return message

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def wire(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RawStdio]:
    raw = RawStdio(tmp_path_factory.mktemp("wire"))
    raw.send(
        json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "raw", "version": "1"},
                },
            }
        )
    )
    first = raw.answer()
    assert first is not None and first["id"] == 0 and "result" in first
    raw.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
    yield raw
    raw.close()


DEEP = "[" * 5000 + "]" * 5000
HUGE = "9" * 5000
BAD_LINES: dict[str, tuple[str, str | int, int]] = {
    "lone surrogate": (
        '{"jsonrpc": "2.0", "id": 11, "method": "tools/call", "params": {"name": "style_kits", '
        '"arguments": {"x": "\\ud800"}}}',
        11,
        -32700,
    ),
    "nesting 5,000 deep": (
        '{"jsonrpc": "2.0", "id": "deep", "method": "tools/list", "params": {"a": ' + DEEP + "}}",
        "deep",
        -32700,
    ),
    "a 5,000-digit number": (
        '{"jsonrpc": "2.0", "id": 13, "method": "tools/list", "params": {"n": ' + HUGE + "}}",
        13,
        -32700,
    ),
    "jsonrpc 1.0": ('{"jsonrpc": "1.0", "id": 14, "method": "tools/list"}', 14, -32600),
    "cut short": ('{"jsonrpc": "2.0", "id": 15, "method": "tools/list"', 15, -32700),
    "the id after a nested id": (
        '{"jsonrpc": "2.0", "method": "tools/list", "params": {"a": {"id": 99, "b": "}"}, "n": '
        + HUGE
        + '}, "id": 16}',
        16,
        -32700,
    ),
}


@pytest.mark.parametrize("case", list(BAD_LINES))
def test_an_unreadable_request_with_an_id_gets_an_error_with_that_id(wire: RawStdio, case: str) -> None:
    line, request_id, code = BAD_LINES[case]
    wire.send(line)
    answer = wire.answer()
    assert answer is not None, f"no answer to {case}: the client would wait forever"
    assert answer["id"] == request_id
    assert answer["error"]["code"] == code
    assert len(answer["error"]["message"]) < 600


def test_good_lines_still_pass_and_id_less_garbage_is_ignored(wire: RawStdio) -> None:
    wire.send("not json at all")
    wire.send('{"jsonrpc": "2.0", "id": "after", "method": "tools/list", "params": {}}')
    answer = wire.answer()
    assert answer is not None and answer["id"] == "after"
    assert "style_kits" in {tool["name"] for tool in answer["result"]["tools"]}
