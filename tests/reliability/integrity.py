"""What must hold in a data directory after any workload, fault or crash (server stopped, or idle).

Each check returns the problems it found as sentences (empty: all is well), so a test can show
every broken invariant at once instead of the first.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections import Counter
from pathlib import Path

# A job in one of these has its estimate committed; a finished job has it spent or released.
SPEND_OF_JOB = {
    "submitting": "committed",
    "pending": "committed",
    "unknown_submission": "committed",
    "done": "spent",
    "failed": "released",
    "cancelled": "released",
}


def connect(data_dir: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(data_dir / "state.sqlite3", timeout=30)
    conn.row_factory = sqlite3.Row
    return conn


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r["name"] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def sqlite_problems(conn: sqlite3.Connection) -> list[str]:
    problems = []
    verdict = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    if verdict != ["ok"]:
        problems.append(f"PRAGMA integrity_check: {verdict[:10]}")
    broken = conn.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        problems.append(f"PRAGMA foreign_key_check: {[tuple(r) for r in broken[:10]]}")
    return problems


def job_problems(conn: sqlite3.Connection, *, settled: bool) -> list[str]:
    """Every video job's spend matches its status; with `settled`, no job is still submitting or pending."""
    if "video_jobs" not in _tables(conn):
        return []
    problems = []
    entries = {r["job_id"]: dict(r) for r in conn.execute("SELECT * FROM spend_entries")}
    for job in conn.execute("SELECT * FROM video_jobs"):
        jid, status = job["id"], job["status"]
        if settled and status in ("submitting", "pending"):
            problems.append(f"job {jid} is stuck {status} (operation {job['operation']!r})")
        if status == "pending" and not job["operation"]:
            problems.append(f"job {jid} is pending without an operation name")
        if status == "done" and not (job["asset"] or job["output_uri"]):
            problems.append(f"job {jid} is done without an asset or output uri")
        entry = entries.get(jid)
        if entry is None:
            problems.append(f"job {jid} ({status}) has no spend entry")
            continue
        if entry["production"] != job["production"]:
            problems.append(f"job {jid} is charged to {entry['production']!r}, not {job['production']!r}")
        if abs(entry["estimate_usd"] - job["estimate_usd"]) > 1e-9:
            problems.append(f"job {jid}: spend estimate {entry['estimate_usd']} != job estimate {job['estimate_usd']}")
        if entry["status"] != SPEND_OF_JOB[status]:
            problems.append(f"job {jid} is {status} but its spend is {entry['status']} (want {SPEND_OF_JOB[status]})")
    return problems


def image_spend_problems(conn: sqlite3.Connection) -> list[str]:
    """With no call in flight, an image's reservation is spent or released, never left committed.

    (A spent image need not have its own asset row: assets are content-addressed, so an image
    generated twice with the same bytes is one asset, billed twice.)"""
    if "spend_entries" not in _tables(conn):
        return []
    rows = conn.execute("SELECT job_id FROM spend_entries WHERE job_id LIKE 'img_%' AND status = 'committed'")
    return [f"image job {r['job_id']} is still committed with no call in flight" for r in rows]


def asset_problems(conn: sqlite3.Connection, data_dir: Path) -> list[str]:
    """Every asset row names a whole file whose bytes hash to its sha256."""
    if "assets" not in _tables(conn):
        return []
    problems = []
    for asset in conn.execute("SELECT id, sha256, bytes, path FROM assets"):
        path = Path(asset["path"])
        if not path.is_absolute():
            path = data_dir / path
        if not path.is_file():
            problems.append(f"asset {asset['id']}: file {path} is missing")
            continue
        data = path.read_bytes()
        if len(data) != asset["bytes"] or hashlib.sha256(data).hexdigest() != asset["sha256"]:
            problems.append(f"asset {asset['id']}: {path} does not match its recorded size and sha256")
    leftovers = [p.name for p in (data_dir / "media").glob(".incoming-*")] if (data_dir / "media").is_dir() else []
    if leftovers:
        problems.append(f"half-written media files left behind: {leftovers[:5]}")
    return problems


def journal_problems(conn: sqlite3.Connection) -> list[str]:
    """After a start (which recovers), no style source is still mid-write."""
    if "style_pending" not in _tables(conn):
        return []
    rows = conn.execute("SELECT kit, source FROM style_pending").fetchall()
    return [f"ingest journal still holds {r['kit']}/{r['source']}" for r in rows]


def chroma_problems(conn: sqlite3.Connection, data_dir: Path) -> list[str]:
    """The embedded Chroma agrees with the state (read with the server stopped): every kit collection says
    which embedder built it; every chunk's id is the one its kit, source and text give; each source is
    one whole version (one content hash, positions 0..n-1); and every review decision whose kit material
    the outbox marks written is in its kit exactly once, while none is left unwritten."""
    if not (data_dir / "chroma" / "chroma.sqlite3").is_file():
        return []
    import chromadb
    from chromadb.api.client import Client

    from tools.style.chunking import chunk_id
    from tools.style.store import COLLECTION_PREFIX

    problems: list[str] = []
    # What chromadb.PersistentClient builds, typed as the class whose close() releases the files
    # (a long test session opens many data directories).
    client = Client(
        settings=chromadb.Settings(
            is_persistent=True, persist_directory=str(data_dir / "chroma"), anonymized_telemetry=False
        )
    )
    try:
        sources_of: dict[str, Counter[str]] = {}
        for collection in client.list_collections():
            if not collection.name.startswith(COLLECTION_PREFIX):
                continue
            kit = collection.name.removeprefix(COLLECTION_PREFIX)
            meta = collection.metadata or {}
            if meta.get("kit") != kit or not meta.get("embedder"):
                problems.append(f"kit {kit}: collection metadata {meta} does not name the kit and its embedder")
            found = client.get_collection(collection.name, embedding_function=None).get(
                include=["documents", "metadatas"]
            )
            by_source: dict[str, list[tuple[str, str, dict[str, object]]]] = {}
            for id_, text, chunk in zip(found["ids"], found["documents"] or [], found["metadatas"] or [], strict=True):
                by_source.setdefault(str(chunk.get("source")), []).append((id_, text, dict(chunk)))
            sources_of[kit] = Counter({source: len(chunks) for source, chunks in by_source.items()})
            for source, chunks in by_source.items():
                wrong = [id_ for id_, text, _ in chunks if id_ != chunk_id(kit, source, text)]
                if wrong:
                    problems.append(f"kit {kit}: {source} holds chunks whose ids do not match their text: {wrong[:3]}")
                hashes = {str(c.get("source_hash")) for _, _, c in chunks}
                if len(hashes) > 1:
                    problems.append(f"kit {kit}: {source} is indexed at {len(hashes)} versions at once")
                positions = sorted(int(str(c.get("position", -1))) for _, _, c in chunks)
                if positions != list(range(len(chunks))):
                    problems.append(f"kit {kit}: {source} is half indexed (chunk positions {positions[:12]})")
    finally:
        client.close()
    if "review_kit_outbox" in _tables(conn):
        for row in conn.execute("SELECT decision, kit, title, written_at, last_error FROM review_kit_outbox"):
            where = f"decision {row['decision']}'s kit material ({row['kit']})"
            held = sources_of.get(row["kit"], Counter())[f"inline:{row['title']}"]
            if row["written_at"] is None:
                problems.append(f"{where} was never written: {row['last_error'] or 'not attempted'}")
            elif held == 0:
                problems.append(f"{where} is marked written but is not in the kit")
    return problems


def all_problems(data_dir: Path, *, settled: bool = True) -> list[str]:
    """Every invariant above, on a data directory whose server has stopped (or recovered and idles)."""
    conn = connect(data_dir)
    try:
        return [
            *sqlite_problems(conn),
            *job_problems(conn, settled=settled),
            *image_spend_problems(conn),
            *asset_problems(conn, data_dir),
            *journal_problems(conn),
            *chroma_problems(conn, data_dir),
        ]
    finally:
        conn.close()


def files_containing(root: Path, needles: list[str]) -> list[str]:
    """Files under `root` whose bytes contain any needle (as UTF-8): where a secret was written down."""
    raw = [n.encode() for n in needles if n]
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        hits = [n.decode() for n in raw if n in data]
        if hits:
            found.append(f"{path.relative_to(root)}: {hits}")
    return found
