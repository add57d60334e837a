"""Saved-scenario bookkeeping: rename, soft delete and restore, notes, who saved and
which example a scenario started from (schema migration 4), on SQLite and, when the
server binaries are installed, PostgreSQL (the fixtures of tests/test_store.py)."""

from __future__ import annotations

import multiprocessing as mp

import pytest
import sqlalchemy as sa

from planner.scenario import Scenario
from planner.store import DeletedNameError, NotFoundError, Store, StoreError
from tests.test_store import _result, db_url, pg_server  # noqa: F401 - fixtures


def test_rename_moves_every_version_and_loads_under_the_new_name(db_url):  # noqa: F811
    store = Store(db_url)
    store.save(_result("plan", 1), note="first")
    store.save(_result("plan", 2), note="second")
    store.rename("plan", "peak A")
    assert store.versions("plan") == []
    assert store.versions("peak A") == [1, 2]
    got = store.load("peak A", 1)
    assert got.scenario.name == "peak A" and got.meta["k"] == 1 and got.meta["note"] == "first"
    # the counter moved with the name: the next save is version 3, not 1
    assert store.save(_result("peak A", 3)).version == 3
    # the old name is free again and starts at 1
    assert store.save(Scenario(name="plan")).version == 1
    store.close()


def test_rename_refuses_a_taken_or_missing_name(db_url):  # noqa: F811
    store = Store(db_url)
    store.save(Scenario(name="a"))
    store.save(Scenario(name="b"))
    with pytest.raises(StoreError, match="'b' is already saved"):
        store.rename("a", "b")
    store.delete("b")
    with pytest.raises(StoreError, match="deleted; restore it"):
        store.rename("a", "b")
    with pytest.raises(NotFoundError):
        store.rename("nope", "c")
    with pytest.raises(StoreError, match="cannot rename 'a': the new name is refused: "
                                         "String should have at most 120"):
        store.rename("a", "x" * 500)
    with pytest.raises(StoreError, match="must not contain slashes") as caught:
        store.rename("a", "a/b")
    assert "pydantic" not in str(caught.value)
    assert store.versions("a") == [1]
    store.close()


def test_soft_delete_hides_and_restore_shows_again(db_url):  # noqa: F811
    store = Store(db_url)
    store.save(Scenario(name="a"))
    store.save(Scenario(name="a"))
    store.save(Scenario(name="b"))
    store.delete("a")
    assert store.list()["name"].tolist() == ["b"]
    assert store.list(all_versions=True)["name"].tolist() == ["b"]
    gone = store.list(all_versions=True, deleted=True)
    assert gone[["name", "version"]].values.tolist() == [["a", 1], ["a", 2]]
    assert gone["deleted"].all()
    assert store.load("a", 2).scenario.name == "a"  # nothing erased
    store.restore("a")
    assert store.list()[["name", "version", "deleted"]].values.tolist() == [
        ["a", 2, False], ["b", 1, False]]
    with pytest.raises(NotFoundError):
        store.delete("zzz")
    store.close()


def test_saving_a_deleted_name_is_refused_and_keeps_its_versions(db_url):  # noqa: F811
    """A save under a softly deleted name would bring its old versions back unseen:
    refused, naming the way out; nothing of the refused save is written."""
    store = Store(db_url)
    store.save(Scenario(name="a"))
    store.save(Scenario(name="a"))
    store.delete("a")
    with pytest.raises(DeletedNameError, match="'a' was deleted; restore it or choose "
                                               "another name"):
        store.save(Scenario(name="a"), note="new")
    assert store.list()["name"].tolist() == []
    gone = store.list(all_versions=True, deleted=True)
    assert gone[["name", "version"]].values.tolist() == [["a", 1], ["a", 2]]
    store.restore("a")  # the refused save took no number: the next one is 3
    assert store.save(Scenario(name="a")).version == 3
    store.close()


def test_note_who_and_started_from(db_url):  # noqa: F811
    store = Store(db_url)
    store.save(Scenario(name="a"), note="draft", saved_by="Mia", started_from="peak_hiring")
    store.save(Scenario(name="a"), note="v2")
    store.annotate("a", 1, "agreed with finance")
    listed = store.list(all_versions=True)
    assert listed[["version", "note", "saved_by", "started_from"]].values.tolist() == [
        [1, "agreed with finance", "Mia", "peak_hiring"], [2, "v2", "", ""]]
    assert store.load("a", 1).meta["started_from"] == "peak_hiring"
    store.annotate("a", None, "latest")
    assert store.list()["note"].tolist() == ["latest"]
    with pytest.raises(ValueError, match="note"):
        store.annotate("a", 1, "x" * 3000)
    with pytest.raises(NotFoundError):
        store.annotate("a", 9, "x")
    with pytest.raises(ValueError, match="saved_by"):
        store.save(Scenario(name="a"), saved_by="a\x00b")
    store.close()


def test_upgrade_from_schema_3_keeps_rows_visible(db_url):  # noqa: F811
    old = Store(db_url, target_version=3)
    with old.engine.begin() as conn:  # a row as schema 3 saved it
        conn.execute(sa.text("INSERT INTO scenarios (name, version, scenario_yaml, meta_json, "
                             "note) VALUES ('legacy', 1, 'name: legacy\n', '{}', 'kept')"))
        conn.execute(sa.text("INSERT INTO scenario_names (name, last_version) "
                             "VALUES ('legacy', 1)"))
    old.close()
    store = Store(db_url)
    assert store.schema_version() == 4
    listed = store.list()
    assert listed[["name", "note", "saved_by", "started_from", "deleted"]].values.tolist() == [
        ["legacy", "kept", "", "", False]]
    store.close()


def _save_many(url: str, name: str, n: int) -> None:
    with Store(url) as store:
        for _ in range(n):
            store.save(Scenario(name=name))


def test_saves_racing_a_rename_lose_no_version(db_url):  # noqa: F811
    """Two processes save 'plan' while this one renames it: every save lands, either
    before the rename (and is renamed) or after it (as a new 'plan')."""
    store = Store(db_url)
    store.save(Scenario(name="plan"))
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_save_many, args=(db_url, "plan", 5)) for _ in range(2)]
    for p in procs:
        p.start()
    store.rename("plan", "renamed")
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    moved, stayed = store.versions("renamed"), store.versions("plan")
    assert len(moved) + len(stayed) == 11
    assert moved == list(range(1, len(moved) + 1))
    assert stayed == list(range(1, len(stayed) + 1))
    with store.engine.connect() as conn:
        n = conn.execute(sa.text("SELECT COUNT(*) FROM scenarios")).scalar()
    assert n == 11
    store.close()
