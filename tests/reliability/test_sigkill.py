"""SIGKILL at random moments of an ingest and of Veo submits, then a restart: nothing is half done.

Each test runs a few rounds on one data directory (seeded, so a failure replays): a server is
started, checks what the previous round's kill left behind, starts work, and is killed with
SIGKILL at a random moment of it. Ingest: every file of the kit is whole at its old or its new
version, or absent if it never was ingested. Veo: no job is submitted twice (the fake logs every
submit with its `studio-job` label), every job ends done or clearly `unknown_submission`, and
spend matches the jobs. Then `PRAGMA integrity_check` and the other invariants of integrity.py.
"""

from __future__ import annotations

import os
import random
import re
import signal
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from tests.conftest import RunningServer, make_workdir, start_http_server, stdio_params, stop
from tests.fake_gemini import FakeGeminiProcess
from tests.helpers import call, make_production
from tests.reliability.conftest import genai_env
from tests.reliability.integrity import all_problems

ROUNDS = int(os.environ.get("STUDIO_SIGKILL_ROUNDS", "3"))
# Each review round starts a server that loads the embedder again (~7 s): fewer of them by default.
REVIEW_ROUNDS = max(2, ROUNDS - 1)
SEED = int(os.environ.get("STUDIO_SIGKILL_SEED", "0"))
KIT = "crash-kit"
MARKER = re.compile(r"\[v(\d+) f(\d+) p(\d+)/(\d+)\]")


def pending_journal(data_dir: Path) -> int:
    """Rows in the ingest journal, read from the outside while the server writes (WAL allows it)."""
    path = data_dir / "state.sqlite3"
    if not path.exists():
        return 0
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
    try:
        return int(conn.execute("SELECT count(*) FROM style_pending").fetchone()[0])
    except sqlite3.OperationalError:  # not migrated yet
        return 0
    finally:
        conn.close()


def sigkill(server: RunningServer) -> None:
    os.kill(server.proc.pid, signal.SIGKILL)
    server.proc.wait(timeout=10)


async def quietly(coro: Any) -> None:
    """A call the kill interrupts: whatever it raises is expected."""
    try:
        await coro
    except Exception:
        pass


# --------------------------------------------------------------------------- ingest


def write_file(corpus: Path, index: int, version: int) -> None:
    parts = 2 + (index + version) % 3
    sections = [
        f"## Part {j}\n\n[v{version} f{index} p{j}/{parts}] Version {version} of file {index}, part {j}: "
        "the lantern keeps its warm glow over the dark harbour water."
        for j in range(parts)
    ]
    (corpus / f"f{index}.md").write_text("\n\n".join(sections) + "\n")


async def indexed_versions(client: Client, files: int) -> dict[int, int | None]:
    """Each file's version in the kit, asserting it is whole (every part, one version), or None."""
    kits = (await call(client, "style_kits"))["kits"]
    if not any(k["kit"] == KIT for k in kits):
        return dict.fromkeys(range(files))
    found: dict[int, int | None] = {}
    for index in range(files):
        hits = (await call(client, "style_search", query="lantern harbour", kit=KIT, entities=[f"f{index}"], k=50))[
            "hits"
        ]
        markers = {MARKER.search(h["text"]).groups() for h in hits}  # type: ignore[union-attr]
        if not markers:
            found[index] = None
            continue
        versions = {int(m[0]) for m in markers}
        assert len(versions) == 1, f"f{index}.md is indexed at two versions at once: {sorted(markers)}"
        parts = {int(m[3]) for m in markers}
        assert len(parts) == 1 and {int(m[2]) for m in markers} == set(range(parts.pop())), (
            f"f{index}.md is half indexed: {sorted(markers)}"
        )
        assert len(hits) == len(markers), f"f{index}.md has duplicate chunks: {len(hits)} for {len(markers)}"
        found[index] = versions.pop()
    return found


async def recovered(client: Client, data_dir: Path) -> None:
    """The start-up recovery has run: the ingest journal is empty (bounded wait, for a lease)."""
    with anyio.fail_after(30):
        while True:
            await call(client, "style_kits")
            if pending_journal(data_dir) == 0:
                return
            await anyio.sleep(0.2)


async def kill_during_ingest(server: RunningServer, moment: str, delay: float) -> str:
    """Start an ingest of the corpus and SIGKILL the server `delay` seconds after it was sent
    ('anytime') or after its first journal row appeared ('mid-write'); what the kill hit."""
    try:
        async with server.client() as client, anyio.create_task_group() as tasks:
            # Warm up, so the kill falls in the ingest and not in loading the embedder.
            await call(client, "style_ingest", kit="warm-up", text="The harbour at dusk.", title="warm-up")
            args = {"kit": KIT, "paths": ["corpus"], "kind": "character"}
            tasks.start_soon(quietly, client.call_tool("style_ingest", args))
            if moment == "mid-write":
                with anyio.move_on_after(60):
                    while pending_journal(server.data_dir) == 0:  # noqa: ASYNC110 - written by another process
                        await anyio.sleep(0.005)
            await anyio.sleep(delay)
            rows = pending_journal(server.data_dir)
            sigkill(server)
            tasks.cancel_scope.cancel()
    except Exception:
        pass  # the session ends abruptly with the server
    return f"{moment} +{delay:.2f}s, journal rows at kill: {rows}"


async def test_sigkill_during_ingest_leaves_every_file_whole_or_absent(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    workdir = make_workdir(tmp_path / "work")
    corpus = workdir / "corpus"
    corpus.mkdir()
    files = 16
    version = dict.fromkeys(range(files), 1)
    for index in range(files):
        write_file(corpus, index, 1)
    allowed: dict[int, set[int | None]] = {index: {None, 1} for index in range(files)}
    env = {"STUDIO_INGEST_WRITE_BATCH": "4", "STUDIO_INGEST_LEASE_S": "1"}  # many small writes
    moments: list[str] = []
    for round_ in range(ROUNDS + 1):
        server = start_http_server(workdir, **env)
        try:
            async with server.client() as client:
                await recovered(client, server.data_dir)
                found = await indexed_versions(client, files)
            wrong = {i: v for i, v in found.items() if v not in allowed[i]}
            assert not wrong, f"round {round_}: files at versions never ingested: {wrong} ({moments})"
            if round_ == ROUNDS:
                break
            for index in rng.sample(range(files), files // 2):
                version[index] += 1
                write_file(corpus, index, version[index])
            # After this round's kill: each file as it was indexed, or as the ingest found it on disk.
            allowed = {i: {found[i], version[i]} for i in range(files)}
            # Alternate: a kill at any moment of the call, and one inside its write phase.
            moment = "mid-write" if round_ % 2 == 0 else "anytime"
            delay = rng.uniform(0, 0.3) if moment == "mid-write" else rng.uniform(0, 3.0)
            moments.append(await kill_during_ingest(server, moment, delay))
        finally:
            stop(server.proc)
    assert any("rows at kill: 0" not in m for m in moments), f"no kill landed mid-write: {moments}"
    assert all_problems(workdir / "studio-data") == []


# --------------------------------------------------------------------------- Veo submits


def submits_by_job(fake: FakeGeminiProcess) -> Counter[str]:
    return Counter(
        str((r["body"].get("labels") or {}).get("studio-job")) for r in fake.requests_to(":predictLongRunning")
    )


async def kill_during_submits(server: RunningServer, pid: str, seeds: Iterator[int], delay: float) -> float:
    """Two clients each asking for four new takes, one after another; SIGKILL after `delay` seconds.
    Returns what the warm-up image cost."""
    image_usd = 0.0
    try:
        async with server.client() as first, server.client() as second, anyio.create_task_group() as tasks:
            # Warm up, so the kill falls in the submits and not in loading the embedder or the SDK.
            await call(first, "video_generate", production=pid, shot="1/1", duration_s=4, dry_run=True)
            prompt = f"Lantern number {next(seeds)} on a dark quay."
            image = await call(first, "image_generate", production=pid, prompt=prompt)
            image_usd = image["estimate_usd"]

            async def takes(client: Client) -> None:
                for _ in range(4):
                    args = {"production": pid, "shot": "1/1", "seed": next(seeds), "duration_s": 4}
                    await client.call_tool("video_generate", args)

            tasks.start_soon(quietly, takes(first))
            tasks.start_soon(quietly, takes(second))
            await anyio.sleep(delay)
            sigkill(server)
            tasks.cancel_scope.cancel()
    except Exception:
        pass  # the sessions end abruptly with the server
    return image_usd


async def test_sigkill_during_veo_submits_never_submits_twice(tmp_path: Path, fake_process: FakeGeminiProcess) -> None:
    fake = fake_process
    fake.reset()
    fake.configure(default_polls=3)
    fake.add_fault(":predictLongRunning", "delay", times=None, delay_s=0.25)  # a submit takes a while
    rng = random.Random(SEED)
    workdir = make_workdir(tmp_path / "work")
    # A killed server's leases are what a restarted one waits out before resuming its jobs.
    env = {**genai_env(fake.url), "STUDIO_VEO_POLL_LEASE_S": "1"}
    shots = [{"number": 1, "description": "The ferry slides out of the fog toward the quay.", "duration_s": 4}]
    pid = ""
    seeds = iter(range(1000))
    images_usd = 0.0
    for _ in range(ROUNDS):
        server = start_http_server(workdir, **env)
        try:
            if not pid:
                async with server.client() as client:
                    pid = await make_production(client, "Crash Veo", budget_usd=1000, shots={"1": shots})
            images_usd += await kill_during_submits(server, pid, seeds, rng.uniform(0.1, 1.5))
        finally:
            stop(server.proc)

    fake.clear_faults()
    server = start_http_server(workdir, **env)
    try:
        async with server.client() as client:
            with anyio.fail_after(60):
                while True:
                    jobs = (await call(client, "video_jobs", production=pid))["jobs"]
                    if all(j["status"] in ("done", "unknown_submission") for j in jobs):
                        break
                    assert not [j for j in jobs if j["status"] in ("failed", "cancelled")], jobs
                    await anyio.sleep(0.2)
            before = submits_by_job(fake)
            # The same request again is the same job, whatever its state: nothing is sent again.
            for job in jobs:
                seed = job["settings"]["seed"]
                again = await call(client, "video_generate", production=pid, shot="1/1", seed=seed, duration_s=4)
                assert again["id"] == job["id"] and again["reused"], (job, again)
            spend = (await call(client, "production_get", production=pid))["spend"]
    finally:
        stop(server.proc)

    submits = submits_by_job(fake)
    assert submits == before, "asking for a job again sent a submit"
    ids = {j["id"] for j in jobs}
    assert jobs and set(submits) <= ids, f"submits for jobs the state does not know: {set(submits) - ids}"
    assert all(n == 1 for n in submits.values()), f"submitted twice: {[j for j, n in submits.items() if n > 1]}"
    for job in jobs:
        if job["status"] == "done":
            assert submits[job["id"]] == 1 and job["asset"], job
        else:
            assert "retake=true" in job["error"] and "video_cancel" in job["error"], job
    unknown = [j for j in jobs if j["status"] == "unknown_submission"]
    done = [j for j in jobs if j["status"] == "done"]
    assert spend["committed_usd"] == pytest.approx(sum(j["estimate_usd"] for j in unknown))
    assert spend["spent_usd"] == pytest.approx(sum(j["estimate_usd"] for j in done) + images_usd)
    assert all_problems(workdir / "studio-data") == []
    print(f"\n{len(jobs)} jobs: {len(done)} done, {len(unknown)} unknown_submission; {sum(submits.values())} submits")


# --------------------------------------------------------------------------- review decisions


def stdio_children() -> set[int]:
    """Pids of the `studio-mcp` processes this test process started (a stdio client's server)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue  # a process that ended while we looked
        if ppid == os.getpid() and b"studio-mcp\x00serve" in command:
            found.add(int(stat.parent.name))
    return found


def decision_rows(data_dir: Path, token: str) -> dict[str, int]:
    """How many rows of each thing a review decision writes carry the decision's token."""
    like = f"%{token}%"
    conn = sqlite3.connect(f"file:{data_dir / 'state.sqlite3'}?mode=ro", uri=True, timeout=10)
    try:
        queries = {
            "decision": "SELECT count(*) FROM review_decisions WHERE notes LIKE ?",
            "ledger fact": "SELECT count(*) FROM continuity_facts WHERE value LIKE ?",
            "brief version": "SELECT count(*) FROM brief_versions WHERE note LIKE ?",
            "event": "SELECT count(*) FROM production_events WHERE tool = 'review_decide' AND detail LIKE ?",
            "outbox row": "SELECT count(*) FROM review_kit_outbox WHERE text LIKE ?",
        }
        return {what: int(conn.execute(sql, (like,)).fetchone()[0]) for what, sql in queries.items()}
    finally:
        conn.close()


def latest_decisions(data_dir: Path) -> tuple[dict[tuple[str, str], tuple[str, str]], dict[str, tuple[str, str]]]:
    """(shot -> (decided asset, status wanted) from the last decision on it; shot -> (take, status) stored)."""
    want = {"approve": "approved", "reject": "rejected", "revise": "revise"}
    conn = sqlite3.connect(f"file:{data_dir / 'state.sqlite3'}?mode=ro", uri=True, timeout=10)
    try:
        last: dict[tuple[str, str], tuple[str, str]] = {}
        for production, shot, asset, decision in conn.execute(
            "SELECT r.production, r.shot, r.asset, d.decision FROM review_decisions d "
            "JOIN reviews r ON r.id = d.review ORDER BY d.seq"
        ):
            last[(production, shot)] = (asset, want[decision])
        stored = {
            f"{scene}/{number}": (take, status)
            for scene, number, take, status in conn.execute("SELECT scene, number, take, status FROM shots")
        }
        return last, stored
    finally:
        conn.close()


async def until_outbox_flushed(data_dir: Path, limit_s: float = 60.0) -> None:
    """The restarted server writes every decision's kit material still owed to Chroma (it flushes at start)."""
    with anyio.fail_after(limit_s):
        while True:
            conn = sqlite3.connect(f"file:{data_dir / 'state.sqlite3'}?mode=ro", uri=True, timeout=10)
            try:
                pending = conn.execute("SELECT count(*) FROM review_kit_outbox WHERE written_at IS NULL").fetchone()[0]
            finally:
                conn.close()
            if pending == 0:
                return
            await anyio.sleep(0.2)


async def test_sigkill_during_review_decisions_is_all_or_nothing(
    tmp_path: Path, fake_process: FakeGeminiProcess
) -> None:
    """Review decisions over a real stdio client, the server SIGKILLed at a random moment of them, then a
    restart. Each decision (notes, ledger fact, brief amendment tagged with its own token) is wholly there
    (decision row, ledger fact, brief version, event, outbox row) or wholly absent; every decision the
    client saw succeed is there; each shot's status and take follow its last decision; and the outbox
    delivers every decision's kit material to Chroma once after the restart (integrity.py checks it)."""
    fake = fake_process
    fake.reset()
    rng = random.Random(SEED)
    workdir = make_workdir(tmp_path / "work")
    data = workdir / "studio-data"
    params = stdio_params(workdir, data, **genai_env(fake.url))
    shots = [
        {"number": n, "description": f"Mara crosses the quay in her coat, take {n}.", "characters": ["Mara"]}
        for n in (1, 2)
    ]
    async with Client(params) as client:
        pid = await make_production(client, "Crash Review", budget_usd=1000, shots={"1": shots})
        await call(
            client, "continuity_set", production=pid, entity="Mara", kind="character", attributes={"coat": "red"}
        )
        assets = []
        for shot in ("1/1", "1/2"):
            job = await call(client, "video_generate", production=pid, shot=shot, duration_s=4)
            with anyio.fail_after(60):
                while job["status"] not in ("done", "failed", "cancelled", "unknown_submission"):
                    job = await call(client, "video_job", job=job["id"], wait_s=2)
            asset = job["asset"]["id"] if isinstance(job["asset"], dict) else job["asset"]
            await call(client, "review_submit", asset=asset)
            assets.append(str(asset))

    attempted: list[str] = []
    answered: list[str] = []
    moments: list[str] = []
    for round_ in range(REVIEW_ROUNDS):
        before = stdio_children()
        try:
            async with Client(params) as client, anyio.create_task_group() as tasks:
                [server_pid] = stdio_children() - before
                warm = round_ % 2 == 0
                if warm:  # the kill then falls among the decisions, not in loading the embedder
                    await call(client, "style_ingest", kit="warm-up", text="The quay at dusk.", title="warm-up")

                async def decide(n: int, round_: int = round_) -> None:
                    token = f"#r{round_}d{n}#"  # delimited: #r0d1# is no part of #r0d10#
                    verdict = rng.choice(["approve", "reject", "revise"])
                    args = {
                        "asset": assets[n % len(assets)],
                        "decision": verdict,
                        "notes": f"Decision {token}: the coat must read deep red.",
                        "fact_entity": "Mara",
                        "fact_kind": "character",
                        "fact_attributes": {"coat": f"deep red wool {token}"},
                        "must_not": [f"orange coats {token}"],
                    }
                    attempted.append(token)
                    result = await client.call_tool("review_decide", args)
                    if not result.is_error:
                        answered.append(token)

                async def decisions() -> None:
                    for n in range(1000):  # until the kill: one call is always in flight when it lands
                        await decide(n)

                tasks.start_soon(quietly, decisions())
                delay = rng.uniform(0, 1.5) if warm else rng.uniform(0, 6.0)
                await anyio.sleep(delay)
                os.kill(server_pid, signal.SIGKILL)
                moments.append(f"{'warm' if warm else 'cold'} +{delay:.2f}s: {len(answered)} answered so far")
                tasks.cancel_scope.cancel()
        except Exception:
            pass  # the session ends abruptly with the server

    async with Client(params) as client:
        await recovered(client, data)
        await until_outbox_flushed(data)
        review = await call(
            client, "review_get", review=(await call(client, "review_queue", production=pid))["reviews"][0]["id"]
        )
        assert review["decisions"], review
    partial = {}
    present = []
    for token in attempted:
        rows = decision_rows(data, token)
        if set(rows.values()) == {1}:
            present.append(token)
        elif set(rows.values()) != {0}:
            partial[token] = rows
    assert not partial, f"decisions half applied: {partial} ({moments})"
    assert set(answered) <= set(present), f"answered but lost: {set(answered) - set(present)}"
    last, stored = latest_decisions(data)
    for (_, shot), (asset, status) in last.items():
        assert stored[shot] == (asset, status), (shot, stored[shot], asset, status)
    assert all_problems(data) == []
    assert present and len(answered) < len(attempted), f"no kill fell among the decisions: {moments}"
    print(f"\n{len(attempted)} decisions attempted, {len(present)} applied, {len(answered)} answered; {moments}")
