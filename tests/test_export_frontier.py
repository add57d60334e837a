"""The app's plan workbook is the CLI's: same sheets, and its cost-risk frontier sheet holds
the core's frontier.

The workbook is read from the bytes the Export page's download button serves (captured
where Streamlit's test runtime stores media files) with openpyxl, not through the app's
or the exporter's own readers. The reference frontier is computed independently by
:func:`planner.risk.scenario_frontier` on the scenario the page ran; the CLI's workbook is
written by ``python -m planner run`` in a subprocess.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
PEAK_START = dt.date(2024, 11, 28)
PEAK_DAYS = 2


@pytest.fixture(autouse=True)
def _private_store(tmp_path, monkeypatch):
    monkeypatch.setenv("PEAK_PLANNER_DB_URL", f"sqlite:///{tmp_path / 'app_test.db'}")
    monkeypatch.setenv("PEAK_PLANNER_UPLOAD_DIR", str(tmp_path / "uploads"))


@pytest.fixture
def served(monkeypatch) -> dict[str, bytes]:
    """Bytes of every media file the test runtime stores, by file id."""
    files: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def keep(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        files[file_id] = self.get_file(file_id).content
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    return files


def _sheet(book: openpyxl.Workbook, name: str) -> list[dict[str, object]]:
    rows = list(book[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:   # an empty cell is a NaN of the frame
            return (a is None or math.isnan(a)) and (b is None or math.isnan(b))
        return a == pytest.approx(b, rel=1e-9, abs=1e-9)
    return a == b


def test_export_page_workbook_is_the_cli_workbook_with_the_core_frontier(served, tmp_path):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("app_support/pages/forecast.py").run()
    at.number_input(key="w.forecast.horizon.days").set_value(PEAK_DAYS)
    at.date_input(key="w.forecast.horizon.start").set_value(PEAK_START)
    at.run()
    at.switch_page("app_support/pages/export.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    button = next(b for b in at.get("download_button")
                  if b.proto.label == "Plan workbook (Excel)")
    file_id = Path(button.proto.url).stem
    book = openpyxl.load_workbook(io.BytesIO(served[file_id]))
    assert "Cost-risk frontier" in book.sheetnames

    # the core's frontier of the scenario the page ran
    from planner import run
    from planner.risk import scenario_frontier

    scenario = at.session_state["scenario"]
    frontier = scenario_frontier(run(scenario))
    rows = _sheet(book, "Cost-risk frontier")
    assert len(rows) == len(frontier)
    staff_to = {r["staff_to"] for r in rows}
    assert {"mean", "upper", "p50", "p80", "p95"} <= staff_to
    for got, (_, want) in zip(rows, frontier.iterrows(), strict=True):
        assert got["channel"] == want["channel"] and got["staff_to"] == want["staff_to"]
        for col in ("paid_hours", "intervals_at_risk", "day_miss", "expected_sl"):
            # the sheet rounds floats to 4 decimals
            if got[col] is None:     # an empty cell: no SL for deferred work
                assert math.isnan(want[col]), (got, col)
            else:
                assert got[col] == pytest.approx(want[col], abs=6e-5), (got, col)
    # more hours buy less risk along the sheet's probabilities
    allp = sorted((r["p"], r["paid_hours"], r["intervals_at_risk"]) for r in rows
                  if r["channel"] == "all" and r["p"] is not None)
    assert [h for _, h, _ in allp] == sorted(h for _, h, _ in allp)

    # the CLI writes the same workbook for the same scenario: sheet by sheet, cell by cell
    yaml_path = tmp_path / "s.yaml"
    yaml_path.write_text(scenario.to_yaml())
    out = tmp_path / "out"
    subprocess.run([sys.executable, "-m", "planner", "run", str(yaml_path), "--out", str(out)],
                   cwd=ROOT, check=True, capture_output=True, timeout=600)
    cli = openpyxl.load_workbook(out / "plan.xlsx")
    assert cli.sheetnames == book.sheetnames
    for name in cli.sheetnames:
        a = list(book[name].iter_rows(values_only=True))
        b = list(cli[name].iter_rows(values_only=True))
        assert len(a) == len(b), name
        for ra, rb in zip(a, b, strict=True):
            diff = [(x, y) for x, y in zip(ra, rb, strict=True) if not _same(x, y)]
            assert not diff, (name, ra, rb, diff)
