"""Bad settings are one readable line each, all at once, on stderr with exit code 2: for serve (a
desktop client would only see a dead server otherwise) and for doctor."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import BIN, server_env

BAD = {
    "STUDIO_GENAI_TIMEOUT_S": "abc",
    "STUDIO_MAX_FILE_MB": "big",
    "STUDIO_CHROMA_MODE": "cloud",
    "STUDIO_PRICES_JSON": "{not json",
}


@pytest.mark.parametrize("command", ["serve", "doctor"])
def test_every_bad_setting_is_named_with_its_value_and_an_example(tmp_path: Path, command: str) -> None:
    done = subprocess.run(
        [str(BIN / "studio-mcp"), command],
        cwd=tmp_path,
        env=server_env(tmp_path / "data", **BAD),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == len(BAD) and "Traceback" not in done.stderr
    for variable, value in BAD.items():
        [line] = [line for line in lines if variable in line]
        assert value in line
    assert "(e.g. STUDIO_MAX_FILE_MB=20.0)" in done.stderr and "'embedded' or 'http'" in done.stderr
    assert not (tmp_path / "data").exists()  # nothing was started or written
