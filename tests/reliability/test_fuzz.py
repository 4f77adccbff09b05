"""Every tool, fuzzed from its own input schema plus hostile values, over stdio to a real
`studio-mcp serve` subprocess (fake Vertex behind it, fake secrets in its environment).

One campaign runs per module (STUDIO_FUZZ_CALLS calls, default 400; STUDIO_FUZZ_SEED picks the
inputs); each test below asserts one promise over all of its calls. bench/bench_fuzz.py runs the
same campaign with ten thousand calls.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.fake_gemini import FakeGeminiProcess
from tests.reliability import fuzzer
from tests.reliability.conftest import OUTSIDE_MARKER, SECRET_VALUES
from tests.reliability.fuzzer import FuzzRun
from tests.reliability.integrity import files_containing

CALLS = int(os.environ.get("STUDIO_FUZZ_CALLS", "400"))
SEED = int(os.environ.get("STUDIO_FUZZ_SEED", "0"))
DEADLINE_S = float(os.environ.get("STUDIO_FUZZ_DEADLINE_S", "30"))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, fake_process: FakeGeminiProcess) -> Iterator[FuzzRun]:
    result = fuzzer.run_campaign(tmp_path_factory.mktemp("fuzz"), fake_process, CALLS, SEED, DEADLINE_S)
    print("\n" + fuzzer.summary(result.campaign))  # shown with -s, or with a failure
    yield result


def test_every_call_is_answered_in_time_and_the_server_survives(run: FuzzRun) -> None:
    assert len(run.campaign.outcomes) >= CALLS
    assert not run.campaign.violations.get("answered"), run.campaign.examples("answered")
    assert run.tools_after == sorted(t.name for t in run.tools), "the server stopped listing its tools"


def test_the_fuzzer_reaches_every_tool_and_gets_past_validation(run: FuzzRun) -> None:
    """Not a vacuous campaign: every tool is called, and grounded calls succeed on most tools."""
    counts = run.campaign.counts()
    per_tool = {t.name: sum(n for (tool, _), n in counts.items() if tool == t.name) for t in run.tools}
    assert min(per_tool.values()) >= 3, per_tool
    succeeded = {tool for (tool, kind) in counts if kind == "ok"}
    assert len(succeeded) >= len(run.tools) // 2, sorted(succeeded)
    refused = sum(n for (_, kind), n in counts.items() if kind == "tool_error")
    assert refused > 0


def test_error_texts_are_bounded(run: FuzzRun) -> None:
    assert not run.campaign.violations.get("bounded_error"), run.campaign.examples("bounded_error")


def test_errors_carry_no_traceback(run: FuzzRun) -> None:
    assert not run.campaign.violations.get("no_traceback"), run.campaign.examples("no_traceback")


def test_errors_say_what_was_wrong(run: FuzzRun) -> None:
    """A bare 'Error executing tool X' is an unmapped exception: it tells the agent nothing."""
    assert not run.campaign.violations.get("explained_error"), run.campaign.examples("explained_error")


def test_results_match_their_output_schemas(run: FuzzRun) -> None:
    assert not run.campaign.violations.get("output_schema"), run.campaign.examples("output_schema")


def test_no_secret_or_outside_file_in_any_answer_log_or_file(run: FuzzRun) -> None:
    assert not run.campaign.violations.get("no_secret"), run.campaign.examples("no_secret")
    log = run.log.read_text(errors="replace")
    assert log.strip(), "the server's stderr log is empty: the check below would prove nothing"
    assert not [s for s in SECRET_VALUES if s in log]
    assert files_containing(run.data_dir, [*SECRET_VALUES, OUTSIDE_MARKER]) == []


def test_state_is_intact_afterwards(run: FuzzRun) -> None:
    assert run.integrity == []
