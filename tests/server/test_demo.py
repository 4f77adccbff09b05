"""`studio-mcp demo` is a test: the narrated scenario runs offline through a real server process."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import BIN, server_env


def test_the_demo_runs_every_step_offline(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(BIN / "studio-mcp"), "demo", "--data-dir", str(tmp_path / "data")],
        cwd=tmp_path,
        env=server_env(tmp_path / "unused"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = done.stdout
    assert done.returncode == 0, done.stderr[-3000:] + out[-3000:]
    assert "the local stand-in" in out and "stand-in test clip (no cost)" in out
    assert "caught: Mara Vell's coat is 'red wool coat'" in out and "errors now: 0" in out
    assert "review: The bow lantern must already be lit in the first frame." in out
    assert "ledger: lantern (prop): state: lit from the first frame" in out
    assert "end_to_end_yield: 100% (1/1)" in out and "Done in" in out
    assert (tmp_path / "data" / "state.sqlite3").is_file() and not (tmp_path / "unused").exists()
