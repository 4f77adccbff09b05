"""The budget holds across replicas: two servers' services, each with its own state store on one
database, commit estimates at the same moment from several threads, and never overspend together.
Runs on SQLite and on PostgreSQL (where only the store's write lock keeps them apart)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from core import Settings
from core.context import StudioContext
from tools.production import BudgetExceeded, ProductionService
from tools.production.schema import MIGRATIONS, spend_entries

BUDGET_USD = 20.0
ESTIMATE_USD = 3.0  # 6 jobs fit ($18); a 7th would take the production to $21
THREADS_PER_REPLICA = 4


@pytest.fixture
def replicas(state_url: str, tmp_path: Path) -> Iterator[list[ProductionService]]:
    """Two replicas' production services on one state store, each with its own connections: on SQLite two
    processes on one disk share the data directory (where `state_url` points); on PostgreSQL each has its own."""
    if state_url.startswith("sqlite"):
        assert state_url == f"sqlite:///{tmp_path / 'state.sqlite3'}"
        settings = [Settings(data_dir=tmp_path, state_url=None) for _ in range(2)]
    else:
        settings = [Settings(data_dir=tmp_path / name, state_url=state_url) for name in ("a", "b")]
    contexts = [StudioContext(s) for s in settings]
    for context in contexts:  # one after the other: the second finds the migrations applied
        context.open_state(MIGRATIONS)
    yield [ProductionService(context) for context in contexts]
    for context in contexts:
        context.close_state()


def test_replicas_committing_at_once_never_overspend(replicas: list[ProductionService]) -> None:
    first, second = replicas
    pid = first.create("Budget Race", "race-kit", "Two replicas spend at once.", "tense", budget_usd=BUDGET_USD).id
    assert second.resolve(pid) == pid  # the other replica sees the production

    threads = [(replica, f"{r}-{n}") for r, replica in enumerate(replicas) for n in range(THREADS_PER_REPLICA)]
    start = threading.Barrier(len(threads))
    committed: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def spend_until_refused(service: ProductionService, name: str) -> None:
        start.wait()
        try:
            for i in range(100):
                job = f"{name}-job-{i}"
                try:
                    service.commit_spend(pid, job, ESTIMATE_USD)
                except BudgetExceeded:
                    return
                with lock:
                    committed.append(job)
        except BaseException as exc:  # reported by the test, not lost in the thread
            with lock:
                errors.append(exc)

    workers = [threading.Thread(target=spend_until_refused, args=thread) for thread in threads]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not any(worker.is_alive() for worker in workers), "a commit hung"
    assert not errors, errors

    fit = int(BUDGET_USD // ESTIMATE_USD)
    assert len(committed) == fit, committed
    for replica in replicas:
        spend = replica.spend(pid)
        assert spend.committed_usd == pytest.approx(fit * ESTIMATE_USD)
        assert spend.committed_usd <= BUDGET_USD
        assert spend.remaining_usd == pytest.approx(BUDGET_USD - fit * ESTIMATE_USD)
    entries = second.state.rows(sa.select(spend_entries.c.job_id).where(spend_entries.c.production == pid))
    assert sorted(r["job_id"] for r in entries) == sorted(committed)
    # Once full, the budget refuses the next job with the figures both replicas agree on.
    with pytest.raises(BudgetExceeded, match=r"committed \$18\.00"):
        first.commit_spend(pid, "late-job", ESTIMATE_USD)
