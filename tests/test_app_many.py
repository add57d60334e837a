"""Several scenarios at once from the app (issue 16): the Scenarios page's "Run several
scenarios at once" and :func:`app_support.backend.run_scenarios`, on the serial engine and
on a real Dask scheduler named by ``$PEAK_PLANNER_DASK_ADDRESS`` (a LocalCluster started
and stopped here). The reference is :func:`planner.pipeline.run` of each scenario alone."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app_support import backend
from planner.pipeline import PipelineCache, run
from planner.scenario import load_scenario
from tests.test_app_warroom import (
    APP,
    PAGE,
    ROOT,
    _private_store,  # noqa: F401 - the app's own store and uploads
)


def _week(name: str, **changes):
    s = load_scenario(ROOT / "scenarios" / "base.yaml")
    horizon = s.horizon.model_copy(update={"start": dt.date(2024, 11, 4),
                                           "end": dt.date(2024, 11, 10)})
    return s.model_copy(update={"name": name, "horizon": horizon, **changes})


def test_run_scenarios_on_a_scheduler_keeps_the_good_ones_and_names_the_bad(monkeypatch,
                                                                            tmp_path):
    from distributed import LocalCluster

    good, other = _week("app_many_a"), _week("app_many_b", order_growth=0.1)
    bad = _week("app_many_bad", data=good.data.model_copy(
        update={"contacts": str(tmp_path / "missing.csv")}))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        monkeypatch.setenv(backend.DASK_ADDRESS_ENV, cluster.scheduler_address)
        assert backend.fanout_engine() == cluster.scheduler_address
        failed = backend.run_scenarios([good, bad, other])
    assert list(failed) == ["app_many_bad"] and "missing.csv" in failed["app_many_bad"]
    monkeypatch.delenv(backend.DASK_ADDRESS_ENV)
    assert backend.fanout_engine() == "serial"
    for s in (good, other):
        got = backend.run_scenario(s)  # from the cache run_scenarios filled
        ref = run(s, cache=PipelineCache())
        for table, frame in ref.to_tables().items():
            pd.testing.assert_frame_equal(frame, got.to_tables()[table], check_exact=True,
                                          obj=table)
    assert backend.run_scenarios([good, other]) == {}  # nothing left to run


def test_page_runs_two_examples_at_once_into_the_comparison():
    at = AppTest.from_file(APP, default_timeout=600)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    pick = next(m for m in at.multiselect if m.key == "sc_many_examples")
    pick.set_value(["prepeak_september", "base"]).run()
    next(b for b in at.button if b.key == "sc_many_run").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    names = {load_scenario(ROOT / "scenarios" / f"{n}.yaml").name
             for n in ("prepeak_september", "base")}
    assert any("Ran 2 of 2" in s.value for s in at.success)
    compared = next(m for m in at.multiselect if m.key == "sc_compare")
    assert names <= set(compared.value)


def test_run_scenarios_serially_and_a_scheduler_nobody_runs_said_in_words(monkeypatch):
    import socket

    a, b = _week("app_serial_a"), _week("app_serial_b", order_growth=0.05)
    assert backend.fanout_engine() == "serial"
    assert backend.run_scenarios([a, b]) == {}
    ref = run(b, cache=PipelineCache())
    pd.testing.assert_frame_equal(ref.kpis_daily, backend.run_scenario(b).kpis_daily,
                                  check_exact=True)
    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv(backend.DASK_ADDRESS_ENV, f"tcp://127.0.0.1:{port}")
    with pytest.raises(ValueError, match=f"no Dask scheduler answers at tcp://127.0.0.1:{port}"):
        backend.run_scenarios([_week("app_nowhere")])


@pytest.mark.parametrize("text", ["", "   \n", "# only a comment\n\n"])
def test_an_empty_scenario_file_is_refused(text):
    with pytest.raises(ValueError, match="the file is empty"):
        backend.open_scenario_upload("empty.yaml", text.encode(), {})


def test_page_never_replaces_a_different_scenario_of_the_same_name():
    at = AppTest.from_file(APP, default_timeout=600)
    at.run()
    at.switch_page(PAGE).run()
    # the planner's own "prepeak_september" with another growth is in the comparison
    mine = load_scenario(ROOT / "scenarios" / "prepeak_september.yaml")
    mine = mine.model_copy(update={"order_growth": 0.3})
    at.session_state["compared"] = {mine.name: mine}
    at.run()
    pick = next(m for m in at.multiselect if m.key == "sc_many_examples")
    pick.set_value(["prepeak_september"]).run()
    next(b for b in at.button if b.key == "sc_many_run").click().run()
    assert not at.exception, at.exception
    assert any("A different scenario named" in w.value for w in at.warning)
    assert any("Nothing to run" in i.value for i in at.info)
