"""Plans per queue (:func:`planner.pipeline.run` on contacts with a ``queue`` column).

The references are independent of the queue code: each queue planned alone, as its
channel, from a contacts file holding only that queue's rows (the pipeline as it ran
before queues existed), and roll-ups recomputed by hand from the daily frames.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner.cli import EXIT_INPUT, EXIT_OK, main
from planner.compare import compare
from planner.pipeline import PipelineCache, run
from planner.queues import QueueError
from planner.scenario import Scenario

#: Queue -> (channel, share of the channel's contacts); "voice" has no queue name.
QUEUES = {"chat-a": ("chat", 0.6), "chat-b": ("chat", 0.3), "chat-c": ("chat", 0.1),
          "voice": ("voice", 1.0)}
CHANNELS = {
    "chat": {"model": "chat", "target_sl": 0.8, "threshold_s": 60, "concurrency": 2,
             "open_hours": "08:00-20:00"},
    "voice": {"model": "erlang_a", "target_sl": 0.8, "threshold_s": 20, "patience_s": 180,
              "open_hours": "08:00-20:00"},
}
OVERRIDES = {"chat-[ab]": {"target_sl": 0.9}, "chat-c": {"threshold_s": 30, "shrinkage": 0.4}}


def _write(tmp_path, seed: int = 3):
    """Orders and 30-minute contacts of half a year: every queue has a row (and an AHT)
    in every open interval, so each queue's history covers the same days."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-01-01", "2024-06-30", freq="D")
    week = np.array([1.1, 1.05, 1.0, 1.0, 0.95, 0.9, 0.85])
    orders = rng.poisson(20_000 * week[days.day_of_week])
    pd.DataFrame({"ds": days.strftime("%Y-%m-%d"), "orders": orders}).to_csv(
        tmp_path / "orders.csv", index=False)
    slots = np.arange(24)  # 08:00 .. 19:30
    profile = np.exp(-0.5 * ((slots - 10) / 6.0) ** 2)
    profile /= profile.sum()
    rows = []
    for d, n in zip(days, orders, strict=True):
        for q, (ch, share) in QUEUES.items():
            rate = 0.05 * (0.6 if ch == "chat" else 0.4)
            lam = n * rate * share * profile
            counts = rng.poisson(lam)
            aht = (480.0 if ch == "chat" else 300.0) * (1.1 if q == "chat-c" else 1.0)
            for k in slots:
                rows.append((d + pd.Timedelta(minutes=480 + 30 * int(k)), ch,
                             "" if q == "voice" else q, int(counts[k]),
                             round(aht * rng.uniform(0.9, 1.1), 1)))
    c = pd.DataFrame(rows, columns=["ds", "channel", "queue", "contacts", "aht_s"])
    c["ds"] = c["ds"].dt.strftime("%Y-%m-%d %H:%M:%S")
    c.to_csv(tmp_path / "contacts_queues.csv", index=False)
    return tmp_path / "orders.csv", tmp_path / "contacts_queues.csv", c


def _scenario(orders, contacts, **changes) -> Scenario:
    data = {"name": "queues", "data": {"orders": str(orders), "contacts": str(contacts),
                                       "events": ""},
            "horizon": {"start": "2024-06-24", "end": "2024-06-26"},
            "forecast": {"model": "same_weekday_average"},
            "channels": CHANNELS, "queues": OVERRIDES, "shifts": {"solve": False}}
    data.update(changes)
    return Scenario.from_dict(data)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("queues"))


@pytest.fixture(scope="module")
def result(files):
    orders, contacts, _ = files
    return run(_scenario(orders, contacts), cache=PipelineCache())


def test_each_queue_is_planned_as_if_it_were_a_channel_alone(files, result, tmp_path):
    orders, contacts, frame = files
    assert result.queues == {q: ch for q, (ch, _s) in QUEUES.items()}
    assert sorted(result.requirements["channel"].unique()) == sorted(QUEUES)
    settings = {"chat-a": {"target_sl": 0.9}, "chat-b": {"target_sl": 0.9},
                "chat-c": {"threshold_s": 30, "shrinkage": 0.4}, "voice": {}}
    for q, (ch, _share) in QUEUES.items():
        # the reference: only this queue's rows, as its channel, no queue column
        own = frame[frame["queue"] == ("" if q == "voice" else q)].drop(columns="queue")
        path = tmp_path / f"{q}.csv"
        own.to_csv(path, index=False)
        alone = _scenario(orders, path, channels={ch: {**CHANNELS[ch], **settings[q]}},
                          queues={})
        ref = run(alone, cache=PipelineCache()).requirements
        got = result.requirements[result.requirements["channel"] == q]
        assert len(got) == len(ref) > 0
        for col in ("volume", "aht_s", "agents", "rostered", "sl"):
            np.testing.assert_allclose(got[col].to_numpy(float), ref[col].to_numpy(float),
                                       rtol=1e-9, err_msg=f"{q} {col}")
    # the overrides reached the staffing: a 0.9 target needs more agents than 0.8 would
    assert (result.requirements.loc[result.requirements["channel"] == "chat-a", "sl"]
            >= 0.9 - 1e-9).all()


def test_rollup_is_the_volume_weighted_mean_and_sums_by_hand(result):
    d = result.kpis_daily.copy()
    v = result.volumes.assign(date=pd.to_datetime(result.volumes["ds"]).dt.normalize())
    day_vol = v.groupby(["channel", "date"])["volume"].sum().rename("vol").reset_index()
    d = d.assign(date=pd.to_datetime(d["date"])).merge(day_vol, on=["channel", "date"])
    d["parent"] = d["channel"].map({q: ch for q, (ch, _s) in QUEUES.items()})
    roll = result.rollup().set_index(["level", "name"])
    for name, g in [*d.groupby("parent"), ("total", d)]:
        level = "total" if name == "total" else "channel"
        sl = float((g["service_level"] * g["vol"]).sum() / g["vol"].sum())
        assert roll.loc[(level, name), "service_level"] == pytest.approx(sl, rel=1e-12)
        assert roll.loc[(level, name), "paid_hours"] == pytest.approx(g["paid_hours"].sum())
        assert roll.loc[(level, name), "volume"] == pytest.approx(g["vol"].sum())
    assert roll.loc[("channel", "chat"), "queues"] == 3
    # totals over all queues: paid hours of every queue, and its FTE is hours / 40 h weeks
    hours = float(d["paid_hours"].sum())
    assert result.totals()["paid_hours"] == pytest.approx(hours)
    assert result.totals()["avg_fte"] == pytest.approx(hours / (40.0 * 3 / 7))
    assert list(result.summary()["channel"]) == sorted(QUEUES)
    assert result.plan_summary()["channel"].tolist()[-1] == "all"


def test_a_run_per_channel_rolls_up_to_channels_and_total(files):
    orders, contacts, frame = files
    plain = frame.drop(columns="queue").groupby(["ds", "channel"], as_index=False).agg(
        contacts=("contacts", "sum"), aht_s=("aht_s", "mean"))
    path = contacts.parent / "plain.csv"
    plain.to_csv(path, index=False)
    r = run(_scenario(orders, path, queues={}), cache=PipelineCache())
    assert r.queues == {} and "queues" not in r.meta
    roll = r.rollup()
    assert roll["level"].tolist() == ["channel", "channel", "total"]
    assert roll["paid_hours"].iloc[-1] == pytest.approx(r.kpis_daily["paid_hours"].sum())
    with pytest.raises(QueueError, match="the contacts have no queue column"):
        run(_scenario(orders, path), cache=PipelineCache())


def test_channel_caps_and_rates_are_not_silently_copied_to_queues(files):
    orders, contacts, _ = files
    capped = {**CHANNELS, "chat": {**CHANNELS["chat"], "headcount_cap": 10}}
    with pytest.raises(QueueError, match=r"channels.chat.headcount_cap = 10 cannot be shared "
                                         r"among the channel's 3 queues"):
        run(_scenario(orders, contacts, channels=capped), cache=PipelineCache())
    rated = {**CHANNELS, "chat": {**CHANNELS["chat"], "contact_rate": 0.03}}
    with pytest.raises(QueueError, match=r"channels.chat.contact_rate = 0.03"):
        run(_scenario(orders, contacts, channels=rated), cache=PipelineCache())
    # the voice channel is one queue: its cap applies to it exactly; each chat queue has
    # its own cap from the pattern
    ok = {**CHANNELS, "voice": {**CHANNELS["voice"], "headcount_cap": 4}}
    r = run(_scenario(orders, contacts, channels=ok,
                      queues={**OVERRIDES, "chat-*": {"headcount_cap": 3}}),
            cache=PipelineCache())
    cov = r.coverage.groupby("channel")["scheduled"].max()
    assert cov["voice"] <= 4 and cov[["chat-a", "chat-b", "chat-c"]].max() <= 3
    with pytest.raises(QueueError, match=r"capacity: plans hiring per channel"):
        run(_scenario(orders, contacts, capacity={"headcount": {"chat": 10}}),
            cache=PipelineCache())


def test_cli_and_compare_show_the_rollups(files, result, tmp_path, capsys):
    orders, contacts, _ = files
    path = tmp_path / "q.yaml"
    path.write_text(_scenario(orders, contacts).to_yaml())
    assert main(["run", str(path), "-q"]) == EXIT_OK
    out = capsys.readouterr().out
    lines = {ln.split()[1]: ln.split() for ln in out.splitlines()
             if ln.split()[:1] in (["channel"], ["total"])}
    hours = result.kpis_daily.groupby(
        result.kpis_daily["channel"].str.split("-").str[0])["paid_hours"].sum()
    assert lines["chat"][3] == "3" and lines["voice"][3] == "1"
    assert lines["chat"][5] == f"{hours['chat']:,.0f}"
    assert lines["total"][5] == f"{hours.sum():,.0f}"
    assert "chat-a" not in out
    assert main(["run", str(path), "-q", "--queues"]) == EXIT_OK
    assert "chat-a" in capsys.readouterr().out
    lean = tmp_path / "lean.yaml"
    lean.write_text(_scenario(orders, contacts, name="lean", queues={
        "chat-*": {"target_sl": 0.7}}).to_yaml())
    out_dir = tmp_path / "cmp"
    assert main(["compare", str(path), str(lean), "-q", "--out", str(out_dir)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "queues rolled up" in out and "chat-a" not in out
    rolled = pd.read_csv(out_dir / "compare_rollup.csv")
    total = rolled[(rolled["level"] == "total") & (rolled["scenario"] == "queues")]
    assert total["paid_hours"].item() == pytest.approx(hours.sum())
    comp = compare({"a": result, "b": result})
    text = comp.to_text()
    assert "queues rolled up" in text and "chat-b" not in text
    assert "By queue" in comp.to_text(queues=True)
    assert (comp.rollup["d_paid_hours"] == 0).all()
    bad = tmp_path / "bad.yaml"
    bad.write_text(_scenario(orders, contacts, queues={"chta-*": {"target_sl": 0.9}})
                   .to_yaml())
    assert main(["run", str(bad), "-q"]) == EXIT_INPUT
    assert "chta-*" in capsys.readouterr().err


def test_a_queue_result_round_trips_through_the_store(result, tmp_path):
    from planner.store import Store

    with Store(f"sqlite:///{tmp_path / 'q.db'}") as store:
        store.save(result)
        back = store.load("queues")
    assert back.queues == result.queues
    assert back.scenario.queues == OVERRIDES
    pd.testing.assert_frame_equal(back.rollup(), result.rollup())


def test_a_scenario_already_per_queue_plans_the_same(files, result):
    # what the fan-out holds: one channel entry per queue, overrides applied
    orders, contacts, _ = files
    planned = result.planned_scenario
    assert sorted(planned.channels) == sorted(QUEUES) and planned.queues == {}
    again = run(planned, cache=PipelineCache())
    assert again.queues == result.queues
    pd.testing.assert_frame_equal(again.requirements, result.requirements)


def test_the_day_against_a_plan_per_queue_takes_actuals_per_queue(files, result):
    from planner.live import LiveError, result_day_against_plan

    _, _, c = files
    day = c[c["ds"].str.startswith("2024-06-25")].copy()
    actuals = day.assign(ds=pd.to_datetime(day["ds"]))
    view = result_day_against_plan(result, actuals, now="2024-06-25 12:00")
    seen = actuals[actuals["ds"] < pd.Timestamp("2024-06-25 12:00")]
    by_queue = seen.assign(q=seen["queue"].where(seen["queue"] != "", seen["channel"])) \
        .groupby("q")["contacts"].sum()
    got = view.summary.set_index("channel")["actual_so_far"]
    for q in QUEUES:
        assert got[q] == by_queue[q]
    assert not view.ignored
    with pytest.raises(LiveError, match="the plan is per queue but the actuals have no "
                                        "'queue' column"):
        result_day_against_plan(result, actuals.drop(columns=["queue"]), now="2024-06-25 12:00")


def test_cli_writes_each_queue_and_the_rollup_workbook(files, result, tmp_path, capsys):
    import openpyxl

    from planner.store import Store

    orders, contacts, _ = files
    path = tmp_path / "q.yaml"
    path.write_text(_scenario(orders, contacts).to_yaml())
    out = tmp_path / "out"
    assert main(["run", str(path), "-q", "--out", str(out)]) == EXIT_OK
    capsys.readouterr()
    index = pd.read_csv(out / "queues" / "queues.csv")
    assert sorted(index["queue"]) == sorted(QUEUES)
    daily = pd.read_csv(out / "kpis_daily.csv")
    req = pd.read_csv(out / "requirements.csv")
    vols = []
    for q in QUEUES:
        stem = index.loc[index["queue"] == q, "file_stem"].item()
        per = pd.read_csv(out / "queues" / f"{stem}_intervals.csv")
        # the queue's file holds its intervals: the same volume as the flat requirements
        assert per["volume"].sum() == pytest.approx(
            req.loc[req["channel"] == q, "volume"].sum(), rel=1e-9)
        vols.append(per.assign(date=per["ds"].str[:10]).groupby(["channel", "date"],
                                                                as_index=False)["volume"].sum())
    daily = daily.merge(pd.concat(vols), on=["channel", "date"])
    # the roll-up's total service level: the volume-weighted mean of the queues' days
    wb = openpyxl.load_workbook(out / "rollup.xlsx", read_only=True)
    rows = list(wb["Summary"].values)
    head = [str(h) for h in rows[0]]
    total = dict(zip(head, next(r for r in rows[1:] if r[0] == "total"), strict=True))
    sl_col = next(h for h in head if h.lower().startswith("service level"))
    by_hand = (daily["service_level"] * daily["volume"]).sum() / daily["volume"].sum()
    assert total[sl_col] == pytest.approx(by_hand, abs=1e-4)
    assert (out / "plan.xlsx").exists()  # 4 queues: below the full-workbook limit
    # Parquet per queue from a saved plan
    url = f"sqlite:///{tmp_path / 'q.db'}"
    with Store(url) as store:
        store.save(result)
    pq = tmp_path / "pq"
    assert main(["export", "queues", "--format", "parquet", "--out", str(pq), "--db", url,
                 "-q"]) == EXIT_OK
    assert len(list((pq / "queues").glob("*_intervals.parquet"))) == len(QUEUES)
    assert not (pq / "plan.xlsx").exists()
