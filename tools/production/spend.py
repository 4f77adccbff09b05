"""Budget and spend: one row per paid job, committed when it is submitted, then spent or released.

The generation family estimates a job, calls `commit_spend` before submitting it (the budget is
checked in the same transaction, so two concurrent calls cannot both squeeze under it), then
`settle_spend` when the job finishes or `release_spend` when it fails or is cancelled. Every
transition is idempotent, so a retried poll or a resumed job never counts twice.
"""

from __future__ import annotations

import math

from core import NotFound, StudioError, Tx
from core import now_iso as now
from tools.production.base import ServiceBase
from tools.production.errors import BudgetExceeded, InvalidInput
from tools.production.models import Spend

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
        with self._tx(tx) as t:
            return self._spend(t, pid, self._budget(t, pid))

    def commit_spend(self, pid: str, job_id: str, estimate_usd: float, *, tx: Tx | None = None) -> Spend:
        """Reserve a job's estimate against the budget; committing the same job again changes nothing.

        The budget is checked in the same transaction, so two concurrent commits cannot both squeeze under it."""
        estimate = _amount("estimate_usd", estimate_usd)
        if not job_id:
            raise InvalidInput("commit_spend needs a job id.")
        with self._tx(tx) as t:
            row = t.execute("SELECT production FROM spend_entries WHERE job_id = ?", (job_id,)).fetchone()
            if row is not None:
                if row["production"] != pid:
                    raise StudioError(f"Job {job_id!r} is already charged to production {row['production']!r}.")
                return self._spend(t, pid, self._budget(t, pid))
            check_budget(pid, self._spend(t, pid, self._budget(t, pid)), estimate)
            t.execute(
                "INSERT INTO spend_entries "
                "(job_id, production, estimate_usd, actual_usd, status, updated_at) "
                "VALUES (?, ?, ?, NULL, 'committed', ?)",
                (job_id, pid, estimate, now()),
            )
            return self._spend(t, pid, self._budget(t, pid))

    def settle_spend(self, job_id: str, actual_usd: float | None = None, *, tx: Tx | None = None) -> None:
        """The job finished and is billed: committed (or released, if it completed anyway) -> spent."""
        actual = None if actual_usd is None else _amount("actual_usd", actual_usd)
        with self._tx(tx) as t:
            row = self._entry(t, job_id)
            if row["status"] == "spent" and (actual is None or row["actual_usd"] is not None):
                return
            t.execute(
                "UPDATE spend_entries SET status = 'spent', actual_usd = COALESCE(?, actual_usd), "
                "updated_at = ? WHERE job_id = ?",
                (actual, now(), job_id),
            )

    def release_spend(self, job_id: str, *, tx: Tx | None = None) -> None:
        """The job failed or was cancelled before billing: committed -> released. A spent job stays spent."""
        with self._tx(tx) as t:
            if self._entry(t, job_id)["status"] == "committed":
                t.execute(
                    "UPDATE spend_entries SET status = 'released', updated_at = ? WHERE job_id = ?",
                    (now(), job_id),
                )

    def held_estimate(self, pid: str, job_id: str, *, tx: Tx | None = None) -> float | None:
        """The committed estimate of a job of `pid`, or None when the job is not committed there."""
        with self._tx(tx) as t:
            row = t.execute(
                "SELECT estimate_usd FROM spend_entries WHERE job_id = ? AND production = ? AND status = 'committed'",
                (job_id, pid),
            ).fetchone()
        return None if row is None else float(row["estimate_usd"])

    def _entry(self, tx: Tx, job_id: str) -> dict[str, object]:
        row = tx.execute("SELECT * FROM spend_entries WHERE job_id = ?", (job_id,)).fetchone()
        if row is None:
            raise NotFound(f"No spend entry for job {job_id!r}: commit_spend it first.")
        return dict(row)

    def _budget(self, tx: Tx, pid: str) -> float | None:
        row = tx.execute(
            "SELECT budget_usd FROM brief_versions WHERE production = ? ORDER BY version DESC LIMIT 1", (pid,)
        ).fetchone()
        return None if row is None else row["budget_usd"]

    def _spend(self, tx: Tx, pid: str, budget: float | None) -> Spend:
        row = tx.execute(
            "SELECT COALESCE(SUM(CASE WHEN status = 'spent' THEN COALESCE(actual_usd, estimate_usd) END), 0) "
            "AS spent, "
            "COALESCE(SUM(CASE WHEN status = 'committed' THEN estimate_usd END), 0) AS committed "
            "FROM spend_entries WHERE production = ?",
            (pid,),
        ).fetchone()
        spent, committed = round(row["spent"], 6), round(row["committed"], 6)
        remaining = None if budget is None else round(budget - spent - committed, 6)
        return Spend(budget_usd=budget, spent_usd=spent, committed_usd=committed, remaining_usd=remaining)


def _amount(name: str, value: float) -> float:
    if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise InvalidInput(f"{name}={value!r} is not an amount: pass 0 or more US dollars.")
    return float(value)
