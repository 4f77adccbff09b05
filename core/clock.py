"""Timestamps as the state store keeps them: ISO 8601 in UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def now_iso(timespec: str = "milliseconds") -> str:
    return datetime.now(UTC).isoformat(timespec=timespec)


def iso_of(ts: float | None) -> str | None:
    """A Unix time as ISO 8601 (None stays None)."""
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")
