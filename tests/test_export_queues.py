"""Per-queue exports (:func:`planner.export.export_queues`): file names safe for any queue
name, files that read back equal to the result's frames, and a roll-up workbook whose
figures are the hand-computed sums and volume-weighted means."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from planner.export import (
    ExportError,
    export_queues,
    queue_file_stems,
    queue_zip_bytes,
)
from planner.queues import queue_scenario, weekly_rollup
from planner.results import ScenarioResult
from planner.scenario import Scenario

HOSTILE = ["../x", "a/b", "a_b", "CON", "nul.txt", "Chat", "chat", "..", "",
           "ch\u00e4t-fr", "\u8a9e-zh", "=HYPERLINK(\"http://x\")", "a\\b\x00c", "x" * 300]


def test_stems_are_plain_unique_names_for_hostile_queue_names():
    stems = queue_file_stems(HOSTILE)
    assert list(stems) == HOSTILE
    folded = [s.casefold() for s in stems.values()]
    assert len(set(folded)) == len(HOSTILE)  # unique even where case is ignored
    for name, stem in stems.items():
        assert stem and len(stem) <= 60 + 9, (name, stem)
        assert not set(stem) & set("/\\:*?\"<>|\x00. "), (name, stem)
        assert stem.split(".")[0].casefold() not in {"con", "nul", "prn", "aux"}, stem
    # readable where it can be: unicode letters kept, traversal dropped
    assert stems["../x"] == "x" and stems["ch\u00e4t-fr"] == "ch\u00e4t-fr"
    assert stems["\u8a9e-zh"] == "\u8a9e-zh" and stems["CON"] == "q_CON"
    # 'a/b' and 'a_b' (and 'Chat'/'chat') would collide: each gets its own hash suffix
    assert stems["a/b"].startswith("a_b-") and stems["a_b"].startswith("a_b-")
    assert stems["Chat"] != stems["chat"]
    assert queue_file_stems(["a/b"]) == {"a/b": "a_b"}  # no suffix without a collision


QUEUES = {"chat-de": "chat", "chat/fr": "chat", "../voice": "voice"}
DAY = pd.Timestamp("2024-11-04")


def _result(queues: dict[str, str] = QUEUES) -> ScenarioResult:
    """Three queues, one day: chat-de 100 contacts at SL 0.9, chat/fr 300 at 0.7, ../voice
    600 at 0.8 (numbers chosen for hand arithmetic)."""
    names = list(queues)
    n = len(names)
    scenario = queue_scenario(Scenario(), queues)
    ds = DAY + pd.to_timedelta([9, 9.5], unit="h")
    kpis = pd.DataFrame({"channel": np.repeat(names, 2), "ds": np.tile(ds, len(names)),
                         "volume": [40.0, 60.0, 100.0, 200.0, 250.0, 350.0][:2 * n],
                         "agents": [3.0, 4.0, 6.0, 9.0, 20.0, 25.0][:2 * n],
                         "sl": [0.95, 0.8666, 0.7, 0.7, 0.8, 0.8][:2 * n]})
    shifts = pd.DataFrame({"date": DAY, "channel": names, "shift": "early",
                           "shift_start": DAY + pd.Timedelta(hours=8),
                           "shift_end": DAY + pd.Timedelta(hours=16),
                           "break_start": DAY + pd.Timedelta(hours=12),
                           "agents": [5, 9, 25][:n]})
    result = ScenarioResult(
        scenario=scenario, shift_plan=shifts, kpis_interval=kpis,
        volumes=pd.DataFrame({"channel": names, "ds": DAY + pd.Timedelta(hours=9),
                              "volume": [100.0, 300.0, 600.0][:n]}),
        kpis_daily=pd.DataFrame({
            "date": DAY, "channel": names, "service_level": [0.9, 0.7, 0.8][:n],
            "asa_s": [10.0, 30.0, 20.0][:n], "abandon_rate": [0.0, 0.0, 0.05][:n],
            "occupancy": 0.8, "backlog_items": [np.nan, 2.0, 5.0][:n],
            "backlog_age_h": np.nan, "paid_hours": [8.0, 16.0, 40.0][:n]}),
        weekly=pd.DataFrame({"week": DAY, "channel": names, "days": 1,
                             "paid_hours": [8.0, 16.0, 40.0][:n], "fte": [1.4, 2.8, 7.0][:n],
                             "cost": [160.0, 320.0, 800.0][:n]}),
    )
    result.meta["queues"] = dict(queues)
    return result


def test_files_land_inside_the_folder_one_pair_per_queue(tmp_path):
    out = tmp_path / "export"
    written = export_queues(_result(), out)
    files = sorted(p.name for p in out.iterdir())
    assert sorted(p.name for p in written) == files
    assert all(p.parent == out for p in written)  # '../voice' did not escape
    assert not (tmp_path / "voice_shift_plan.csv").exists()
    assert len(files) == 1 + 2 * 3 + 1  # queues.csv, a pair per queue, rollup.xlsx
    index = pd.read_csv(out / "queues.csv")
    assert index["queue"].tolist() == list(QUEUES)
    assert index["file_stem"].tolist() == ["chat-de", "chat_fr", "voice"]
    plan = pd.read_csv(out / "chat_fr_shift_plan.csv", dtype=str)
    assert plan[["date", "channel", "shift_start", "shift_end", "break_start", "agents"]] \
        .iloc[0].tolist() == ["2024-11-04", "chat/fr", "08:00", "16:00", "12:00", "9"]


def test_parquet_reads_back_equal_to_the_results_frames(tmp_path):
    result = _result()
    export_queues(result, tmp_path / "pq", fmt="parquet", workbook=False)
    for queue, stem in (("chat-de", "chat-de"), ("chat/fr", "chat_fr"),
                        ("../voice", "voice")):
        back = pd.read_parquet(tmp_path / "pq" / f"{stem}_intervals.parquet")
        want = result.kpis_interval[result.kpis_interval["channel"] == queue]
        pd.testing.assert_frame_equal(back, want.reset_index(drop=True))
    plan = pd.read_parquet(tmp_path / "pq" / "voice_shift_plan.parquet")
    assert plan["agents"].tolist() == [25] and plan["shift_start"].tolist() == ["08:00"]


def test_rollup_workbook_holds_volume_weighted_and_summed_figures(tmp_path):
    export_queues(_result(), tmp_path / "wb")
    summary = pd.read_excel(tmp_path / "wb" / "rollup.xlsx", sheet_name="Summary")
    rows = summary.set_index(["Level", "Name"])
    chat, total = rows.loc[("channel", "chat")], rows.loc[("total", "total")]
    # by hand: chat = chat-de (100 contacts, SL 0.9, ASA 10 s) + chat/fr (300, 0.7, 30 s)
    assert chat["Contacts"] == 400 and chat["Paid hours"] == 24 and chat["Cost"] == 480
    assert chat["Service level"] == pytest.approx((0.9 * 100 + 0.7 * 300) / 400)  # 0.75
    assert chat["ASA, s"] == pytest.approx((10 * 100 + 30 * 300) / 400)  # 25
    assert chat["Average FTE"] == pytest.approx(1.4 + 2.8)
    # total adds voice (600 contacts, SL 0.8, abandonment 5 %)
    assert total["Contacts"] == 1000 and total["Cost"] == 1280
    assert total["Service level"] == pytest.approx(
        round((0.9 * 100 + 0.7 * 300 + 0.8 * 600) / 1000, 4))  # 0.78
    assert total["Abandoned"] == pytest.approx(0.05 * 600 / 1000)
    weekly = pd.read_excel(tmp_path / "wb" / "rollup.xlsx", sheet_name="Weekly FTE")
    by = weekly.set_index(["Level", "Name"])
    assert by.loc[("channel", "chat"), "FTE"] == pytest.approx(4.2)
    assert by.loc[("total", "total"), "FTE"] == pytest.approx(11.2)
    assert by.loc[("total", "total"), "Week"] == "2024-11-04"


def test_zip_holds_the_same_files_and_csv_text_is_formula_safe():
    queues = {"=HYPERLINK(\"http://x\")": "chat", "chat": "chat", "voice": "voice"}
    blob = queue_zip_bytes(_result(queues))
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        names = zf.namelist()
        index = zf.read("queues.csv").decode()
    assert len(names) == 1 + 2 * 3 and all("/" not in n for n in names)
    assert "'=HYPERLINK" in index  # never a live formula in a spreadsheet


def test_a_failed_export_leaves_nothing_and_a_result_without_queues_gets_channels(tmp_path):
    with pytest.raises(ExportError, match="fmt must be one of"):
        export_queues(_result(), tmp_path / "bad", fmt="xlsx")
    assert not (tmp_path / "bad").exists() and not list(tmp_path.iterdir())
    plain = _result({"chat": "chat", "voice": "voice"})
    plain.meta.pop("queues")
    written = export_queues(plain, tmp_path / "plain", workbook=False)
    assert [p.name for p in written] == ["queues.csv", "chat_shift_plan.csv",
                                         "chat_intervals.csv", "voice_shift_plan.csv",
                                         "voice_intervals.csv"]
    w = weekly_rollup(plain)
    assert w.loc[w["level"] == "total", "fte"].tolist() == pytest.approx([1.4 + 2.8])


def test_progress_is_reported_after_each_queue(tmp_path):
    seen = []
    export_queues(_result(), tmp_path / "p", workbook=False,
                  progress=lambda f, m: seen.append((f, m)))
    assert [f for f, _ in seen] == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert seen[-1][1] == "Wrote queue 3 of 3: ../voice"
