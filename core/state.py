"""The transactional state store: SQLite in the data directory (the default) or PostgreSQL.

Families declare their tables on `METADATA` with SQLAlchemy Core and write every query with its
expression language, so one body of code runs on both engines; `Tx.upsert` is the one statement
whose spelling differs, and SQLAlchemy writes both. Each family lists its `Migration`s; the store
applies each exactly once, in order, and records it in `schema_migrations` (ids are stable, so a
data directory made by an earlier release keeps working).

Write transactions are serialised, as SQLite's BEGIN IMMEDIATE serialises them: on PostgreSQL each
one first takes a transaction-scoped advisory lock. An invariant checked inside a transaction (the
budget, one live job per request digest) therefore holds across replicas exactly as it does in one
process; the transactions are short, so the lock costs little. Calls are synchronous: callers on the
event loop run them in a worker thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, RowMapping

from core.clock import now_iso
from core.errors import StudioError

METADATA = sa.MetaData()
"""Every family's tables, in one place so that foreign keys across families resolve."""

SCHEMA_MIGRATIONS = sa.Table(
    "schema_migrations",
    METADATA,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("applied_at", sa.Text, nullable=False),
)

# The advisory lock key every PostgreSQL write transaction takes (any constant; "studio" in ASCII).
_WRITE_LOCK = 0x73747564696F


class AppendOnly(BaseModel):
    """A table whose rows the database itself refuses to change or delete."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)
    table: sa.Table
    on_update: str  # the error message of an UPDATE
    on_delete: str  # the error message of a DELETE


class Migration(BaseModel):
    """One step of a family's schema: tables to create (as declared, with their indexes), columns to add
    to a table an earlier step created (skipped where the column exists, since a new database creates
    the table with it), and tables to make append-only."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)
    id: str  # unique and stable, e.g. "style-001-pending"
    tables: tuple[sa.Table, ...] = ()
    add_columns: tuple[sa.Column[Any], ...] = ()
    append_only: tuple[AppendOnly, ...] = ()


class StateUnavailable(StudioError):
    """The state store did not answer (PostgreSQL down or too slow)."""


class StateStore:
    def __init__(self, url: str, *, timeout_s: float = 30.0, pool_size: int = 5) -> None:
        """`url`: sqlite:///path/state.sqlite3 or postgresql://user:password@host:port/database."""
        self.url = sa.make_url(url)
        self.dialect = self.url.get_backend_name()
        # SQLite: one connection behind a lock, as there is one writer anyway. PostgreSQL: a pool.
        self._lock: AbstractContextManager[Any] = threading.RLock() if self.dialect == "sqlite" else nullcontext()
        self._in_transaction = threading.local()
        if self.dialect == "sqlite":
            path = Path(self.url.database or "")
            path.parent.mkdir(parents=True, exist_ok=True)
            self._engine = _sqlite_engine(path, timeout_s)
        elif self.dialect == "postgresql":
            self._engine = _postgresql_engine(self.url, timeout_s, pool_size)
        else:
            raise StudioError(
                f"STUDIO_STATE_URL names {self.dialect!r}: use postgresql://user:password@host:port/database, "
                "or leave it unset for SQLite in the data directory."
            )
        self._tracer: Callable[[str], None] | None = None
        sa.event.listen(self._engine, "before_cursor_execute", self._on_statement)

    @classmethod
    def sqlite(cls, path: Path) -> StateStore:
        return cls(f"sqlite:///{path}")

    @property
    def where(self) -> str:
        """The store's address with any password hidden, for messages and doctor."""
        if self.dialect == "sqlite":
            return str(self.url.database)
        return self.url.render_as_string(hide_password=True)

    def migrate(self, migrations: Sequence[Migration]) -> list[str]:
        """Apply the migrations not yet applied; returns their ids."""
        applied: list[str] = []
        with self.transaction() as tx:
            SCHEMA_MIGRATIONS.create(tx.connection, checkfirst=True)
            done = set(tx.scalars(sa.select(SCHEMA_MIGRATIONS.c.id)))
            for migration in migrations:
                if migration.id in done:
                    continue
                _apply(tx.connection, migration)
                tx.execute(sa.insert(SCHEMA_MIGRATIONS).values(id=migration.id, applied_at=now_iso()))
                applied.append(migration.id)
        return applied

    def pending(self, migrations: Sequence[Migration]) -> list[str]:
        """Ids of the migrations not applied yet (for doctor)."""
        with self.transaction(read_only=True) as tx:
            if not sa.inspect(tx.connection).has_table("schema_migrations"):
                return [m.id for m in migrations]
            done = set(tx.scalars(sa.select(SCHEMA_MIGRATIONS.c.id)))
        return [m.id for m in migrations if m.id not in done]

    @contextmanager
    def transaction(self, *, read_only: bool = False) -> Iterator[Tx]:
        """One atomic unit of work: committed on success, rolled back on any exception.

        `read_only` (PostgreSQL): a consistent snapshot that takes no write lock."""
        if getattr(self._in_transaction, "active", False):
            # SQLite would refuse the nested BEGIN and PostgreSQL would wait on its own write lock.
            raise RuntimeError("a state transaction was opened inside another on the same thread; use the outer Tx")
        with self._lock, self._connect(read_only) as conn:
            with conn.begin():
                if self.dialect == "postgresql" and not read_only:
                    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_WRITE_LOCK)))
                self._in_transaction.active = True
                try:
                    yield Tx(conn)
                finally:
                    self._in_transaction.active = False

    @contextmanager
    def _connect(self, read_only: bool) -> Iterator[sa.Connection]:
        try:
            conn = self._engine.connect()
        except (sa.exc.OperationalError, sa.exc.TimeoutError) as exc:
            raise self._unavailable(exc) from None
        try:
            if self.dialect == "postgresql" and read_only:
                conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            yield conn
        except sa.exc.OperationalError as exc:
            if self.dialect == "postgresql":
                raise self._unavailable(exc) from None
            raise
        finally:
            conn.close()

    def _unavailable(self, exc: Exception) -> StateUnavailable:
        cause = str(getattr(exc, "orig", exc)).strip().splitlines()
        return StateUnavailable(
            f"The state store ({self.where}) did not answer: {cause[0] if cause else type(exc).__name__}. "
            "Check that PostgreSQL is running and STUDIO_STATE_URL is right (studio-mcp doctor checks it); "
            "nothing was changed."
        )

    def rows(self, statement: sa.Executable) -> list[RowMapping]:
        with self.transaction(read_only=True) as tx:
            return tx.rows(statement)

    def row(self, statement: sa.Executable) -> RowMapping | None:
        with self.transaction(read_only=True) as tx:
            return tx.row(statement)

    def trace(self, callback: Callable[[str], None] | None) -> None:
        """Call `callback` with every SQL statement this store runs (None stops): for tests and debugging."""
        self._tracer = callback

    def _on_statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self._tracer is not None:
            self._tracer(statement)

    def close(self) -> None:
        with self._lock:
            self._engine.dispose()


class Tx:
    """The connection as seen inside a transaction (what `StateStore.transaction` yields)."""

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def execute(self, statement: sa.Executable, params: Sequence[Mapping[str, Any]] | None = None) -> CursorResult[Any]:
        """Run a statement; `params`, a list of rows, runs it once per row (executemany)."""
        return self.connection.execute(statement, list(params) if params is not None else None)

    def rows(self, statement: sa.Executable) -> list[RowMapping]:
        return list(self.connection.execute(statement).mappings())

    def row(self, statement: sa.Executable) -> RowMapping | None:
        return self.connection.execute(statement).mappings().first()

    def scalar(self, statement: sa.Executable) -> Any:
        return self.connection.execute(statement).scalar()

    def scalars(self, statement: sa.Executable) -> list[Any]:
        return list(self.connection.execute(statement).scalars())

    def upsert(
        self, table: sa.Table, values: Mapping[str, Any], *, key: Sequence[str], update: Sequence[str] | None = None
    ) -> CursorResult[Any]:
        """INSERT, or on a conflict over the columns `key`: UPDATE the columns `update` (default: every
        non-key column in `values`), or do nothing when `update` is empty."""
        dialect_insert = postgresql.insert if self.connection.dialect.name == "postgresql" else sqlite.insert
        statement = dialect_insert(table).values(**values)
        columns = [c for c in values if c not in key] if update is None else list(update)
        if not columns:
            return self.connection.execute(statement.on_conflict_do_nothing(index_elements=list(key)))
        return self.connection.execute(
            statement.on_conflict_do_update(index_elements=list(key), set_={c: statement.excluded[c] for c in columns})
        )


def _apply(conn: sa.Connection, migration: Migration) -> None:
    for table in migration.tables:
        table.create(conn)
    for column in migration.add_columns:
        table = column.table
        present = {c["name"] for c in sa.inspect(conn).get_columns(table.name)}
        if column.name not in present:
            ddl = sa.schema.CreateColumn(column).compile(dialect=conn.dialect)
            conn.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {ddl}"))
    for rule in migration.append_only:
        for statement in _append_only_ddl(conn.dialect.name, rule):
            conn.execute(sa.text(statement))


def _append_only_ddl(dialect: str, rule: AppendOnly) -> list[str]:
    """Triggers that abort an UPDATE or DELETE: the one piece of DDL each engine spells its own way."""
    name = rule.table.name
    events = [("UPDATE", _literal(rule.on_update)), ("DELETE", _literal(rule.on_delete))]
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {name}_no_{event.lower()} BEFORE {event} ON {name} "
            f"BEGIN SELECT RAISE(ABORT, {message}); END"
            for event, message in events
        ]
    # ERRCODE 23000 (integrity_constraint_violation), so both engines raise sa.exc.IntegrityError.
    statements = [
        "CREATE OR REPLACE FUNCTION studio_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION USING MESSAGE = TG_ARGV[0], ERRCODE = 'integrity_constraint_violation'; END $$"
    ]
    for event, message in events:
        statements.append(
            f"CREATE TRIGGER {name}_no_{event.lower()} BEFORE {event} ON {name} FOR EACH ROW "
            f"EXECUTE FUNCTION studio_append_only({message})"
        )
    return statements


def _literal(text: str) -> str:
    """`text` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _sqlite_engine(path: Path, timeout_s: float) -> sa.Engine:
    engine = sa.create_engine(
        f"sqlite+pysqlite:///{path}",
        poolclass=sa.pool.StaticPool,
        connect_args={"check_same_thread": False, "timeout": timeout_s},
    )

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy's recipe: the driver must not open transactions itself, so that "begin" below
        # can open one that takes the write lock at once (BEGIN IMMEDIATE).
        dbapi_connection.isolation_level = None
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _postgresql_engine(url: sa.URL, timeout_s: float, pool_size: int) -> sa.Engine:
    milliseconds = int(timeout_s * 1000)
    return sa.create_engine(
        url.set(drivername="postgresql+psycopg"),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=timeout_s,
        pool_pre_ping=True,
        connect_args={
            "connect_timeout": max(1, int(timeout_s)),
            # Every statement and lock wait has a bound, so a stuck server or a long lock gives an error.
            "options": f"-c statement_timeout={milliseconds} -c lock_timeout={milliseconds}",
        },
    )
