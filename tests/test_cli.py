"""Command line: files written by ``run --out``, save/list/export/compare, exit codes, help.

The shift plan CSV is checked against the daily KPI CSV by recomputing paid hours by
hand from the shift rows (shift length minus the unpaid 30-minute break of shifts of
6 h or more), an independent path from the solver's own accounting.
"""

from __future__ import annotations

import argparse

import pandas as pd
import pytest

from planner.cli import (
    EXIT_DB,
    EXIT_INPUT,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_USAGE,
    KPIS_DAILY_COLUMNS,
    SHIFT_PLAN_COLUMNS,
    build_parser,
    main,
)

WEEK_YAML = """\
name: cli_week
horizon: {start: 2024-11-04, end: 2024-11-10}
shifts: {lengths_h: [8, 4], time_limit_s: 10}
"""


@pytest.fixture
def week_yaml(tmp_path):
    path = tmp_path / "cli_week.yaml"
    path.write_text(WEEK_YAML)
    return path


@pytest.fixture
def db(tmp_path):
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_run_save_list_export_compare(week_yaml, db, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(week_yaml), "--out", str(out), "--save", "--db", db, "-q"]) == EXIT_OK
    printed = capsys.readouterr().out
    assert "saved cli_week version 1" in printed

    daily = pd.read_csv(out / "kpis_daily.csv")
    assert tuple(daily.columns) == KPIS_DAILY_COLUMNS
    assert len(daily) == 7 * 3  # 7 days x (chat, voice, email)
    assert set(daily["channel"]) == {"chat", "voice", "email"}
    assert daily["date"].min() == "2024-11-04" and daily["date"].max() == "2024-11-10"
    assert daily["service_level"].between(0, 1).all()

    plan = pd.read_csv(out / "shift_plan.csv", parse_dates=["shift_start", "shift_end",
                                                             "break_start"])
    assert tuple(plan.columns) == SHIFT_PLAN_COLUMNS
    length_h = (plan["shift_end"] - plan["shift_start"]).dt.total_seconds() / 3600
    assert set(length_h) <= {8.0, 4.0}
    paid_each = length_h - 0.5 * (length_h >= 6)
    assert plan["break_start"].notna().eq(length_h >= 6).all()
    by_hand = (plan["agents"] * paid_each).groupby([plan["date"], plan["channel"]]).sum()
    from_kpis = daily.set_index(["date", "channel"])["paid_hours"]
    pd.testing.assert_series_equal(
        by_hand.sort_index(), from_kpis.loc[by_hand.index].sort_index(), check_names=False
    )
    assert (out / "plan.xlsx").stat().st_size > 0

    # a second save is version 2; list shows the latest
    assert main(["run", str(week_yaml), "--save", "--db", db, "-q"]) == EXIT_OK
    capsys.readouterr()
    assert main(["list", "--db", db]) == EXIT_OK
    listing = capsys.readouterr().out
    assert "cli_week" in listing and " 2 " in listing
    assert main(["list", "--all", "--db", db]) == EXIT_OK
    assert capsys.readouterr().out.count("cli_week") == 2

    # a deleted name is not saved over (its versions would come back unseen): input error
    # with the command that restores it; after the restore the next save is version 3
    from planner.store import Store

    with Store(db) as store:
        store.delete("cli_week")
    assert main(["run", str(week_yaml), "--save", "--db", db, "-q"]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "'cli_week' was deleted" in err and "python -m planner restore cli_week" in err
    assert main(["restore", "cli_week", "--db", db]) == EXIT_OK
    assert main(["run", str(week_yaml), "--save", "--db", db, "-q"]) == EXIT_OK
    capsys.readouterr()
    assert main(["list", "--all", "--db", db]) == EXIT_OK
    assert capsys.readouterr().out.count("cli_week") == 3

    exp = tmp_path / "exported"
    assert main(["export", "cli_week@1", "--format", "csv", "--out", str(exp), "--db", db]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(exp / "kpis_daily.csv"), daily)
    assert main(["export", "cli_week", "--format", "xlsx", "--out", str(exp), "--db", db]) == 0
    assert (exp / "plan.xlsx").exists()

    cmp_dir = tmp_path / "cmp"
    rc = main(["compare", "cli_week@1", "cli_week@2", "--baseline", "cli_week@1",
               "--out", str(cmp_dir), "--db", db])
    assert rc == EXIT_OK
    text = capsys.readouterr().out
    assert "Baseline: cli_week@1" in text
    totals = pd.read_csv(cmp_dir / "compare_totals.csv")
    summary = pd.read_csv(cmp_dir / "compare_summary.csv")
    floats = summary.select_dtypes("floating")
    assert ((floats - floats.round(4)).abs().fillna(0) < 1e-12).all().all()  # 4 decimals
    # the same assumptions and the same forecast give the same plan: no difference
    assert totals["d_paid_hours"].abs().max() == pytest.approx(0.0, abs=1e-9)


def test_exit_codes(tmp_path, db, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nchannels: {chat: {target_sl: 1.5}}\n")
    assert main(["run", str(bad), "-q"]) == EXIT_INPUT
    assert "channels.chat.target_sl" in capsys.readouterr().err

    assert main(["run", str(tmp_path / "missing.yaml"), "-q"]) == EXIT_INPUT
    assert "cannot read" in capsys.readouterr().err

    nodata = tmp_path / "nodata.yaml"
    nodata.write_text(f"data: {{contacts: {tmp_path / 'none.csv'}}}\n")
    assert main(["run", str(nodata), "-q"]) == EXIT_INPUT
    assert "none.csv" in capsys.readouterr().err

    assert main(["export", "ghost", "--format", "csv", "--db", db]) == EXIT_NOT_FOUND
    assert "ghost" in capsys.readouterr().err
    assert main(["compare", "ghost@3", "--db", db]) == EXIT_NOT_FOUND

    assert main(["list", "--db", "nosuchdialect://x"]) == EXIT_DB
    assert main(["list", "--db", f"sqlite:///{tmp_path / 'no' / 'dir' / 'x.db'}"]) == EXIT_DB

    assert main(["frobnicate"]) == EXIT_USAGE
    assert main(["export", "x"]) == EXIT_USAGE  # --format is required
    assert main(["export", "x", "--format", "pdf"]) == EXIT_USAGE
    capsys.readouterr()


def test_help_documents_every_option(capsys):
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == {"run", "compare", "list", "export", "today", "capacity",
                                "simulate", "run-many", "report", "restore"}
    assert main(["--help"]) == EXIT_OK
    top = capsys.readouterr().out
    for code in ("0  success", "2  usage", "3  invalid input", "4  not found", "5  database"):
        assert code in top
    for name, sp in sub.choices.items():
        assert main([name, "--help"]) == EXIT_OK
        text = capsys.readouterr().out
        for action in sp._actions:
            for opt in action.option_strings:
                assert opt in text, f"{name}: {opt} missing from --help"
            assert action.help, f"{name}: {action.dest} has no help text"
        assert "exit codes" in text


def test_today_sets_a_morning_against_the_saved_plan(week_yaml, db, tmp_path, capsys):
    # Monday 4 Nov 2024 of the sample, contacts up to 12:00, against the saved week plan:
    # the "so far" figures are the file's own sums, computed here.
    from forecast.data import load_contacts, sample_paths

    assert main(["run", str(week_yaml), "--save", "--db", db, "-q"]) == EXIT_OK
    contacts = load_contacts(sample_paths().contacts)
    morning = contacts[(contacts["ds"] >= "2024-11-04") & (contacts["ds"] < "2024-11-04 12:00")]
    path = tmp_path / "morning.csv"
    morning.to_csv(path, index=False)
    out = tmp_path / "day.csv"
    capsys.readouterr()
    rc = main(["today", "cli_week", "--actuals", str(path), "--now", "12:00", "--out", str(out),
               "--db", db, "-q"])
    assert rc == EXIT_OK
    text = capsys.readouterr().out
    assert "Mon 2024-11-04, contacts seen up to 12:00" in text
    rows = {line.split()[0]: line.split() for line in text.splitlines()[2:5]}
    for ch in ("chat", "voice", "email"):
        assert int(rows[ch][1]) == morning.loc[morning["channel"] == ch, "contacts"].sum()
    day = pd.read_csv(out)
    assert set(day["channel"]) == {"chat", "voice", "email"}
    assert day.loc[day["observed"], "actual"].sum() == morning["contacts"].sum()

    two = tmp_path / "two.csv"
    pd.concat([morning, morning.assign(ds=morning["ds"] + pd.Timedelta(days=1))]).to_csv(
        two, index=False)
    assert main(["today", "cli_week", "--actuals", str(two), "--db", db, "-q"]) == EXIT_INPUT
    assert "covers 2 days" in capsys.readouterr().err
    assert main(["today", "cli_week", "--actuals", str(path), "--now", "noon", "--db", db,
                 "-q"]) == EXIT_INPUT
    assert "--now 'noon' is not HH:MM" in capsys.readouterr().err
    assert main(["today", "ghost", "--actuals", str(path), "--db", db, "-q"]) == EXIT_NOT_FOUND
