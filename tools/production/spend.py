"""Budget and spend: one row per paid job, committed when it is submitted, then spent or released.

The generation family estimates a job, calls `commit_spend` before submitting it (the budget is
checked in the same transaction, so two concurrent calls cannot both squeeze under it), then
`settle_spend` when the job finishes or `release_spend` when it fails or is cancelled. Every
transition is idempotent, so a retried poll or a resumed job never counts twice.
"""

from __future__ import annotations

import math
from typing import Any

import sqlalchemy as sa

from core import NotFound, StudioError
from core import now_iso as now
from core.state import Tx
from tools.production.base import ServiceBase
from tools.production.errors import BudgetExceeded, InvalidInput
from tools.production.models import Spend
from tools.production.schema import brief_versions, spend_entries

_col = spend_entries.c

# Below a hundredth of a cent, a difference is rounding, not overspend.
EPSILON = 1e-6


def check_budget(pid: str, current: Spend, estimate_usd: float) -> None:
    """Raise BudgetExceeded, with the figures, if this estimate would take the production over budget."""
    estimate = _amount("estimate_usd", estimate_usd)
    if current.budget_usd is None:
        return
    total = current.spent_usd + current.committed_usd + estimate
    if total > current.budget_usd + EPSILON:
        raise BudgetExceeded(
            f"This would exceed the budget of production {pid!r}: budget ${current.budget_usd:.2f}, "
            f"spent ${current.spent_usd:.2f}, committed ${current.committed_usd:.2f} (pending jobs), "
            f"this estimate ${estimate:.2f}, shortfall ${total - current.budget_usd:.2f}. Lower the cost "
            "(shorter duration, fewer videos, a fast model, 720p, no audio), wait for or cancel pending "
            "jobs, or raise the budget with brief_amend(production, note, budget_usd=...)."
        )


class SpendLedger(ServiceBase):
    def spend(self, pid: str, *, tx: Tx | None = None) -> Spend:
        with self._tx(tx, read_only=True) as t:
            return self._spend(t, pid, self._budget(t, pid))

    def commit_spend(self, pid: str, job_id: str, estimate_usd: float, *, tx: Tx | None = None) -> Spend:
        """Reserve a job's estimate against the budget; committing the same job again changes nothing.

        The budget is checked in the same transaction, so two concurrent commits cannot both squeeze under it."""
        estimate = _amount("estimate_usd", estimate_usd)
        if not job_id:
            raise InvalidInput("commit_spend needs a job id.")
        with self._tx(tx) as t:
            charged = t.scalar(sa.select(_col.production).where(_col.job_id == job_id))
            if charged is not None:
                if charged != pid:
                    raise StudioError(f"Job {job_id!r} is already charged to production {charged!r}.")
                return self._spend(t, pid, self._budget(t, pid))
            check_budget(pid, self._spend(t, pid, self._budget(t, pid)), estimate)
            t.execute(
                sa.insert(spend_entries).values(
                    job_id=job_id,
                    production=pid,
                    estimate_usd=estimate,
                    actual_usd=None,
                    status="committed",
                    updated_at=now(),
                )
            )
            return self._spend(t, pid, self._budget(t, pid))

    def settle_spend(self, job_id: str, actual_usd: float | None = None, *, tx: Tx | None = None) -> None:
        """The job finished and is billed: committed (or released, if it completed anyway) -> spent."""
        actual = None if actual_usd is None else _amount("actual_usd", actual_usd)
        with self._tx(tx) as t:
            row = self._entry(t, job_id)
            if row["status"] == "spent" and (actual is None or row["actual_usd"] is not None):
                return
            values: dict[str, Any] = {"status": "spent", "updated_at": now()}
            if actual is not None:  # else the actual amount already recorded, if any, stays
                values["actual_usd"] = actual
            t.execute(sa.update(spend_entries).where(_col.job_id == job_id).values(values))

    def release_spend(self, job_id: str, *, tx: Tx | None = None) -> None:
        """The job failed or was cancelled before billing: committed -> released. A spent job stays spent."""
        with self._tx(tx) as t:
            if self._entry(t, job_id)["status"] == "committed":
                t.execute(
                    sa.update(spend_entries).where(_col.job_id == job_id).values(status="released", updated_at=now())
                )

    def held_estimate(self, pid: str, job_id: str, *, tx: Tx | None = None) -> float | None:
        """The committed estimate of a job of `pid`, or None when the job is not committed there."""
        with self._tx(tx, read_only=True) as t:
            estimate = t.scalar(
                sa.select(_col.estimate_usd).where(
                    _col.job_id == job_id, _col.production == pid, _col.status == "committed"
                )
            )
        return None if estimate is None else float(estimate)

    def _entry(self, tx: Tx, job_id: str) -> dict[str, object]:
        row = tx.row(sa.select(spend_entries).where(_col.job_id == job_id))
        if row is None:
            raise NotFound(f"No spend entry for job {job_id!r}: commit_spend it first.")
        return dict(row)

    def _budget(self, tx: Tx, pid: str) -> float | None:
        row = tx.row(
            sa.select(brief_versions.c.budget_usd)
            .where(brief_versions.c.production == pid)
            .order_by(brief_versions.c.version.desc())
            .limit(1)
        )
        return None if row is None else row["budget_usd"]

    def _spend(self, tx: Tx, pid: str, budget: float | None) -> Spend:
        spent_amount = sa.case((_col.status == "spent", sa.func.coalesce(_col.actual_usd, _col.estimate_usd)))
        committed_amount = sa.case((_col.status == "committed", _col.estimate_usd))
        row = tx.row(
            sa.select(
                sa.func.coalesce(sa.func.sum(spent_amount), 0.0).label("spent"),
                sa.func.coalesce(sa.func.sum(committed_amount), 0.0).label("committed"),
            ).where(_col.production == pid)
        )
        assert row is not None  # an aggregate always gives one row
        spent, committed = round(float(row["spent"]), 6), round(float(row["committed"]), 6)
        remaining = None if budget is None else round(budget - spent - committed, 6)
        return Spend(budget_usd=budget, spent_usd=spent, committed_usd=committed, remaining_usd=remaining)


def _amount(name: str, value: float) -> float:
    if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise InvalidInput(f"{name}={value!r} is not an amount: pass 0 or more US dollars.")
    return float(value)
