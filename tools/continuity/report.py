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
import sqlalchemy as sa

from core import StudioError
from core import now_iso as now
from core.context import StudioContext
from core.state import StateStore, Tx
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
from tools.continuity.schema import continuity_findings

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
            with self._context.state.transaction(read_only=True) as tx:
                found = _all(tx, pid)
            return [
                f
                for f in found
                if not f.resolved and (f.asset == asset or (shot is not None and f.shot == shot and f.asset is None))
            ]

        return await anyio.to_thread.run_sync(read)

    async def report(self, pid: str) -> ContinuityReport:
        def read() -> list[StoredFinding]:
            with self._context.state.transaction(read_only=True) as tx:
                return _all(tx, pid)

        return build_report(pid, await anyio.to_thread.run_sync(read))


def _is(column: sa.Column[Any], value: str | None) -> sa.ColumnElement[bool]:
    """`column` equals `value`, where None matches NULL (SQL's `=` never does)."""
    return column.is_(None) if value is None else column == value


def _record(
    state: StateStore, pid: str, items: list[FindingIn], source: str, shot: str | None, asset: str | None
) -> list[StoredFinding]:
    at = now()
    findings = continuity_findings.c
    target = sa.and_(
        findings.production == pid,
        findings.source == source,
        _is(findings.shot, shot),
        _is(findings.asset, asset),
        findings.resolved == 0,
    )
    with state.transaction() as tx:
        open_rows = tx.rows(sa.select(continuity_findings).where(target).order_by(findings.id))
        open_by_key: dict[tuple[Any, ...], int] = {_identity(r): r["id"] for r in open_rows}
        keep: set[int] = set()
        for item in items:
            key = _identity(item.model_dump())
            if key in open_by_key:
                keep.add(open_by_key[key])
                continue
            new_id = int(
                tx.scalar(
                    sa.insert(continuity_findings)
                    .values(
                        production=pid,
                        shot=shot,
                        asset=asset,
                        source=source,
                        severity=item.severity,
                        rule=item.rule,
                        entity=item.entity,
                        expected=item.expected,
                        found=item.found,
                        evidence=item.evidence,
                        suggestion=item.suggestion,
                        time_s=item.time_s,
                        created_at=at,
                    )
                    .returning(findings.id)
                )
            )
            keep.add(new_id)
            open_by_key[key] = new_id
        for row in open_rows:
            if row["id"] not in keep:
                tx.execute(
                    sa.update(continuity_findings)
                    .where(findings.id == row["id"])
                    .values(resolved=1, resolved_note="not found by a later check", resolved_at=at)
                )
        rows = tx.rows(sa.select(continuity_findings).where(target).order_by(findings.id))
    return [_stored(r) for r in rows]


def _all(tx: Tx, pid: str) -> list[StoredFinding]:
    findings = continuity_findings.c
    rows = tx.rows(sa.select(continuity_findings).where(findings.production == pid).order_by(findings.id))
    return [_stored(r) for r in rows]


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
