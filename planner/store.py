"""Versioned scenario store on any SQLAlchemy database (SQLite file by default).

Why it is long: one database schema with its migrations, the versioned save, load,
rename, delete and restore on it, and the checks that keep a damaged version from
loading; they change together.

Every save of a scenario is a new version row; its assumptions and results are never
updated in place, and nothing is erased, so no saved plan is ever lost. What a planner
may change afterwards is bookkeeping only: a name can be renamed (all its versions at
once), a version's note edited, and a name deleted *softly* (hidden from :meth:`Store.list`
until :meth:`Store.restore`). Each version also records who saved it (``saved_by``) and
which example it was started from (``started_from``). Any number of processes saving the same name
at the same time all keep their versions: a save takes the next number from the name's
counter row in ``scenario_names``, which the database locks until the save commits (an
``INSERT ... ON CONFLICT DO UPDATE`` upsert on PostgreSQL and SQLite, where SQLite's
``BEGIN IMMEDIATE`` also serialises writers), so versions come out 1, 2, 3, ... with no
gaps and no retries. A save runs in one transaction, so an interrupted save (exception,
killed process, lost connection) leaves the previous versions exactly as they were.

Errors are :class:`StoreError` subclasses with a one-line message and no SQL:
:class:`NotFoundError` (no such name/version), :class:`DamagedVersionError` (a saved
version cannot be read back; names the scenario and version), :class:`DeletedNameError`
(a save under a softly deleted name: restore it or choose another name) and
:class:`StoreUnavailableError` (the database cannot be reached, is busy or refused).

The schema belongs to the project: a ``schema_version`` table records which of the
ordered migration functions in ``MIGRATIONS`` have run, and :class:`Store` applies the
missing ones on first use (under a lock, so concurrent first use is safe).

Database location: the ``url`` argument, else the environment variable
``PEAK_PLANNER_DB_URL`` (any SQLAlchemy URL, e.g.
``postgresql+psycopg2://user@host/db``), else the SQLite file ``peak_planner.db``
in the working directory.

Examples
--------
>>> from planner.scenario import Scenario
>>> store = Store("sqlite://")              # in-memory database for the example
>>> store.save(Scenario(name="demo")).version, store.save(Scenario(name="demo")).version
(1, 2)
>>> list(store.list()["version"])
[2]
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from planner.results import (
    RESULT_TABLES,
    ScenarioResult,
    frame_from_parquet,
    frame_to_parquet,
)
from planner.scenario import Scenario, ScenarioError, check_text

__all__ = [
    "DB_URL_ENV",
    "DEFAULT_DB_FILE",
    "MAX_NOTE_CHARS",
    "MIGRATIONS",
    "DamagedVersionError",
    "DeletedNameError",
    "NotFoundError",
    "SavedVersion",
    "Store",
    "StoreError",
    "StoreUnavailableError",
    "default_url",
]

DB_URL_ENV = "PEAK_PLANNER_DB_URL"
DEFAULT_DB_FILE = "peak_planner.db"
_LOCK_KEY = 7_305_221_015  # PostgreSQL advisory lock id for migrations
_SAVE_ATTEMPTS = 5  # only databases without an upsert can race on a new name's first save
#: Longest note stored with a saved version, in characters.
MAX_NOTE_CHARS = 2_000


class StoreError(ValueError):
    """The store cannot do what was asked (bad URL, unreadable row, failed save)."""


class NotFoundError(StoreError):
    """No saved scenario with that name (and version)."""


class DeletedNameError(StoreError):
    """A save under a name that is softly deleted (its versions would come back unseen).

    ``name`` is the deleted name; :meth:`Store.restore` shows it again.
    """

    def __init__(self, name: str) -> None:
        super().__init__(f"{name!r} was deleted; restore it or choose another name "
                         "(its saved versions are kept)")
        self.name = name


class StoreUnavailableError(StoreError):
    """The database cannot be reached, stays busy, or refused the operation."""


class DamagedVersionError(StoreError):
    """A saved version cannot be read back (its scenario or a result table is corrupt).

    ``name`` and ``version`` identify the damaged version; other versions are unaffected.
    """

    def __init__(self, message: str, name: str, version: int) -> None:
        super().__init__(message)
        self.name, self.version = name, version


def _first_line(exc: BaseException, limit: int = 200) -> str:
    """The first line of a driver's error message (never the SQL or its parameters)."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().splitlines()
    line = text[0].strip() if text else type(exc).__name__
    return line if len(line) <= limit else line[: limit - 3] + "..."


@dataclass(frozen=True)
class SavedVersion:
    """Identity of one saved version: ``name``, ``version`` (1, 2, ...) and row ``id``."""

    name: str
    version: int
    id: int


def default_url() -> str:
    """The database URL in effect: ``$PEAK_PLANNER_DB_URL`` or ``sqlite:///peak_planner.db``."""
    return os.environ.get(DB_URL_ENV) or f"sqlite:///{DEFAULT_DB_FILE}"


# ---------------------------------------------------------------------------- schema
_meta = sa.MetaData()

schema_version = sa.Table(
    "schema_version",
    _meta,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("description", sa.String(200), nullable=False),
    sa.Column("applied_at", sa.DateTime, server_default=sa.func.current_timestamp()),
)


def _m1_scenarios(conn: Connection) -> None:
    """Version 1: scenarios (one row per saved version) and their result tables."""
    m = sa.MetaData()
    sa.Table(
        "scenarios",
        m,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("saved_at", sa.DateTime, server_default=sa.func.current_timestamp()),
        sa.Column("scenario_yaml", sa.Text, nullable=False),
        sa.Column("meta_json", sa.Text, nullable=False, server_default="{}"),
        sa.UniqueConstraint("name", "version", name="uq_scenarios_name_version"),
    )
    sa.Table(
        "result_tables",
        m,
        sa.Column(
            "scenario_id", sa.Integer, sa.ForeignKey("scenarios.id"), primary_key=True
        ),
        sa.Column("table_name", sa.String(40), primary_key=True),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    m.create_all(conn)


def _m2_note(conn: Connection) -> None:
    """Version 2: a free-text ``note`` per saved version (who/why)."""
    conn.execute(sa.text("ALTER TABLE scenarios ADD COLUMN note TEXT NOT NULL DEFAULT ''"))


def _m3_names(conn: Connection) -> None:
    """Version 3: one counter row per scenario name, locked by each save of that name."""
    m = sa.MetaData()
    sa.Table(
        "scenario_names",
        m,
        sa.Column("name", sa.String(120), primary_key=True),
        sa.Column("last_version", sa.Integer, nullable=False),
    )
    m.create_all(conn)
    conn.execute(
        sa.text(
            "INSERT INTO scenario_names (name, last_version) "
            "SELECT name, MAX(version) FROM scenarios GROUP BY name"
        )
    )


def _m4_bookkeeping(conn: Connection) -> None:
    """Version 4: ``saved_by`` and ``started_from`` per saved version, and a soft-delete
    mark (``deleted_at``) per scenario name."""
    for column in ("saved_by", "started_from"):
        conn.execute(sa.text(
            f"ALTER TABLE scenarios ADD COLUMN {column} VARCHAR(200) NOT NULL DEFAULT ''"))
    type_ = "TIMESTAMP" if conn.dialect.name == "postgresql" else "DATETIME"
    conn.execute(sa.text(f"ALTER TABLE scenario_names ADD COLUMN deleted_at {type_}"))


#: Ordered migrations: (schema version, description, function applying it).
MIGRATIONS: tuple[tuple[int, str, Callable[[Connection], None]], ...] = (
    (1, "scenarios and result tables", _m1_scenarios),
    (2, "note per saved version", _m2_note),
    (3, "version counter per scenario name", _m3_names),
    (4, "who saved, started from, soft delete", _m4_bookkeeping),
)

scenarios = sa.Table(
    "scenarios",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("saved_at", sa.DateTime),
    sa.Column("scenario_yaml", sa.Text, nullable=False),
    sa.Column("meta_json", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("saved_by", sa.String(200), nullable=False),
    sa.Column("started_from", sa.String(200), nullable=False),
)
scenario_names = sa.Table(
    "scenario_names",
    _meta,
    sa.Column("name", sa.String(120), primary_key=True),
    sa.Column("last_version", sa.Integer, nullable=False),
    sa.Column("deleted_at", sa.DateTime),
)
result_tables = sa.Table(
    "result_tables",
    _meta,
    sa.Column("scenario_id", sa.Integer, primary_key=True),
    sa.Column("table_name", sa.String(40), primary_key=True),
    sa.Column("format", sa.String(16), nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)


def _make_engine(url: str) -> Engine:
    try:
        engine = sa.create_engine(
            url,
            connect_args={"timeout": 60} if url.startswith("sqlite") else {},
        )
    except (sa.exc.ArgumentError, ImportError) as exc:
        shown = url.split("://", 1)[0] + "://..." if "://" in url else "(no scheme)"
        raise StoreError(f"database url {shown} is not usable: {_first_line(exc)}") from None
    if engine.dialect.name == "sqlite":
        # pysqlite starts transactions lazily and only before writes; begin them
        # ourselves (SQLAlchemy's documented recipe for SQLite transactions) and take
        # the write lock at BEGIN for writers, so a read-then-insert save is
        # serialised between processes while readers never block one another.
        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None
            dbapi_conn.execute("PRAGMA foreign_keys=ON")

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            write = conn.get_execution_options().get("write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


class Store:
    """Versioned store of scenarios and their results.

    Parameters
    ----------
    url : str, optional
        SQLAlchemy URL; default :func:`default_url`.
    upgrade : bool, default True
        Create or upgrade the schema on first use. With ``False`` an outdated schema
        raises :class:`StoreError` instead.
    target_version : int, optional
        Upgrade only up to this schema version (for testing upgrades).

    Raises
    ------
    StoreError
        When the URL is unusable, the database cannot be reached, or the schema is
        newer than this code knows.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        upgrade: bool = True,
        target_version: int | None = None,
    ) -> None:
        self.url = url or default_url()
        self.engine = _make_engine(self.url)
        self._writer = self.engine.execution_options(write=True)
        with self._guard("open"):
            if upgrade:
                self.migrate(target_version)
            current = self.schema_version()
        latest = MIGRATIONS[-1][0]
        if current > latest:
            raise StoreError(
                f"database {self._safe_url} has schema version {current}, newer than "
                f"this program's {latest}; upgrade the program"
            )
        if not upgrade and current < latest:
            raise StoreError(
                f"database {self._safe_url} has schema version {current} < {latest}; "
                "open it with upgrade=True"
            )

    @property
    def _safe_url(self) -> str:
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        """Turn a database error into a one-line :class:`StoreUnavailableError`."""
        try:
            yield
        except SQLAlchemyError as exc:
            raise StoreUnavailableError(
                f"database {self._safe_url}: cannot {what}: {_first_line(exc)}"
            ) from None

    def close(self) -> None:
        """Release pooled connections."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ schema
    def schema_version(self) -> int:
        """Highest applied migration (0 for an empty database)."""
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table("schema_version"):
                return 0
            v = conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar()
            return int(v or 0)

    def migrate(self, target_version: int | None = None) -> list[int]:
        """Apply the missing migrations in order, in one locked transaction.

        Returns the versions applied by this call (empty when up to date).
        """
        applied = []
        with self._writer.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
            schema_version.create(conn, checkfirst=True)
            current = conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar()
            current = int(current or 0)
            for version, description, apply in MIGRATIONS:
                if version <= current or (target_version and version > target_version):
                    continue
                apply(conn)
                conn.execute(
                    schema_version.insert().values(version=version, description=description)
                )
                applied.append(version)
        return applied

    # ------------------------------------------------------------------ writing
    def save(self, item: ScenarioResult | Scenario, note: str = "", *, saved_by: str = "",
             started_from: str = "") -> SavedVersion:
        """Save a scenario (and its results, when given a result) as a new version.

        The version number, the scenario row and all result tables are written in one
        transaction that holds the name's counter row, so concurrent saves of one name
        get consecutive versions and none is lost. ``saved_by`` (who) and
        ``started_from`` (the example the scenario began as) are kept with the version.
        A softly deleted name is not saved under: its old versions would come back
        unseen (restore it first, or choose another name).

        Raises
        ------
        ValueError
            When ``note`` is longer than ``MAX_NOTE_CHARS``, ``saved_by`` or
            ``started_from`` longer than 200 characters, or any has control characters.
        DeletedNameError
            When the scenario's name is softly deleted; nothing is written.
        StoreUnavailableError
            When the database cannot be reached or refuses the save; nothing of the
            failed save is left behind.
        """
        if isinstance(item, ScenarioResult):
            scenario, tables, meta_json = item.scenario, item.to_tables(), item.meta_json()
        elif isinstance(item, Scenario):
            scenario, tables, meta_json = item, {}, "{}"
        else:
            raise StoreError(f"save: expected ScenarioResult or Scenario, got {type(item)}")
        if not isinstance(note, str) or len(note) > MAX_NOTE_CHARS:
            raise ValueError(f"note must be text of at most {MAX_NOTE_CHARS} characters")
        check_text(note, "note", multiline=True)
        for label, text in (("saved_by", saved_by), ("started_from", started_from)):
            if not isinstance(text, str) or len(text) > 200:
                raise ValueError(f"{label} must be text of at most 200 characters")
            check_text(text, label)
        who = {"saved_by": saved_by, "started_from": started_from}
        yaml_text = scenario.to_yaml()
        with self._guard(f"save {scenario.name!r}"):
            for attempt in range(_SAVE_ATTEMPTS):
                try:
                    with self._writer.begin() as conn:
                        return self._insert(
                            conn, scenario.name, yaml_text, meta_json, note, tables, who
                        )
                except IntegrityError:  # a new name's first save raced (no upsert)
                    if attempt == _SAVE_ATTEMPTS - 1:
                        raise
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _insert(
        conn: Connection,
        name: str,
        yaml_text: str,
        meta_json: str,
        note: str,
        tables: dict[str, pd.DataFrame],
        who: dict[str, str] | None = None,
    ) -> SavedVersion:
        version = _next_version(conn, name)  # locks the name's row until commit
        gone = conn.execute(sa.select(scenario_names.c.deleted_at)
                            .where(scenario_names.c.name == name)).scalar()
        if gone is not None:  # rolls the transaction back: the counter is untouched
            raise DeletedNameError(name)
        row_id = conn.execute(
            scenarios.insert()
            .values(
                name=name,
                version=version,
                scenario_yaml=yaml_text,
                meta_json=meta_json,
                note=note,
                **(who or {}),
            )
            .returning(scenarios.c.id)
        ).scalar_one()
        for table_name, frame in tables.items():
            conn.execute(
                result_tables.insert().values(
                    scenario_id=row_id,
                    table_name=table_name,
                    format="parquet",
                    data=frame_to_parquet(frame),
                )
            )
        return SavedVersion(name=name, version=version, id=int(row_id))

    # ------------------------------------------------------------------ reading
    def list(self, all_versions: bool = False, deleted: bool = False) -> pd.DataFrame:
        """Saved scenarios: ``name, version, saved_at, note, has_results, saved_by,
        started_from, deleted``.

        By default only the latest version of each name; ``all_versions=True`` lists
        every version. Softly deleted names are left out, unless ``deleted=True``, which
        lists only them (for restoring). Sorted by name, then version.
        """
        has = (
            sa.select(result_tables.c.scenario_id)
            .where(result_tables.c.scenario_id == scenarios.c.id)
            .exists()
        )
        q = sa.select(
            scenarios.c.name,
            scenarios.c.version,
            scenarios.c.saved_at,
            scenarios.c.note,
            has.label("has_results"),
            scenarios.c.saved_by,
            scenarios.c.started_from,
            scenario_names.c.deleted_at,
        ).join(scenario_names, scenario_names.c.name == scenarios.c.name, isouter=True)
        gone = scenario_names.c.deleted_at.is_not(None)
        q = q.where(gone if deleted else scenario_names.c.deleted_at.is_(None))
        if not all_versions:
            latest = (
                sa.select(scenarios.c.name, sa.func.max(scenarios.c.version).label("v"))
                .group_by(scenarios.c.name)
                .subquery()
            )
            q = q.join(
                latest,
                sa.and_(latest.c.name == scenarios.c.name, latest.c.v == scenarios.c.version),
            )
        q = q.order_by(scenarios.c.name, scenarios.c.version)
        with self._guard("list the saved scenarios"), self.engine.connect() as conn:
            rows = conn.execute(q).all()
        out = pd.DataFrame(rows, columns=["name", "version", "saved_at", "note", "has_results",
                                          "saved_by", "started_from", "deleted_at"])
        out["has_results"] = out["has_results"].astype(bool)
        out["deleted"] = out.pop("deleted_at").notna()
        return out

    # ------------------------------------------------------------------ bookkeeping
    def _lock_name(self, conn: Connection, name: str) -> Any:
        """The counter row of ``name``, locked until commit (as a save locks it)."""
        conn.execute(scenario_names.update().where(scenario_names.c.name == name)
                     .values(last_version=scenario_names.c.last_version))
        row = conn.execute(sa.select(scenario_names).where(scenario_names.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"no saved scenario {name!r} in {self._safe_url}")
        return row

    def rename(self, name: str, new_name: str) -> None:
        """Give every saved version of ``name`` the name ``new_name``.

        Versions, notes and results stay as they are; a version loaded afterwards comes
        back with the new name. Runs in one transaction holding the name's counter row,
        so a save of ``name`` at the same moment lands either before (and is renamed)
        or after (as a new ``name``).

        Raises
        ------
        NotFoundError
            When ``name`` is not saved.
        StoreError
            When ``new_name`` is invalid or already saved (deleted names included).
        """
        try:  # validated like any scenario name
            new_name = Scenario().with_changes({"name": new_name}).name
        except ScenarioError as exc:
            reason = str(exc).splitlines()[-1].strip().removeprefix("name: ")
            raise StoreError(f"cannot rename {name!r}: the new name is refused: {reason}"
                             ) from None
        with self._guard(f"rename {name!r}"), self._writer.begin() as conn:
            self._lock_name(conn, name)
            if new_name == name:
                return
            taken = conn.execute(sa.select(scenario_names.c.name, scenario_names.c.deleted_at)
                                 .where(scenario_names.c.name == new_name)).first()
            if taken is not None or conn.execute(
                    sa.select(scenarios.c.id).where(scenarios.c.name == new_name)).first():
                gone = " (deleted; restore it or pick another name)" if (
                    taken is not None and taken.deleted_at is not None) else ""
                raise StoreError(f"cannot rename {name!r}: {new_name!r} is already saved{gone}")
            conn.execute(scenario_names.update().where(scenario_names.c.name == name)
                         .values(name=new_name))
            conn.execute(scenarios.update().where(scenarios.c.name == name)
                         .values(name=new_name))

    def delete(self, name: str) -> None:
        """Hide ``name`` (all versions) from :meth:`list`; nothing is erased, and
        :meth:`restore` shows it again. Raises :class:`NotFoundError` when not saved."""
        with self._guard(f"delete {name!r}"), self._writer.begin() as conn:
            self._lock_name(conn, name)
            conn.execute(scenario_names.update().where(scenario_names.c.name == name)
                         .values(deleted_at=sa.func.current_timestamp()))

    def restore(self, name: str) -> None:
        """Undo :meth:`delete` of ``name``. Raises :class:`NotFoundError` when not saved."""
        with self._guard(f"restore {name!r}"), self._writer.begin() as conn:
            self._lock_name(conn, name)
            conn.execute(scenario_names.update().where(scenario_names.c.name == name)
                         .values(deleted_at=None))

    def annotate(self, name: str, version: int | None, note: str) -> None:
        """Replace the note of a saved version (latest when ``version`` is None).

        Raises
        ------
        NotFoundError
            When no such name/version is saved.
        ValueError
            When ``note`` is longer than ``MAX_NOTE_CHARS`` or has control characters.
        """
        if not isinstance(note, str) or len(note) > MAX_NOTE_CHARS:
            raise ValueError(f"note must be text of at most {MAX_NOTE_CHARS} characters")
        check_text(note, "note", multiline=True)
        with self._guard(f"annotate {name!r}"), self._writer.begin() as conn:
            self._lock_name(conn, name)
            row = self._row(conn, name, version)
            conn.execute(scenarios.update().where(scenarios.c.id == row.id).values(note=note))

    def versions(self, name: str) -> list[int]:
        """All saved version numbers of ``name``, ascending (empty if none)."""
        with self._guard(f"list the versions of {name!r}"), self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(scenarios.c.version)
                .where(scenarios.c.name == name)
                .order_by(scenarios.c.version)
            ).all()
        return [int(r[0]) for r in rows]

    def _row(self, conn: Connection, name: str, version: int | None) -> Any:
        q = sa.select(scenarios).where(scenarios.c.name == name)
        if version is None:
            q = q.order_by(scenarios.c.version.desc()).limit(1)
        else:
            q = q.where(scenarios.c.version == int(version))
        row = conn.execute(q).first()
        if row is None:
            which = f"{name!r}" if version is None else f"{name!r} version {version}"
            raise NotFoundError(f"no saved scenario {which} in {self._safe_url}")
        return row

    def _damaged(self, row: Any, what: str, exc: BaseException) -> DamagedVersionError:
        detail = " ".join(str(exc).split())
        detail = detail if len(detail) <= 120 else detail[:117] + "..."
        return DamagedVersionError(
            f"saved scenario {row.name!r} version {row.version} is damaged ({what}: "
            f"{detail}); open another version (list them with 'list --all') or run the "
            f"scenario again and save it as a new version",
            row.name,
            int(row.version),
        )

    def _scenario(self, row: Any) -> Scenario:
        try:
            scenario = Scenario.from_yaml(
                row.scenario_yaml, source=f"saved {row.name!r} v{row.version}"
            )
            if scenario.name != row.name:  # renamed after it was saved
                scenario = scenario.with_changes({"name": row.name})
            return scenario
        except ValueError as exc:
            raise self._damaged(row, "its scenario does not validate", exc) from None

    def load_scenario(self, name: str, version: int | None = None) -> Scenario:
        """The saved assumptions of ``name`` (latest version by default).

        Raises
        ------
        NotFoundError
            When no such name/version is saved.
        """
        with self._guard(f"load {name!r}"), self.engine.connect() as conn:
            row = self._row(conn, name, version)
        return self._scenario(row)

    def load(self, name: str, version: int | None = None) -> ScenarioResult:
        """The saved scenario and its results (latest version by default).

        ``meta`` of the returned result gains ``version``, ``saved_at`` and ``note``.
        A version saved without results comes back with empty frames.

        Raises
        ------
        NotFoundError
            When no such name/version is saved.
        """
        with self._guard(f"load {name!r}"), self.engine.connect() as conn:
            row = self._row(conn, name, version)
            blobs = conn.execute(
                sa.select(result_tables.c.table_name, result_tables.c.data).where(
                    result_tables.c.scenario_id == row.id
                )
            ).all()
        scenario = self._scenario(row)
        tables = {}
        for table, blob in blobs:
            if table not in RESULT_TABLES:
                continue
            try:
                tables[table] = frame_from_parquet(bytes(blob))
            except Exception as exc:  # noqa: BLE001 - any reader error means a damaged blob
                raise self._damaged(row, f"result table {table!r} cannot be read", exc) from None
        try:
            meta = json.loads(row.meta_json or "{}")
            if not isinstance(meta, dict):
                raise ValueError(f"expected a JSON object, got {type(meta).__name__}")
            meta.update(
                version=int(row.version),
                saved_at=None if row.saved_at is None else str(row.saved_at),
                note=row.note,
                saved_by=row.saved_by,
                started_from=row.started_from,
            )
            return ScenarioResult.from_tables(scenario, tables, meta)
        except ValueError as exc:
            raise self._damaged(row, "its results do not fit together", exc) from None


def _next_version(conn: Connection, name: str) -> int:
    """Take the next version number of ``name``, locking its counter row until commit.

    PostgreSQL and SQLite: one upsert that inserts the counter at 1 or increments it;
    the row stays locked by this transaction, so a concurrent save of the same name
    waits and then reads the incremented counter. Other databases: an ``UPDATE`` (which
    locks the row) or, for a new name, an ``INSERT`` that may lose a race to another
    first save (an ``IntegrityError``; the caller retries). A version saved around the
    counter (e.g. by hand) is never reused: the number is at least the highest + 1.
    """
    dialect = conn.dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(scenario_names).values(name=name, last_version=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=[scenario_names.c.name],
            set_={"last_version": scenario_names.c.last_version + 1},
        ).returning(scenario_names.c.last_version)
        counter = int(conn.execute(stmt).scalar_one())
    else:
        updated = conn.execute(
            scenario_names.update()
            .where(scenario_names.c.name == name)
            .values(last_version=scenario_names.c.last_version + 1)
        )
        if updated.rowcount == 0:
            conn.execute(scenario_names.insert().values(name=name, last_version=1))
        counter = int(
            conn.execute(
                sa.select(scenario_names.c.last_version).where(scenario_names.c.name == name)
            ).scalar_one()
        )
    highest = conn.execute(
        sa.select(sa.func.max(scenarios.c.version)).where(scenarios.c.name == name)
    ).scalar()
    version = max(counter, int(highest or 0) + 1)
    if version != counter:
        conn.execute(
            scenario_names.update()
            .where(scenario_names.c.name == name)
            .values(last_version=version)
        )
    return version
