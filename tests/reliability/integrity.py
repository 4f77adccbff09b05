"""What must hold in a data directory after any workload, fault or crash (server stopped, or idle).

Each check returns the problems it found as sentences (empty: all is well), so a test can show
every broken invariant at once instead of the first.
"""

from __future__ import annotations

import hashlib
import sqlite3
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
