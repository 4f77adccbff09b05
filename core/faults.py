"""Crash points for the crash-recovery tests: `STUDIO_TEST_CRASH_AT=<name>` kills the process there.

A real SIGKILL at a chosen instant is what these tests need to prove that no state is half
written; a named point makes that instant deterministic. Unset, this is a no-op.
"""

from __future__ import annotations

import os


def crash_point(name: str) -> None:
    if os.environ.get("STUDIO_TEST_CRASH_AT") == name:
        os._exit(70)
