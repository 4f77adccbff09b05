"""Findings from every check (preflight, media, gemini) in one table, and the report over them.

A check reports everything it finds for one target (a shot, an asset) at once: findings it
found before and finds again stay as they are, new ones are added, and open ones it no longer
finds are marked resolved ('not found by a later check'). So re-running a check never
duplicates, and the report shows what was fixed.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import anyio

from core import Migration, StateStore, StudioContext, StudioError, Tx
from core import now_iso as now
from tools.continuity.models import (
    SEVERITY_ORDER,
    ContinuityReport,
    FindingIn,
    FindingSource,
    ReportCounts,
    ShotSummary,
    StoredFinding,
    shot_key,
)

MIGRATIONS = [
    Migration(
        id="continuity-002-findings",
        sql="""
        CREATE TABLE continuity_findings (
            id INTEGER PRIMARY KEY AUTOINCREMENT, production TEXT NOT NULL, shot TEXT, asset TEXT,
            source TEXT NOT NULL CHECK (source IN ('preflight', 'media', 'gemini')),
            severity TEXT NOT NULL CHECK (severity IN ('error', 'warning', 'info')),
            rule TEXT NOT NULL, entity TEXT, expected TEXT, found TEXT, evidence TEXT, suggestion TEXT, time_s REAL,
            resolved INTEGER NOT NULL DEFAULT 0, resolved_note TEXT, resolved_at TEXT, created_at TEXT NOT NULL);
        CREATE INDEX continuity_findings_target ON continuity_findings (production, shot, asset, source);
        """,
    ),
]
_IDENTITY = ("severity", "rule", "entity", "expected", "found", "time_s")


def _identity(row: Any) -> tuple[Any, ...]:
    values = [row[k] for k in _IDENTITY]
    if values[-1] is not None:
        values[-1] = round(float(values[-1]), 2)
    return tuple(values)


def _stored(row: Any) -> StoredFinding:
    return StoredFinding(
        id=row["id"],
        production=row["production"],
        shot=row["shot"],
        asset=row["asset"],
        source=row["source"],
        severity=row["severity"],
        rule=row["rule"],
        entity=row["entity"],
        expected=row["expected"],
        found=row["found"],
        evidence=row["evidence"],
        suggestion=row["suggestion"],
        time_s=row["time_s"],
        resolved=bool(row["resolved"]),
        resolved_note=row["resolved_note"],
        created_at=row["created_at"],
    )


class FindingStore:
    """Every check's findings, per production (`pid`: an id already resolved)."""

    def __init__(self, context: StudioContext) -> None:
        self._context = context

    async def record(
        self,
        pid: str,
        findings: Sequence[FindingIn],
        *,
        source: FindingSource,
        shot: str | None = None,
        asset: str | None = None,
    ) -> list[StoredFinding]:
        """Store one check's complete findings for a target (shot and/or asset); returns the open findings
        of that target and source after this check. Call it even with no findings: that resolves old ones."""
        if source not in ("preflight", "media", "gemini"):
            raise StudioError(f"Unknown finding source {source!r}: use 'preflight', 'media' or 'gemini'.")
        if shot is None and asset is None:
            raise StudioError("A finding needs a target: pass shot='<scene>/<number>' and/or asset='a_...'.")
        items = [FindingIn.model_validate(f) for f in findings]
        return await anyio.to_thread.run_sync(
            functools.partial(_record, self._context.state, pid, items, source, shot, asset)
        )

    async def open_for(self, pid: str, *, asset: str, shot: str | None) -> list[StoredFinding]:
        """Open findings of an asset, and of its shot's text (preflight), as a reviewer should see them."""

        def read() -> list[StoredFinding]:
            with self._context.state.transaction() as tx:
                found = _all(tx, pid)
            return [
                f
                for f in found
                if not f.resolved and (f.asset == asset or (shot is not None and f.shot == shot and f.asset is None))
            ]

        return await anyio.to_thread.run_sync(read)

    async def report(self, pid: str) -> ContinuityReport:
        def read() -> list[StoredFinding]:
            with self._context.state.transaction() as tx:
                return _all(tx, pid)

        return build_report(pid, await anyio.to_thread.run_sync(read))


def _record(
    state: StateStore, pid: str, items: list[FindingIn], source: str, shot: str | None, asset: str | None
) -> list[StoredFinding]:
    at = now()
    with state.transaction() as tx:
        where = "production = ? AND source = ? AND shot IS ? AND asset IS ?"
        args = (pid, source, shot, asset)
        open_rows = tx.execute(f"SELECT * FROM continuity_findings WHERE {where} AND resolved = 0", args).fetchall()
        open_by_key = {_identity(r): r for r in open_rows}
        keep: set[int] = set()
        for item in items:
            data = item.model_dump()
            key = _identity(data)
            if key in open_by_key:
                keep.add(open_by_key[key]["id"])
                continue
            cur = tx.execute(
                "INSERT INTO continuity_findings (production, shot, asset, source, severity, rule, entity, expected, "
                "found, evidence, suggestion, time_s, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    pid,
                    shot,
                    asset,
                    source,
                    item.severity,
                    item.rule,
                    item.entity,
                    item.expected,
                    item.found,
                    item.evidence,
                    item.suggestion,
                    item.time_s,
                    at,
                ),
            )
            keep.add(int(cur.lastrowid or 0))
            open_by_key[key] = {"id": cur.lastrowid}
        for row in open_rows:
            if row["id"] not in keep:
                tx.execute(
                    "UPDATE continuity_findings SET resolved = 1, resolved_note = ?, resolved_at = ? WHERE id = ?",
                    ("not found by a later check", at, row["id"]),
                )
        rows = tx.execute(
            f"SELECT * FROM continuity_findings WHERE {where} AND resolved = 0 ORDER BY id", args
        ).fetchall()
    return [_stored(r) for r in rows]


def _all(tx: Tx, pid: str) -> list[StoredFinding]:
    return [_stored(r) for r in tx.execute("SELECT * FROM continuity_findings WHERE production = ?", (pid,))]


def build_report(pid: str, findings: list[StoredFinding]) -> ContinuityReport:
    findings.sort(key=lambda f: (shot_key(f.shot), f.resolved, SEVERITY_ORDER[f.severity], f.time_s or 0.0, f.id))
    open_ = [f for f in findings if not f.resolved]
    counts = ReportCounts(
        total=len(findings),
        open=len(open_),
        resolved=len(findings) - len(open_),
        errors=sum(f.severity == "error" for f in open_),
        warnings=sum(f.severity == "warning" for f in open_),
        info=sum(f.severity == "info" for f in open_),
    )
    shots: dict[str | None, ShotSummary] = {}
    for f in findings:
        s = shots.setdefault(f.shot, ShotSummary(shot=f.shot, open_errors=0, open_warnings=0, resolved=0))
        if f.resolved:
            s.resolved += 1
        elif f.severity == "error":
            s.open_errors += 1
        elif f.severity == "warning":
            s.open_warnings += 1
    return ContinuityReport(production=pid, counts=counts, shots=list(shots.values()), findings=findings)
