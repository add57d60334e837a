"""Export a shift plan for a rostering system: CSV and an Excel workbook.

The CSV has one header row and one row per (date, channel, shift, start, break) with ISO
dates (``2024-11-29``) and 24-hour ``HH:MM`` times, the form rostering tools import. The
workbook (openpyxl) holds four sheets: ``Shift plan`` (same columns as the CSV),
``Coverage`` (required vs scheduled agents per interval), ``KPIs`` (by day and channel) and
``Assumptions`` (the parameters the plan was made with).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "EXPORT_COLUMNS",
    "ExportError",
    "export_csv",
    "export_excel",
    "shift_plan_table",
]

EXPORT_COLUMNS = [
    "date", "channel", "shift", "shift_start", "shift_end", "break_start", "break_end",
    "agents", "paid_hours",
]
SHEETS = ("Shift plan", "Coverage", "KPIs", "Assumptions")


class ExportError(ValueError):
    """The frame to export lacks a required column (named in the message)."""


def _hhmm(values: pd.Series, day: pd.Series) -> list[str]:
    """``HH:MM`` of each timestamp; a time on the next day is written ``24:00``/``+1 06:00``."""
    out = []
    for ts, d in zip(pd.to_datetime(values), day, strict=True):
        if pd.isna(ts):
            out.append("")
            continue
        days = (ts.normalize() - d).days
        text = ts.strftime("%H:%M")
        if days == 1 and text == "00:00":
            text = "24:00"
        elif days:
            text = f"+{days} {text}"
        out.append(text)
    return out


def shift_plan_table(shift_plan: pd.DataFrame) -> pd.DataFrame:
    """The shift plan with ISO dates and ``HH:MM`` times (strings), ready to write.

    Parameters
    ----------
    shift_plan : DataFrame
        ``date, channel, shift_start, shift_end, break_start, agents`` (timestamps), as
        ``ShiftPlan.shift_plan``; ``shift``, ``break_end`` and ``paid_hours`` are optional.

    Returns
    -------
    DataFrame
        Columns ``date, channel, shift, shift_start, shift_end, break_start, break_end,
        agents, paid_hours``; times of a shift ending at midnight read ``24:00``.

    Raises
    ------
    ExportError
        A required column is missing.

    Examples
    --------
    >>> sp = pd.DataFrame({"date": [pd.Timestamp("2024-11-29")], "channel": ["voice"],
    ...     "shift_start": [pd.Timestamp("2024-11-29 16:00")],
    ...     "shift_end": [pd.Timestamp("2024-11-30 00:00")],
    ...     "break_start": [pd.Timestamp("2024-11-29 19:30")], "agents": [3]})
    >>> shift_plan_table(sp)[["date", "shift_start", "shift_end", "break_start"]].iloc[0].tolist()
    ['2024-11-29', '16:00', '24:00', '19:30']
    """
    need = {"date", "channel", "shift_start", "shift_end", "break_start", "agents"}
    missing = need - set(shift_plan.columns)
    if missing:
        raise ExportError(f"shift_plan is missing column(s) {sorted(missing)}")
    sp = shift_plan.sort_values(["date", "channel", "shift_start"], kind="stable")
    day = pd.to_datetime(sp["date"]).dt.normalize()
    out = pd.DataFrame(
        {
            "date": day.dt.strftime("%Y-%m-%d").to_numpy(),
            "channel": sp["channel"].astype(str).to_numpy(),
            "shift": sp["shift"].astype(str).to_numpy() if "shift" in sp else "",
            "shift_start": _hhmm(sp["shift_start"], day),
            "shift_end": _hhmm(sp["shift_end"], day),
            "break_start": _hhmm(sp["break_start"], day),
            "break_end": _hhmm(sp["break_end"], day) if "break_end" in sp else "",
            "agents": sp["agents"].astype(np.int64).to_numpy(),
            "paid_hours": (
                sp["paid_hours"].astype(float).to_numpy() if "paid_hours" in sp else np.nan
            ),
        }
    )
    return out[EXPORT_COLUMNS]


def export_csv(shift_plan: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write the shift plan as CSV (UTF-8, comma, one header row) and return its path.

    Examples
    --------
    >>> import tempfile
    >>> sp = pd.DataFrame({"date": [pd.Timestamp("2024-11-29")], "channel": ["chat"],
    ...     "shift_start": [pd.Timestamp("2024-11-29 08:00")],
    ...     "shift_end": [pd.Timestamp("2024-11-29 16:00")],
    ...     "break_start": [pd.Timestamp("2024-11-29 12:00")], "agents": [4]})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     print(export_csv(sp, Path(d) / "plan.csv").read_text().splitlines()[1])
    2024-11-29,chat,,08:00,16:00,12:00,,4,
    """
    path = Path(path)
    shift_plan_table(shift_plan).to_csv(path, index=False, lineterminator="\n")
    return path


def _coverage_table(coverage: pd.DataFrame) -> pd.DataFrame:
    need = {"channel", "ds", "required", "scheduled"}
    missing = need - set(coverage.columns)
    if missing:
        raise ExportError(f"coverage is missing column(s) {sorted(missing)}")
    ds = pd.to_datetime(coverage["ds"])
    out = pd.DataFrame(
        {
            "date": ds.dt.strftime("%Y-%m-%d").to_numpy(),
            "time": ds.dt.strftime("%H:%M").to_numpy(),
            "channel": coverage["channel"].astype(str).to_numpy(),
            "required": coverage["required"].astype(float).to_numpy(),
            "scheduled": coverage["scheduled"].astype(float).round(3).to_numpy(),
        }
    )
    out["gap"] = (out["scheduled"] - out["required"]).round(3)
    out["short"] = np.clip(-out["gap"], 0, None)
    return out


def _kpi_table(kpis: pd.DataFrame) -> pd.DataFrame:
    out = kpis.copy()
    if "date" in out.columns:
        out["date"] = pd.to_datetime(out["date"]).dt.strftime("%Y-%m-%d")
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(4)
    return out


def _assumption_rows(assumptions: Mapping[str, object] | pd.DataFrame | None) -> pd.DataFrame:
    if assumptions is None:
        return pd.DataFrame(columns=["parameter", "value"])
    if isinstance(assumptions, pd.DataFrame):
        return assumptions
    rows = []

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        elif hasattr(value, "__dataclass_fields__"):
            for k in value.__dataclass_fields__:  # type: ignore[attr-defined]
                if not k.startswith("_"):
                    walk(f"{prefix}.{k}" if prefix else k, getattr(value, k))
        else:
            rows.append((prefix, value if isinstance(value, (int, float, str)) else str(value)))

    walk("", assumptions)
    return pd.DataFrame(rows, columns=["parameter", "value"])


def export_excel(
    path: str | os.PathLike,
    shift_plan: pd.DataFrame,
    coverage: pd.DataFrame | None = None,
    kpis: pd.DataFrame | None = None,
    assumptions: Mapping[str, object] | pd.DataFrame | None = None,
) -> Path:
    """Write the plan workbook and return its path.

    Parameters
    ----------
    path : path-like
        Target ``.xlsx`` file.
    shift_plan : DataFrame
        As :func:`shift_plan_table`.
    coverage : DataFrame, optional
        ``channel, ds, required, scheduled`` (``ShiftPlan.coverage``).
    kpis : DataFrame, optional
        Daily KPIs (``staffing.kpis.daily_kpis``) or any KPI table.
    assumptions : mapping or DataFrame, optional
        Parameters of the plan; nested mappings and dataclasses (policies, shift rules)
        are flattened into ``parameter, value`` rows (``voice.target_sl``).

    Returns
    -------
    Path
        The written file. Sheets: ``Shift plan``, ``Coverage``, ``KPIs``, ``Assumptions``
        (empty ones keep their header row), header rows bold and frozen.

    Raises
    ------
    ExportError
        A required column is missing.
    """
    from openpyxl.styles import Font

    path = Path(path)
    tables = {
        "Shift plan": shift_plan_table(shift_plan),
        "Coverage": (
            _coverage_table(coverage)
            if coverage is not None
            else pd.DataFrame(
                columns=["date", "time", "channel", "required", "scheduled", "gap", "short"]
            )
        ),
        "KPIs": _kpi_table(kpis) if kpis is not None else pd.DataFrame(columns=["date"]),
        "Assumptions": _assumption_rows(assumptions),
    }
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name in SHEETS:
            tables[name].to_excel(writer, sheet_name=name, index=False)
            ws = writer.sheets[name]
            ws.freeze_panes = "A2"
            for cell in ws[1]:
                cell.font = Font(bold=True)
            for col in ws.columns:
                width = max(len(str(c.value)) if c.value is not None else 0 for c in col[:200])
                ws.column_dimensions[col[0].column_letter].width = min(max(width + 2, 8), 40)
    return path
