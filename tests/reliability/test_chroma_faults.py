"""Style retrieval under Chroma faults, on a real `chroma run` server that the tests stop, freeze and kill,
and real studio-mcp replicas (HTTP subprocesses) sharing one data directory.

Timeouts and leases are set short through settings so every test stays within seconds of work."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.types import CallToolResult

from tests.conftest import (
    BIN,
    RunningServer,
    free_port,
    make_workdir,
    server_env,
    start_http_server,
    stdio_params,
    stop,
    wait_for_port,
)
from tests.helpers import call, error_text, make_production, result_data

FILES = 24
SECTIONS = 3  # chunks per file: each section is its own chunk
STYLE_TOOLS = ("style_search", "style_kits", "style_ingest", "style_remove")


class ChromaServer:
    """A `chroma run` process on a fixed port and directory, so it can be killed and started again."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.frozen = False

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        log = open(self.root / "chroma.log", "ab")  # the process writes it for its life
        self.proc = subprocess.Popen(
            [
                str(BIN / "chroma"),
                "run",
                "--path",
                str(self.root / "db"),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
        wait_for_port(self.port, self.proc)

    def freeze(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)
        self.frozen = True

    def thaw(self) -> None:
        if self.proc is not None and self.frozen:
            os.kill(self.proc.pid, signal.SIGCONT)
            self.frozen = False

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def stop(self) -> None:
        self.thaw()
        if self.proc is not None:
            stop(self.proc)

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "STUDIO_CHROMA_MODE": "http",
            "STUDIO_CHROMA_HOST": "127.0.0.1",
            "STUDIO_CHROMA_PORT": str(self.port),
            **extra,
        }

    def raw(self) -> Any:
        import chromadb

        return chromadb.HttpClient(host="127.0.0.1", port=self.port)


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[ChromaServer]:
    """A Chroma server of this test's own: the test may freeze, kill and restart it."""
    server = ChromaServer(tmp_path / "chroma")
    server.start()
    yield server
    server.stop()


@asynccontextmanager
async def running(workdir: Path, **env: str) -> AsyncIterator[RunningServer]:
    server = await anyio.to_thread.run_sync(lambda: start_http_server(workdir, **env))
    try:
        yield server
    finally:
        if server.proc.poll() is None:
            os.kill(server.proc.pid, signal.SIGCONT)  # in case the test froze it
        stop(server.proc)


def write_notes(workdir: Path, version: str) -> None:
    """FILES markdown files of SECTIONS chunks each; versions 'old' and 'new' chunk identically."""
    notes = workdir / "notes"
    notes.mkdir(exist_ok=True)
    for i in range(FILES):
        sections = [
            f"## Section {s}\n\nThe {version} rule {s} of note {i}: the harbour lamps burn amber at dusk, "
            f"and the {version} ferry keeps to the eastern channel."
            for s in range(SECTIONS)
        ]
        (notes / f"note-{i:02}.md").write_text(f"# Note {i}\n\n" + "\n\n".join(sections) + "\n")


def journal(data_dir: Path) -> list[tuple[str, str]]:
    """(source, owner) of every pending journal row, read as another process would."""
    with sqlite3.connect(data_dir / "state.sqlite3", timeout=10) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(style_pending)")}
        owner = "owner" if "owner" in columns else "''"
        return [(r[0], r[1]) for r in conn.execute(f"SELECT source, {owner} FROM style_pending")]


async def until_journal_rows(data_dir: Path, limit_s: float = 60.0) -> None:
    """Return as soon as an ingest has journaled its sources, i.e. is writing to Chroma."""
    with anyio.fail_after(limit_s):
        # Another process's table: there is no event to wait on.
        while not journal(data_dir):  # noqa: ASYNC110
            await anyio.sleep(0.003)


async def until_new_chunks(chroma: ChromaServer, kit: str, limit_s: float = 60.0) -> None:
    """Return once the kit holds more chunks than its old version: an ingest is part way through writing."""
    collection = chroma.raw().get_collection(f"studio-kit-{kit}")
    with anyio.fail_after(limit_s):
        while collection.count() <= FILES * SECTIONS:  # noqa: ASYNC110 - another process's writes
            await anyio.sleep(0.005)


def chunks_by_source(chroma: ChromaServer, kit: str) -> dict[str, list[tuple[str, str]]]:
    found = chroma.raw().get_collection(f"studio-kit-{kit}").get(include=["documents", "metadatas"])
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for id_, text, meta in zip(found["ids"], found["documents"], found["metadatas"], strict=True):
        out[str(meta["source"])].append((id_, text))
    return out


def versions(chunks: list[tuple[str, str]]) -> set[str]:
    return {"old" if " old rule " in text else "new" if " new rule " in text else "?" for _, text in chunks}


def whole(chunks: list[tuple[str, str]], old_ids: set[str]) -> str | None:
    """'old' or 'new' if the source holds exactly one whole version, else None (half-indexed)."""
    if {id_ for id_, _ in chunks} == old_ids:
        return "old"
    if versions(chunks) == {"new"} and len(chunks) == SECTIONS:
        return "new"
    return None


def text_of(result: CallToolResult) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content) + str(result.structured_content or "")


def clear_chroma_error(result: CallToolResult, chroma: ChromaServer) -> str:
    """The error text, checked to name Chroma and where it is: more than the SDK's bare "Error executing tool X"
    that an unexpected exception gets."""
    message = error_text(result)
    assert "Chroma" in message and chroma.address in message, message
    return message


# ---------------------------------------------------------------------------------------------


async def test_a_frozen_chroma_gets_clear_errors_in_time_and_starves_no_other_tool(
    chroma: ChromaServer, tmp_path: Path
) -> None:
    """45 concurrent style calls against a SIGSTOPped Chroma: each answers a clear error within a bounded
    time, and cost_estimate and production_get answer while those calls are still waiting."""
    env = chroma.env(STUDIO_CHROMA_TIMEOUT_S="3")
    async with running(make_workdir(tmp_path / "work"), **env) as server, server.client() as client:
        await call(client, "style_ingest", kit="frozen", text="The harbour fog is slate grey.", title="Fog")
        await call(client, "style_search", query="fog colour", kit="frozen")  # the embedder is loaded
        pid = await make_production(client, "Frozen Harbour", kit="frozen")
        frozen_calls: list[tuple[str, dict[str, Any]]] = [
            ("style_search", {"query": "fog colour", "kit": "frozen"}),
            ("style_search", {"query": "fog colour"}),
            ("style_kits", {}),
            ("style_ingest", {"kit": "frozen", "text": "The quay lamps are amber.", "title": "Lamps"}),
            ("style_remove", {"kit": "frozen", "source": "inline:Fog"}),
        ]
        results: dict[int, CallToolResult] = {}
        answered_before_estimate = -1

        async def frozen_call(i: int) -> None:
            tool, args = frozen_calls[i % len(frozen_calls)]
            results[i] = await client.call_tool(tool, args)

        chroma.freeze()
        try:
            with anyio.fail_after(90):  # the code before the fix never answers while Chroma is stopped
                async with anyio.create_task_group() as tasks:
                    for i in range(45):
                        tasks.start_soon(frozen_call, i)
                    await anyio.sleep(0.5)  # every call is in flight, waiting on Chroma
                    estimate = await call(client, "cost_estimate", model="veo-3.1-fast-generate-001", duration_s=8)
                    production = await call(client, "production_get", production=pid)
                    answered_before_estimate = len(results)
        finally:
            chroma.thaw()
        assert estimate["estimate_usd"] > 0 and production["id"] == pid
        assert answered_before_estimate < 45, "cost_estimate waited for the calls stuck on Chroma"
        assert len(results) == 45
        for result in results.values():
            message = clear_chroma_error(result, chroma)
            assert "did not answer" in message and "cost_estimate" in message, message
        # Chroma is back: the same server serves style calls again.
        hits = await call(client, "style_search", query="fog colour", kit="frozen")
        assert hits["hits"] and "slate grey" in hits["hits"][0]["text"]


async def test_chroma_killed_mid_ingest_is_settled_when_it_returns_without_a_restart(
    chroma: ChromaServer, tmp_path: Path
) -> None:
    """Chroma dies while an ingest writes; the ingest says what happened, and once Chroma is back the next
    call leaves every file wholly old or wholly new (before the fix: half-indexed until a restart)."""
    work = make_workdir(tmp_path / "work")
    write_notes(work, "old")
    # A long lease keeps the journal task out of the way: the next call itself must settle the write.
    env = chroma.env(STUDIO_INGEST_WRITE_BATCH="2", STUDIO_CHROMA_TIMEOUT_S="5", STUDIO_INGEST_LEASE_S="600")
    async with running(work, **env) as server, server.client() as client:
        await call(client, "style_ingest", kit="killed", paths=["notes"])
        old_ids = {s: {i for i, _ in c} for s, c in chunks_by_source(chroma, "killed").items()}
        assert len(old_ids) == FILES
        write_notes(work, "new")
        outcome: dict[str, CallToolResult] = {}

        async def ingest() -> None:
            outcome["result"] = await client.call_tool("style_ingest", {"kit": "killed", "paths": ["notes"]})

        with anyio.fail_after(120):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(ingest)
                await until_new_chunks(chroma, "killed")
                chroma.kill()
        chroma.start()  # same port, same data
        half = [s for s, c in chunks_by_source(chroma, "killed").items() if whole(c, old_ids[s]) is None]
        assert half, "the kill should have left some files half-written before they are settled"
        kits = await call(client, "style_kits")
        [info] = [k for k in kits["kits"] if k["kit"] == "killed"]
        assert info["chunks"] == FILES * SECTIONS
        assert journal(server.data_dir) == []
    after = chunks_by_source(chroma, "killed")
    assert set(after) == set(old_ids)
    states = {s: whole(c, old_ids[s]) for s, c in after.items()}
    assert None not in states.values(), {s: versions(c) for s, c in after.items() if states[s] is None}
    # And the failed ingest said what happened and what would follow.
    message = clear_chroma_error(outcome["result"], chroma)
    assert "rolled back" in message and "no restart" in message, message


async def test_a_starting_replica_leaves_a_live_replicas_ingest_alone(chroma: ChromaServer, tmp_path: Path) -> None:
    """Replica A is mid-ingest (frozen there with SIGSTOP) when replica B starts on the same data directory:
    B's start-up recovery must not touch A's journal, so A's ingest ends with every file wholly new."""
    work = make_workdir(tmp_path / "work")
    write_notes(work, "old")
    # A's own deadlines run on while it is frozen: a long timeout, or a slow start of B fails A's ingest.
    env = chroma.env(STUDIO_INGEST_WRITE_BATCH="1", STUDIO_INGEST_LEASE_S="120", STUDIO_CHROMA_TIMEOUT_S="120")
    async with running(work, **env) as a, a.client() as client_a:
        await call(client_a, "style_ingest", kit="replicas", paths=["notes"])
        write_notes(work, "new")
        outcome: dict[str, CallToolResult] = {}

        async def ingest() -> None:
            outcome["result"] = await client_a.call_tool("style_ingest", {"kit": "replicas", "paths": ["notes"]})

        with anyio.fail_after(180):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(ingest)
                await until_journal_rows(a.data_dir)
                os.kill(a.proc.pid, signal.SIGSTOP)
                try:
                    pending = journal(a.data_dir)
                    async with running(work, **env) as b, b.client() as client_b:
                        await call(client_b, "style_kits")  # B's first call: its start-up recovery
                        await call(client_b, "style_search", query="harbour lamps", kit="replicas")
                        assert journal(a.data_dir) == pending  # A's rows untouched
                finally:
                    os.kill(a.proc.pid, signal.SIGCONT)
        ingest_result = result_data(outcome["result"])
        assert {s["status"] for s in ingest_result["sources"]} == {"replaced"}
    after = chunks_by_source(chroma, "replicas")
    assert len(after) == FILES
    for source, chunks in after.items():
        assert versions(chunks) == {"new"} and len(chunks) == SECTIONS, (source, versions(chunks), len(chunks))


async def test_a_dead_owners_ingest_is_settled_by_a_running_replica_once_its_lease_expires(
    chroma: ChromaServer, tmp_path: Path
) -> None:
    """A replica is SIGKILLed (crash point) mid-ingest; another, already running and past its start-up,
    rolls the write back once the dead owner's lease runs out (before the fix: never, until a restart)."""
    work = make_workdir(tmp_path / "work")
    data = work / "studio-data"
    write_notes(work, "old")
    env = chroma.env(STUDIO_INGEST_LEASE_S="3")
    async with running(work, **env) as survivor, survivor.client() as client:
        await call(client, "style_ingest", kit="orphan", paths=["notes"])
        old_ids = {s: {i for i, _ in c} for s, c in chunks_by_source(chroma, "orphan").items()}
        write_notes(work, "new")
        crash = {**env, "STUDIO_TEST_CRASH_AT": "style.mid_upsert", "STUDIO_INGEST_WRITE_BATCH": "2"}
        with anyio.fail_after(120), pytest.raises(Exception):  # noqa: B017 - the replica dies mid-call
            async with Client(stdio_params(work, data, **crash)) as doomed:
                await doomed.call_tool("style_ingest", {"kit": "orphan", "paths": ["notes"]})
        assert journal(data), "the crash should have left journal rows"
        assert any(whole(c, old_ids[s]) is None for s, c in chunks_by_source(chroma, "orphan").items())
        with anyio.fail_after(60):
            while journal(data):
                await call(client, "style_kits")
                await anyio.sleep(0.5)
    after = chunks_by_source(chroma, "orphan")
    assert {s: whole(c, old_ids[s]) for s, c in after.items()} == {s: "old" for s in old_ids}


async def test_chroma_down_after_the_first_connection_names_chroma_in_every_tool(
    chroma: ChromaServer, tmp_path: Path
) -> None:
    """The six tools that reach Chroma say it is unreachable, where, and what still works."""
    work = make_workdir(tmp_path / "work")
    shots = [{"number": 1, "description": "The ferry slides out of the fog toward the quay.", "duration_s": 8}]
    async with running(work, **chroma.env()) as server, server.client() as client:
        await call(client, "style_ingest", kit="down", text="The harbour fog is slate grey.", title="Fog")
        pid = await make_production(client, "Down Harbour", kit="down", shots={"1": shots})
        grounded = await call(client, "prompt_build", production=pid, shot="1/1")
        assert "slate grey" in str(grounded)
        chroma.kill()
        failing: list[tuple[str, dict[str, Any]]] = [
            ("style_search", {"query": "fog colour"}),
            ("style_kits", {}),
            ("style_ingest", {"kit": "down", "text": "The quay lamps are amber.", "title": "Lamps"}),
            ("style_remove", {"kit": "down", "source": "inline:Fog"}),
        ]
        for tool, args in failing:
            message = clear_chroma_error(await client.call_tool(tool, args), chroma)
            assert "unreachable" in message and "cost_estimate" in message, (tool, message)
        # Prompts still build, without style passages, and say why.
        degraded: list[tuple[str, dict[str, Any]]] = [
            ("prompt_build", {"production": pid, "shot": "1/1"}),
            ("video_generate", {"production": pid, "shot": "1/1", "dry_run": True}),
        ]
        for tool, args in degraded:
            result = await client.call_tool(tool, args)
            text = text_of(result)
            assert not result.is_error, (tool, text)
            assert "Chroma" in text and chroma.address in text and "unreachable" in text, (tool, text)
        assert (await call(client, "cost_estimate", model="veo-3.1-fast-generate-001"))["estimate_usd"] > 0


async def test_a_chroma_frozen_before_the_first_connection_is_answered_in_time_everywhere(
    chroma: ChromaServer, tmp_path: Path
) -> None:
    """Chroma is SIGSTOPped before anything has connected to it. Building chromadb's client already makes
    requests (who am I, does the tenant exist), and chromadb gives them no timeout: before the fix a
    direct ChromaStore call and `studio-mcp doctor` never came back, and the first tool call left a thread
    blocked on the connection for as long as Chroma stayed frozen. Each must end in a clear error in time,
    and the same server must work as soon as Chroma resumes."""
    from core import Settings
    from tools.style import ChromaStore
    from tools.style.store import ChromaUnavailable

    timeout = "2"
    env = chroma.env(STUDIO_CHROMA_TIMEOUT_S=timeout)
    chroma.freeze()
    try:
        settings = Settings(
            chroma_mode="http",
            chroma_host="127.0.0.1",
            chroma_port=chroma.port,
            chroma_timeout_s=float(timeout),
            data_dir=tmp_path / "direct",
        )
        # Abandoned on cancel, so that the code before the fix fails this test instead of hanging it.
        with anyio.fail_after(30):
            outcome = await anyio.to_thread.run_sync(
                lambda: _raised(ChromaStore(settings).kits), abandon_on_cancel=True
            )
        assert isinstance(outcome, ChromaUnavailable), outcome
        assert chroma.address in str(outcome) and "did not answer" in str(outcome), outcome

        doctor = await anyio.to_thread.run_sync(
            lambda: subprocess.run(
                [str(BIN / "studio-mcp"), "doctor"],
                cwd=tmp_path,
                env=server_env(tmp_path / "doctor-data", **env, STUDIO_EMBEDDER="gemini"),
                capture_output=True,
                text=True,
                timeout=60,  # raises, failing the test, where doctor hangs
            )
        )
        [line] = [row for row in doctor.stdout.splitlines() if "chroma:" in row]
        assert doctor.returncode == 1 and line.startswith("[FAIL]") and chroma.address in line, doctor.stdout

        async with running(make_workdir(tmp_path / "work"), **env) as server, server.client() as client:
            for _ in range(2):  # the first call connects; the second finds the first one's attempt over
                with anyio.fail_after(30):
                    result = await client.call_tool("style_kits", {})
                message = clear_chroma_error(result, chroma)
                assert "did not answer" in message, message
            chroma.thaw()
            with anyio.fail_after(30):
                assert (await call(client, "style_kits"))["kits"] == []
    finally:
        chroma.thaw()


def _raised(fn: Any) -> BaseException | None:
    try:
        fn()
    except Exception as exc:
        return exc
    return None
