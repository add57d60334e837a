"""Versioned store: versions, concurrent writers, interrupted saves, migrations.

Every test runs against SQLite and, when Debian's PostgreSQL server binaries are
installed (or ``PEAK_PLANNER_TEST_PG_URL`` names a server), against a throwaway local
PostgreSQL server started for this module. The expected numbers are counted by hand
from the operations each test performs (n saves -> versions 1..n).
"""

from __future__ import annotations

import glob
import multiprocessing as mp
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from planner import store as store_mod
from planner.results import ScenarioResult
from planner.scenario import Scenario
from planner.store import DB_URL_ENV, NotFoundError, Store, StoreError

# ----------------------------------------------------------------- PostgreSQL server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def pg_server():
    """URL of a throwaway PostgreSQL server (unix socket only), or skip."""
    given = os.environ.get("PEAK_PLANNER_TEST_PG_URL")
    if given:
        yield given
        return
    initdbs = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not initdbs:
        pytest.skip("PostgreSQL server binaries not installed (Debian package 'postgresql')")
    bindir = os.path.dirname(initdbs[-1])
    root = tempfile.mkdtemp(prefix="pp-pg-")
    prefix: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root: run the server as 'postgres'
        user = "postgres"
        try:
            shutil.chown(root, user=user, group=None)
        except LookupError:
            user = "nobody"
            shutil.chown(root, user=user)
        prefix = ["runuser", "-u", user, "--"]
    data, port = os.path.join(root, "data"), _free_port()
    log = os.path.join(root, "server.log")
    try:
        subprocess.run(
            [*prefix, f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres",
             "--no-sync", "-E", "UTF8"],
            check=True, capture_output=True, timeout=120,
        )
        subprocess.run(
            [*prefix, f"{bindir}/pg_ctl", "-D", data, "-l", log, "-w", "-t", "60", "-o",
             f"-p {port} -k {root} -c listen_addresses='' -c fsync=off", "start"],
            check=True, capture_output=True, timeout=120,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"could not start a local PostgreSQL server: {exc}")
    try:
        yield f"postgresql+psycopg2://postgres@/postgres?host={root}&port={port}"
    finally:
        subprocess.run(
            [*prefix, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"],
            capture_output=True, timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """A fresh, empty database per test."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    server = request.getfixturevalue("pg_server")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = sa.engine.make_url(server).set(database=name)
    return url.render_as_string(hide_password=False)


# ----------------------------------------------------------------- helpers


def _result(name: str, k: int) -> ScenarioResult:
    """A small result whose numbers identify ``k``."""
    days = pd.date_range("2024-11-01", periods=3, freq="D")
    daily = pd.DataFrame(
        {
            "date": np.repeat(days, 2),
            "channel": ["chat", "voice"] * 3,
            "service_level": [0.8, np.nan, 0.5, 0.9, 0.1, 1.0],
            "paid_hours": np.arange(6, dtype=float) + 100 * k,
        }
    )
    plan = pd.DataFrame(
        {
            "date": days[:1].repeat(2),
            "channel": ["chat", "voice"],
            "shift_start": pd.to_datetime(["2024-11-01 08:00", "2024-11-01 09:30"]),
            "shift_end": pd.to_datetime(["2024-11-01 16:00", "2024-11-01 17:30"]),
            "break_start": pd.to_datetime(["2024-11-01 12:00", "2024-11-01 13:00"]),
            "agents": np.array([k, k + 1], dtype=np.int64),
        }
    )
    return ScenarioResult(
        Scenario(name=name, order_growth=k / 100),
        kpis_daily=daily,
        shift_plan=plan,
        meta={"k": k, "status": "OPTIMAL"},
    )


def _save_many(url: str, name: str, tag: str, n: int, barrier) -> None:
    store = Store(url)
    barrier.wait()
    for j in range(n):
        store.save(Scenario(name=name), note=f"{tag}-{j}")
    store.close()


def _open_store(url: str, barrier) -> None:
    barrier.wait()
    Store(url).close()


def _save_and_hang(url: str, started) -> None:
    """Start a save, then hang inside its transaction until killed."""
    calls = []

    def hang(frame):
        calls.append(1)
        if len(calls) == 2:  # scenario row and first table already inserted
            started.set()
            signal.pause()
        return original(frame)

    original = store_mod.frame_to_parquet
    store_mod.frame_to_parquet = hang
    Store(url).save(_result("plan", 2))


# ----------------------------------------------------------------- tests


def test_every_save_is_a_new_version_and_round_trips(db_url):
    store = Store(db_url)
    for k in (1, 2, 3):
        assert store.save(_result("plan", k)).version == k
    store.save(_result("other", 7), note="second plan")

    assert store.versions("plan") == [1, 2, 3]
    latest = store.list()
    assert list(latest["name"]) == ["other", "plan"]
    assert list(latest["version"]) == [1, 3]
    assert len(store.list(all_versions=True)) == 4

    for k in (1, 2, 3):
        got = store.load("plan", k)
        want = _result("plan", k)
        assert got.scenario == want.scenario
        pd.testing.assert_frame_equal(got.kpis_daily, want.kpis_daily, check_freq=False)
        pd.testing.assert_frame_equal(got.shift_plan, want.shift_plan, check_freq=False)
        assert got.meta["k"] == k and got.meta["version"] == k
    assert store.load("plan").meta["k"] == 3  # latest by default
    assert store.load("other").meta["note"] == "second plan"
    assert store.load_scenario("plan", 2).order_growth == 0.02

    with pytest.raises(NotFoundError, match="'nope'"):
        store.load("nope")
    with pytest.raises(NotFoundError, match="version 9"):
        store.load("plan", 9)
    store.close()


def test_scenario_without_results_is_saved_with_empty_tables(db_url):
    store = Store(db_url)
    store.save(Scenario(name="draft", cost_per_paid_hour=31.5))
    got = store.load("draft")
    assert got.scenario.cost_per_paid_hour == 31.5
    assert got.kpis_daily.empty and got.shift_plan.empty
    assert not store.list()["has_results"].iloc[0]
    store.close()


def test_concurrent_saves_from_two_processes_keep_every_version(db_url):
    Store(db_url).close()  # schema first, so both writers race on saves only
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    n = 8
    procs = [
        ctx.Process(target=_save_many, args=(db_url, "shared", tag, n, barrier))
        for tag in ("a", "b")
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    store = Store(db_url)
    assert store.versions("shared") == list(range(1, 2 * n + 1))
    notes = set(store.list(all_versions=True)["note"])
    assert notes == {f"{t}-{j}" for t in "ab" for j in range(n)}
    store.close()


def test_concurrent_first_use_creates_schema_once(db_url):
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_open_store, args=(db_url, barrier)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT version FROM schema_version ORDER BY 1")).all()
    engine.dispose()
    assert [r[0] for r in rows] == [1, 2, 3, 4]


def test_save_failing_mid_way_leaves_previous_version_intact(db_url, monkeypatch):
    store = Store(db_url)
    store.save(_result("plan", 1))
    calls = []
    original = store_mod.frame_to_parquet

    def fail_on_third(frame):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return original(frame)

    monkeypatch.setattr(store_mod, "frame_to_parquet", fail_on_third)
    with pytest.raises(RuntimeError, match="disk full"):
        store.save(_result("plan", 2))
    monkeypatch.undo()

    assert store.versions("plan") == [1]
    got = store.load("plan")
    assert got.meta["k"] == 1
    assert got.kpis_daily["paid_hours"].tolist() == [100.0, 101, 102, 103, 104, 105]
    with store.engine.connect() as conn:
        n_tables = conn.execute(sa.text("SELECT COUNT(*) FROM result_tables")).scalar()
    assert n_tables == 8  # only version 1's eight tables
    assert store.save(_result("plan", 3)).version == 2
    store.close()


def test_killed_save_leaves_previous_version_intact(db_url):
    store = Store(db_url)
    store.save(_result("plan", 1))
    ctx = mp.get_context("spawn")
    started = ctx.Event()
    child = ctx.Process(target=_save_and_hang, args=(db_url, started))
    child.start()
    assert started.wait(120), "child never reached the middle of its save"
    os.kill(child.pid, signal.SIGKILL)
    child.join(60)
    assert child.exitcode == -signal.SIGKILL

    assert store.versions("plan") == [1]
    assert store.load("plan").meta["k"] == 1
    assert store.save(_result("plan", 3)).version == 2  # the lock was released
    store.close()


def test_schema_upgrade_keeps_rows_saved_by_older_schema(db_url):
    old = Store(db_url, target_version=1)
    assert old.schema_version() == 1
    with old.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO scenarios (name, version, scenario_yaml, meta_json) "
                "VALUES ('legacy', 1, 'name: legacy\n', '{}')"
            )
        )
    old.close()
    with pytest.raises(StoreError, match="schema version 1 < 4"):
        Store(db_url, upgrade=False)

    store = Store(db_url)
    assert store.schema_version() == 4
    got = store.load("legacy")
    assert got.scenario.name == "legacy" and got.meta["note"] == ""
    assert store.save(Scenario(name="legacy")).version == 2
    assert store.migrate() == []  # idempotent
    store.close()


def test_newer_schema_is_refused(db_url):
    Store(db_url).close()
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO schema_version (version, description) VALUES (99, 'x')"))
    engine.dispose()
    with pytest.raises(StoreError, match="schema version 99"):
        Store(db_url)


def test_default_location_env_variable_and_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(DB_URL_ENV, raising=False)
    store = Store()
    store.save(Scenario(name="x"))
    store.close()
    assert (tmp_path / "peak_planner.db").exists()

    other = tmp_path / "team.db"
    monkeypatch.setenv(DB_URL_ENV, f"sqlite:///{other}")
    store = Store()
    assert store.list().empty  # a different database
    store.save(Scenario(name="y"))
    store.close()
    assert other.exists()


def test_bad_url_is_a_store_error():
    with pytest.raises(StoreError, match="nosuchdialect"):
        Store("nosuchdialect://x")


# ----------------------------------------------------------------- many writers, damage


def _tiny_result(name: str, k: int) -> ScenarioResult:
    """A result with one small table, so that hundreds of saves stay fast."""
    daily = pd.DataFrame({"date": pd.to_datetime(["2024-11-01"]), "channel": ["chat"],
                          "paid_hours": [float(k)]})
    return ScenarioResult(Scenario(name=name), kpis_daily=daily, meta={"k": k})


def _save_tiny(url: str, name: str, tag: int, n: int, barrier, failures) -> None:
    store = Store(url)
    barrier.wait()
    for j in range(n):
        try:
            store.save(_tiny_result(name, 1000 * tag + j), note=f"{tag}-{j}")
        except Exception as exc:  # noqa: BLE001 - counted, the test asserts there are none
            failures.put(f"{type(exc).__name__}: {exc}")
    store.close()


@pytest.mark.slow
def test_eight_processes_saving_one_name_lose_nothing(db_url):
    # 8 processes x 50 saves of one name with results: every save gets its own version,
    # 1..400 without gaps, and every result comes back under its note (counted by hand).
    Store(db_url).close()
    ctx = mp.get_context("spawn")
    n_proc, n_saves = 8, 50
    barrier, failures = ctx.Barrier(n_proc), ctx.Queue()
    procs = [ctx.Process(target=_save_tiny, args=(db_url, "peak", t, n_saves, barrier, failures))
             for t in range(n_proc)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
        assert p.exitcode == 0
    errors = []
    while not failures.empty():
        errors.append(failures.get())
    assert errors == []
    store = Store(db_url)
    assert store.versions("peak") == list(range(1, n_proc * n_saves + 1))
    listed = store.list(all_versions=True)
    assert sorted(listed["note"]) == sorted(f"{t}-{j}" for t in range(n_proc)
                                            for j in range(n_saves))
    for version in (1, 200, 400):
        got = store.load("peak", version)
        note = got.meta["note"]
        t, j = (int(x) for x in note.split("-"))
        assert got.kpis_daily["paid_hours"].tolist() == [1000.0 * t + j]
    store.close()


def test_upgrade_to_name_counters_continues_after_the_highest_version(db_url):
    old = Store(db_url, target_version=2)
    with old.engine.begin() as conn:  # versions 1..3 as schema 2 saved them (max + 1)
        for v in (1, 2, 3):
            conn.execute(sa.text("INSERT INTO scenarios (name, version, scenario_yaml, "
                                 "meta_json, note) VALUES ('plan', :v, 'name: plan\n', "
                                 "'{}', '')"), {"v": v})
    old.close()
    store = Store(db_url)
    assert store.schema_version() == 4
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT name, last_version FROM scenario_names")).all()
    assert [tuple(r) for r in rows] == [("plan", 3)]
    assert store.save(Scenario(name="plan")).version == 4
    assert store.save(Scenario(name="new")).version == 1
    # A version written around the counter (by hand) is never reused.
    with store.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO scenarios (name, version, scenario_yaml, meta_json, "
                             "note) VALUES ('plan', 9, 'name: plan\n', '{}', '')"))
    assert store.save(Scenario(name="plan")).version == 10
    assert store.save(Scenario(name="plan")).version == 11
    store.close()


def test_damaged_result_names_the_version_and_what_to_do(db_url):
    store = Store(db_url)
    store.save(_result("plan", 1))
    store.save(_result("plan", 2))
    with store.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE result_tables SET data = :junk WHERE table_name = 'kpis_daily' "
                    "AND scenario_id = (SELECT id FROM scenarios WHERE version = 2)"),
            {"junk": b"PAR1 not a parquet file"},
        )
    with pytest.raises(store_mod.DamagedVersionError) as err:
        store.load("plan")
    msg = str(err.value)
    assert (err.value.name, err.value.version) == ("plan", 2)
    assert msg.startswith("saved scenario 'plan' version 2 is damaged (result table "
                          "'kpis_daily' cannot be read")
    assert "\n" not in msg and "run the scenario again" in msg
    assert store.load("plan", 1).meta["k"] == 1  # other versions unaffected
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE scenarios SET scenario_yaml = 'a: &a [*a]' "
                             "WHERE version = 1"))
    with pytest.raises(store_mod.DamagedVersionError, match="'plan' version 1 is damaged"):
        store.load_scenario("plan", 1)
    store.close()


def test_note_with_control_characters_is_refused(db_url):
    store = Store(db_url)
    with pytest.raises(ValueError, match="note has a control character"):
        store.save(Scenario(name="x"), note="ok\x1b[2J")
    with pytest.raises(ValueError, match="at most 2000"):
        store.save(Scenario(name="x"), note="n" * 2001)
    assert store.versions("x") == []
    assert store.save(Scenario(name="x"), note="line one\nline two").version == 1
    store.close()


def test_cli_store_errors_are_one_line_without_sql(tmp_path, capsys):
    from planner.cli import EXIT_DB, main

    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    assert main(["list", "--db", f"sqlite:///{junk}"]) == EXIT_DB
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "file is not a database" in err
    assert "[SQL" not in err and "sqlalche.me" not in err

    url = f"sqlite:///{tmp_path / 'ok.db'}"
    store = Store(url)
    store.save(_result("plan", 1))
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE result_tables SET data = :junk"), {"junk": b"x"})
    store.close()
    assert main(["export", "plan@1", "--format", "csv", "--out", str(tmp_path / "o"),
                 "--db", url]) == EXIT_DB
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "'plan' version 1 is damaged" in err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
