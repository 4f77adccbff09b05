"""A call whose arguments fail the input schema gets a sentence per problem, naming the parameter,
what it must be (from the schema's bounds and enums) and what was given; no pydantic jargon."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from tests.helpers import build_app, error_text

CASES = [
    ("video_job", {"job": 3}, ["`job` must be text, got 3"]),
    ("cost_estimate", {}, ["`model` is required"]),
    ("video_jobs", {"production": "p", "status": "stuck"}, ["`status` must be one of 'submitting', ", "got 'stuck'"]),
    ("shots_plan", {"production": "p", "scene": "1", "count": "ten"}, ["`count` must be an integer from 1 to 30"]),
    (
        "production_create",
        {"name": 5, "kit": "k", "logline": "l", "tone": "t", "must": "one thing"},
        ["`name` must be text, got 5", "`must` must be a list of text, got 'one thing'"],
    ),
]


@pytest.mark.parametrize(("tool", "args", "expected"), CASES, ids=[c[0] for c in CASES])
async def test_bad_arguments_read_as_sentences(tmp_path: Path, tool: str, args: dict, expected: list[str]) -> None:
    async with Client(build_app(tmp_path / "data").server) as client:
        text = error_text(await client.call_tool(tool, args))
    assert text.startswith(f"{tool} was called with bad arguments")
    for words in expected:
        assert words in text, text
    assert "errors.pydantic.dev" not in text and "type=" not in text
