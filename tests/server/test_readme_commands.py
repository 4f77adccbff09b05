"""The README's two opening commands, run verbatim in a copy of this checkout with no environment of its
own: the first installs the server and serves MCP over stdio on its embedded defaults (a real
initialize, tools/list and a tool call, with the state landing in ./studio-data); the second installs
the test extras and runs pytest (pointed at one small test file through PYTEST_ADDOPTS, so the suite
does not run itself)."""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

INSTALL_DEADLINE_S = 1500  # a pip install of torch and chromadb from a cold cache


def readme_commands() -> list[str]:
    match = re.search(r"```bash\n(.*?)```", (REPO / "README.md").read_text(), re.DOTALL)
    assert match, "the README must open with a bash block"
    return [line for line in match.group(1).splitlines() if line.strip()]


def checkout_copy(dest: Path) -> Path:
    """The tracked files of this checkout, as a fresh clone would have them (no venv, no data)."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, check=True, capture_output=True).stdout
    for name in listed.decode().split("\0"):
        source = REPO / name
        if name and source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def fresh_env() -> dict[str, str]:
    """This machine's environment without any studio, Google or test setting and outside any venv."""
    drop = ("STUDIO_", "GEMINI_", "GOOGLE_", "TEST_", "PYTEST_", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if "/.venv" not in p)
    return env


class Shell:
    """One README line run by bash, its stdin and stdout the MCP stdio transport once the server starts."""

    def __init__(self, command: str, cwd: Path) -> None:
        self.proc = subprocess.Popen(
            ["bash", "-c", command],
            cwd=cwd,
            env=fresh_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.skipped: list[str] = []

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"jsonrpc": "2.0", **message}).encode() + b"\n")
        self.proc.stdin.flush()

    def answer(self, request_id: int, timeout: float) -> dict[str, Any]:
        """The response to `request_id`; pip's output before the server starts is passed over."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 5)
            if not ready:
                assert self.proc.poll() is None, f"the command exited ({self.proc.returncode}): {self.skipped[-5:]}"
                continue
            line = self.proc.stdout.readline().decode(errors="replace")
            assert line, f"the command closed stdout: {self.skipped[-5:]}"
            try:
                message: dict[str, Any] = json.loads(line)
            except json.JSONDecodeError:
                self.skipped.append(line.strip())
                continue
            if message.get("id") == request_id:
                return message
        raise AssertionError(f"no answer to request {request_id} in {timeout:.0f} s; last output: {self.skipped[-5:]}")

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield checkout_copy(tmp_path_factory.mktemp("fresh-clone"))


def test_the_readme_opens_with_two_commands() -> None:
    install_and_serve, install_and_test = readme_commands()
    assert install_and_serve.endswith("studio-mcp serve") and "pip install" in install_and_serve
    assert install_and_test.endswith("pytest -q") and ".[test]" in install_and_test


def test_the_first_command_installs_and_serves_on_embedded_defaults(checkout: Path) -> None:
    shell = Shell(readme_commands()[0], checkout)
    try:
        shell.send(
            {
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "readme-test", "version": "0"},
                },
            }
        )
        initialized = shell.answer(1, INSTALL_DEADLINE_S)
        assert initialized["result"]["serverInfo"]["name"] == "studio-mcp"
        shell.send({"method": "notifications/initialized"})
        shell.send({"id": 2, "method": "tools/list"})
        names = {tool["name"] for tool in shell.answer(2, 60)["result"]["tools"]}
        assert {"style_search", "production_create", "prompt_build", "continuity_check_prompt"} <= names
        shell.send(
            {
                "id": 3,
                "method": "tools/call",
                "params": {
                    "name": "production_create",
                    "arguments": {"name": "Readme Tour", "kit": "tour", "logline": "A test.", "tone": "plain"},
                },
            }
        )
        created = shell.answer(3, 120)["result"]
        assert not created.get("isError"), created
        assert created["structuredContent"]["id"] == "readme-tour"
    finally:
        shell.close()
    assert (checkout / "studio-data" / "state.sqlite3").is_file()  # the embedded default data directory


def test_the_second_command_installs_the_test_extras_and_runs_pytest(checkout: Path) -> None:
    env = {**fresh_env(), "PYTEST_ADDOPTS": "-p no:cacheprovider tests/server/test_readme_settings.py"}
    ran = subprocess.run(
        ["bash", "-c", readme_commands()[1]],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=INSTALL_DEADLINE_S,
    )
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-2000:]
    assert re.search(r"\b\d+ passed\b", ran.stdout) and "failed" not in ran.stdout, ran.stdout[-2000:]
