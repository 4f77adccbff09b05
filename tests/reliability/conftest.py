"""Fixtures of the reliability suite: the fake Gemini/Vertex API in its own process (it outlives a
server the tests kill), distinctive fake secrets, and the environment of a server under test."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import make_workdir
from tests.fake_gemini import FakeGeminiProcess
from tests.helpers import vertex_env

# Distinctive values, so a grep for them finds any copy: in results, errors, logs or files.
SECRETS = {
    "GOOGLE_API_KEY": "AIzaSyRELIABILITYsecretKEY7f3a9c0d1e2b",
    "STUDIO_CHROMA_TOKEN": "chroma-token-SECRET-5b2e8a41",
    "STUDIO_CHROMA_HEADERS": json.dumps({"X-Chroma-Extra": "chroma-header-SECRET-c0ffee77"}),
    "STUDIO_HTTP_AUTH_TOKENS": json.dumps(["bearer-SECRET-9d41c7e2aa"]),
}
SECRET_VALUES = [
    "AIzaSyRELIABILITYsecretKEY7f3a9c0d1e2b",
    "chroma-token-SECRET-5b2e8a41",
    "chroma-header-SECRET-c0ffee77",
    "bearer-SECRET-9d41c7e2aa",
]
BEARER = "bearer-SECRET-9d41c7e2aa"
# Written outside every allowed root: if it ever shows up in an answer, confinement leaked.
OUTSIDE_MARKER = "OUTSIDE-THE-ROOTS-3c9f1e"


def genai_env(url: str, **extra: str) -> dict[str, str]:
    """Vertex express mode against the fake (Veo, Imagen, text), quick polls and retries, the secrets."""
    fast = {
        "STUDIO_VEO_POLL_INITIAL_S": "0.05",
        "STUDIO_VEO_POLL_MAX_S": "0.2",
        "STUDIO_VEO_JOB_DEADLINE_S": "120",
        "STUDIO_GENAI_TIMEOUT_S": "10",
        "STUDIO_GENAI_MAX_RETRIES": "1",
        "STUDIO_GENAI_RETRY_INITIAL_DELAY_S": "0.05",
        "STUDIO_GENAI_RETRY_MAX_DELAY_S": "0.1",
        "STUDIO_GENAI_RETRY_JITTER_S": "0",
    }
    return vertex_env(url, **{**SECRETS, **fast, **extra})


def hostile_workdir(root: Path) -> Path:
    """A working directory with the sample kit, and a symlink pointing outside the allowed roots."""
    work = make_workdir(root / "work")
    outside = root / "outside"
    outside.mkdir()
    (outside / "passwd").write_text(f"root:x:0:0:{OUTSIDE_MARKER}\n")
    (outside / "secret.md").write_text(f"# Outside\n\n{OUTSIDE_MARKER}\n")
    os.symlink(outside, work / "escape-link")
    return work


@pytest.fixture(scope="module")
def fake_process() -> Iterator[FakeGeminiProcess]:
    with FakeGeminiProcess() as fake:
        yield fake
