"""The reliability fuzzer at full size: ten thousand schema-driven and hostile calls over stdio.

The same campaign as tests/reliability/test_fuzz.py (a real `studio-mcp serve` subprocess, the
fake Vertex in its own process, fake secrets in the environment), with more calls. Prints the
calls per tool and per outcome, the slowest calls, every broken property with its shortest
examples, and the state invariants checked afterwards (integrity_check, jobs, spend, assets, the
ingest journal, Chroma against the state), and the server's memory before and after. Exit status 1
if any property or invariant is broken.

    .venv/bin/python -m bench.bench_fuzz [--calls 10000] [--seed 0] [--deadline 30]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.fake_gemini import FakeGeminiProcess
from tests.reliability import fuzzer
from tests.reliability.conftest import SECRET_VALUES
from tests.reliability.integrity import files_containing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--deadline", type=float, default=30.0, help="seconds a call may take")
    args = parser.parse_args(argv)

    with FakeGeminiProcess() as fake, tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        run = fuzzer.run_campaign(Path(tmp), fake, args.calls, args.seed, args.deadline)
        seconds = time.perf_counter() - start
        leaked_files = files_containing(run.data_dir, SECRET_VALUES)
        log = run.log.read_text(errors="replace")
        leaked_log = [s for s in SECRET_VALUES if s in log]

    calls = len(run.campaign.outcomes)
    print(fuzzer.summary(run.campaign))
    print(
        f"\n{calls} calls over {len(run.tools)} tools in {seconds:.0f} s "
        f"({calls / seconds:.1f} calls/s), seed {args.seed}"
    )
    print(
        f"tools/list after the campaign: {'ok' if run.tools_after == sorted(t.name for t in run.tools) else 'CHANGED'}"
    )
    kinds = Counter(o.kind for o in run.campaign.outcomes)
    leaks = len(run.campaign.violations.get("no_secret", []))
    print(
        f"crashes (server gone): {kinds['dead']}, hangs (no answer in {args.deadline:g} s): {kinds['timeout']}, "
        f"answers carrying a secret or an outside file: {leaks}, results off their output schema: "
        f"{kinds['invalid_output']}, broken properties: {sorted(run.campaign.violations) or 'none'}"
    )
    memory = run.memory_mb
    print(
        f"server memory: {memory.get('seeded', 0):.0f} MB after seeding, {memory.get('after', 0):.0f} MB after the "
        f"campaign (peak {memory.get('peak', 0):.0f} MB)"
    )
    print(f"state invariants (integrity_check, jobs, spend, assets, journal, Chroma vs state): {run.integrity or 'ok'}")
    print(f"secrets in the data directory: {leaked_files or 'none'}; in the server log: {leaked_log or 'none'}")
    broken = bool(run.campaign.violations or run.integrity or leaked_files or leaked_log)
    return 1 if broken or calls < args.calls else 0


if __name__ == "__main__":
    sys.exit(main())
