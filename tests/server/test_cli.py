"""The command line's small promises: --version names the installed release."""

from __future__ import annotations

import subprocess
from importlib.metadata import version

from tests.conftest import BIN


def test_version_names_the_installed_release() -> None:
    done = subprocess.run([str(BIN / "studio-mcp"), "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == f"studio-mcp {version('studio-mcp')}"
