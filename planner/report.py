"""One-page peak report: a self-contained, printable HTML page per scenario or comparison.

For people who do not open the app: the scenario names, the key assumptions (and, for
a comparison, every assumption that differs from the baseline), the totals, and the
charts - demand by day, FTE by week, service level by day, email backlog, hiring when
the scenarios have capacity settings. Charts are inline SVG (no script, no network) and
every figure they draw is also written as text in a table next to them, so the page can
be printed, mailed, searched and read by a screen reader.

Every number comes from :func:`planner.compare.compare` (one source with the app and
the CLI); :func:`daily_demand` is the only figure computed here (a sum of the offered
volume the scenario planned for).

Examples
--------
>>> import pandas as pd
>>> from planner.results import ScenarioResult
>>> from planner.scenario import Scenario
>>> weekly = pd.DataFrame({"week": pd.to_datetime(["2024-11-04"]), "channel": ["chat"],
...                        "days": [7], "paid_hours": [400.0], "fte": [10.0],
...                        "cost": [8000.0]})
>>> r = ScenarioResult(Scenario(name="base"), weekly=weekly)
>>> html = peak_report([r])
>>> "Peak report: base" in html and "8,000" in html
True
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from planner.compare import Comparison, compare, diff_table
from planner.palette import channel_colors, scenario_colors
from planner.results import ScenarioResult

__all__ = [
    "ALL_CHANNELS",
    "daily_demand",
    "date_hour_grid",
    "key_assumptions",
    "peak_report",
    "weekly_by_channel",
    "write_report",
]

#: Channel label of the rows summed over all channels (:func:`weekly_by_channel`).
ALL_CHANNELS = "all channels"

_W, _H = 520, 190  # chart size in px
_L, _R, _T, _B = 56, 10, 10, 26  # margins


def daily_demand(result: ScenarioResult) -> pd.DataFrame:
    """Offered contacts per day and channel after the scenario's assumptions:
    ``date, channel, volume`` (the sum of ``result.volumes`` over each day)."""
    v = result.volumes
    if v is None or not len(v) or "volume" not in v:
        return pd.DataFrame(columns=["date", "channel", "volume"])
    out = v.assign(date=pd.to_datetime(v["ds"]).dt.normalize())
    return out.groupby(["date", "channel"], as_index=False)["volume"].sum()


def weekly_by_channel(comp: Comparison) -> pd.DataFrame:
    """FTE, paid hours and cost by scenario, week and channel, plus the rows of all
    channels together (``channel == ALL_CHANNELS``, sums):
    ``scenario, week, channel, fte, paid_hours, cost``."""
    w = comp.weekly
    cols = ["scenario", "week", "channel", "fte", "paid_hours", "cost"]
    if not len(w):
        return pd.DataFrame(columns=cols)
    per = w[cols].copy()
    total = per.groupby(["scenario", "week"], as_index=False, sort=False)[
        ["fte", "paid_hours", "cost"]].sum().assign(channel=ALL_CHANNELS)
    return pd.concat([per, total[cols]], ignore_index=True)


def date_hour_grid(result: ScenarioResult, channel: str, value: str) -> pd.DataFrame:
    """One value per day and hour of one channel, for a date x hour heatmap:
    ``date, hour, value``.

    ``value``: ``"service_level"`` (achieved, volume-weighted over the hour's intervals,
    from ``kpis_interval``; hours without contacts are left out) or ``"short_agents"``
    (the most rostered agents missing in any interval of the hour, from ``coverage``).

    Raises
    ------
    ValueError
        When ``value`` is not one of the two.
    """
    if value == "service_level":
        k = result.kpis_interval
        if k is None or not len(k):
            return pd.DataFrame(columns=["date", "hour", "value"])
        k = k[(k["channel"] == channel) & (k["volume"] > 0)]
        ds = pd.to_datetime(k["ds"])
        f = pd.DataFrame({"date": ds.dt.normalize(), "hour": ds.dt.hour,
                          "w": k["volume"].to_numpy(float),
                          "x": k["sl"].to_numpy(float) * k["volume"].to_numpy(float)})
        g = f.groupby(["date", "hour"], as_index=False)[["w", "x"]].sum()
        return g.assign(value=g["x"] / g["w"])[["date", "hour", "value"]]
    if value == "short_agents":
        c = result.coverage
        if c is None or not len(c):
            return pd.DataFrame(columns=["date", "hour", "value"])
        c = c[c["channel"] == channel]
        ds = pd.to_datetime(c["ds"])
        short = (c["short"] if "short" in c else (c["required"] - c["scheduled"]).clip(lower=0))
        f = pd.DataFrame({"date": ds.dt.normalize(), "hour": ds.dt.hour,
                          "value": short.to_numpy(float)})
        return f.groupby(["date", "hour"], as_index=False)["value"].max()
    raise ValueError(f"value must be 'service_level' or 'short_agents', got {value!r}")


def key_assumptions(result: ScenarioResult) -> pd.DataFrame:
    """The assumptions a reader asks for first, per channel, in words:
    ``Channel, Model, Service level target, Handle time, Shrinkage, Automation, Open
    hours, Cost per paid hour``."""
    s = result.scenario
    rows = []
    for ch, c in s.channels.items():
        if c.deferred:
            target = f"answered within {(c.response_target_s or c.threshold_s) / 3600:,.0f} h"
        else:
            target = f"{c.target_sl:.0%} within {c.threshold_s:,.0f} s"
        auto = c.automation if isinstance(c.automation, (int, float)) else max(
            c.automation.values(), default=0.0)
        shrink = c.shrinkage if isinstance(c.shrinkage, (int, float)) else max(
            c.shrinkage.values(), default=0.0)
        rows.append({
            "Channel": ch, "Model": c.model.replace("_", " "), "Service level target": target,
            "Handle time": "learned" if c.aht_s is None else f"{c.aht_s:,.0f} s",
            "Shrinkage": f"{shrink:.0%}", "Automation": f"{auto:.0%}",
            "Open hours": c.open_hours or "always", "Cost per paid hour":
                f"{s.channel_cost(ch):,.2f}",
        })
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ SVG
def _ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / n
    mag = 10 ** np.floor(np.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=raw)
    start = np.floor(lo / step) * step
    return [float(start + i * step) for i in range(int(np.ceil((hi - start) / step)) + 1)]


def _svg_lines(series: Mapping[str, pd.Series], colors: Mapping[str, str], y_fmt: str,
               title: str, target: float | None = None) -> str:
    """A line chart as inline SVG: ``series`` maps a label to a Series indexed by date."""
    series = {k: v.dropna() for k, v in series.items() if v is not None and len(v.dropna())}
    series = {k: series[k] for k in [*colors, *series] if k in series}  # legend in role order
    if not series:
        return '<p class="none">No data.</p>'
    xs = pd.DatetimeIndex(sorted({d for s in series.values() for d in s.index}))
    x0, x1 = xs.min(), xs.max()
    span = max((x1 - x0).total_seconds(), 1.0)
    values = np.concatenate([s.to_numpy(float) for s in series.values()])
    lo = min(0.0, float(values.min()))
    hi = float(values.max()) if target is None else max(float(values.max()), target)
    ticks = _ticks(lo, hi)
    lo, hi = ticks[0], ticks[-1]
    pw, ph = _W - _L - _R, _H - _T - _B

    def px(d: pd.Timestamp) -> float:
        return _L + pw * (d - x0).total_seconds() / span

    def py(v: float) -> float:
        return _T + ph * (1 - (v - lo) / (hi - lo or 1.0))

    parts = [f'<svg class="chart" viewBox="0 0 {_W} {_H}" width="{_W}" height="{_H}" '
             f'role="img" aria-label="{html.escape(title)}">']
    for t in ticks:
        parts.append(f'<line x1="{_L}" x2="{_W - _R}" y1="{py(t):.1f}" y2="{py(t):.1f}" '
                     'stroke="#ddd"/>')
        parts.append(f'<text x="{_L - 4}" y="{py(t) + 3:.1f}" text-anchor="end">'
                     f'{html.escape(format(t, y_fmt))}</text>')
    months = pd.date_range(x0.normalize(), x1, freq="MS")
    marks = months if len(months) >= 2 else pd.DatetimeIndex(sorted({x0, x1}))
    for d in marks:
        if x0 <= d <= x1:
            anchor = ("start" if px(d) < _L + 20 else "end" if px(d) > _W - _R - 20
                      else "middle")
            parts.append(f'<text x="{px(d):.1f}" y="{_H - 8}" text-anchor="{anchor}">'
                         f'{d:%d %b}</text>')
    if target is not None:
        parts.append(f'<line x1="{_L}" x2="{_W - _R}" y1="{py(target):.1f}" '
                     f'y2="{py(target):.1f}" stroke="#d62728" stroke-dasharray="4 3"/>')
    for label, s in series.items():
        pts = " ".join(f"{px(d):.1f},{py(v):.1f}" for d, v in s.items())
        parts.append(f'<polyline fill="none" stroke="{colors[label]}" stroke-width="1.6" '
                     f'points="{pts}"><title>{html.escape(label)}</title></polyline>')
        if len(s) <= 40:  # dots, so that a single week or a few days still show
            parts += [f'<circle cx="{px(d):.1f}" cy="{py(v):.1f}" r="2.5" '
                      f'fill="{colors[label]}"/>' for d, v in s.items()]
    parts.append("</svg>")
    legend = " ".join(
        f'<span class="key"><i style="background:{colors[k]}"></i>{html.escape(k)}</span>'
        for k in series)
    if target is not None:
        legend += (' <span class="key"><i style="background:#d62728"></i>target '
                   f"{html.escape(format(target, y_fmt))}</span>")
    return f'<figure>{"".join(parts)}<figcaption>{legend}</figcaption></figure>'


def _table(frame: pd.DataFrame, formats: Mapping[str, str] | None = None) -> str:
    formats = formats or {}
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for c, v in zip(frame.columns, row, strict=True):
            if isinstance(v, pd.Timestamp):
                text, num = f"{v:%d %b %Y}", False
            elif isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
                text = "-" if pd.isna(v) else format(v, formats.get(c, ",.0f"))
                num = True
            else:
                text, num = ("-" if v is None else str(v)), False
            cells.append(f'<td{" class=n" if num else ""}>{html.escape(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


_CSS = """
body{font:12px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;
margin:16px;max-width:1120px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:14px;margin:14px 0 4px;border-bottom:1px solid #ccc}
.meta{color:#555;margin:0 0 8px}.grid{display:grid;grid-template-columns:1fr 1fr;gap:4px 18px}
table{border-collapse:collapse;margin:4px 0;font-size:11px}
th,td{border-bottom:1px solid #e3e3e3;padding:2px 6px;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f4}
svg.chart text{font-size:10px;fill:#444}figure{margin:0}
figcaption{font-size:11px}.key{margin-right:10px;white-space:nowrap}
.key i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:-1px}
.none{color:#777}
@media print{body{margin:0}@page{size:A4 landscape;margin:10mm}section{break-inside:avoid}}
"""


def _labelled(results: Sequence[ScenarioResult] | Mapping[str, ScenarioResult]
              ) -> dict[str, ScenarioResult]:
    if isinstance(results, Mapping):
        return {str(k): v for k, v in results.items()}
    out: dict[str, ScenarioResult] = {}
    for r in results:
        label = r.name
        if label in out:
            label = f"{r.name}@v{r.meta.get('version', len(out) + 1)}"
        out[label] = r
    return out


def peak_report(
    results: Sequence[ScenarioResult] | Mapping[str, ScenarioResult],
    baseline: str | None = None,
    title: str | None = None,
) -> str:
    """The one-page peak report of one scenario or a comparison, as an HTML document.

    Parameters
    ----------
    results : sequence or mapping of ScenarioResult
        Labelled as in :func:`planner.compare.compare` (a mapping uses its keys).
    baseline : str, optional
        Label of the baseline (default the first).
    title : str, optional
        Heading; default ``Peak report: A vs B``.

    Returns
    -------
    str
        A complete HTML page (UTF-8, inline CSS and SVG, no scripts, nothing fetched).

    Raises
    ------
    planner.compare.CompareError
        When ``results`` is empty or ``baseline`` is not among them.
    """
    labelled = _labelled(results)
    comp = compare(labelled, baseline=baseline)
    labels = list(labelled)
    base = comp.baseline
    colors = scenario_colors(labels, base)
    heading = title or "Peak report: " + " vs ".join(labels)
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>"
             f"{html.escape(heading)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{html.escape(heading)}</h1>", f'<p class="meta">{_meta_line(labelled, base)}'
             "</p>"]
    parts.append(_section("Totals", _totals_table(comp, len(labels) > 1)))
    parts.append(_section(f"Key assumptions ({html.escape(base)})",
                          _table(key_assumptions(labelled[base]))))
    if len(labels) > 1:
        diff = diff_table(comp.assumptions)
        parts.append(_section("What differs from the baseline",
                              _table(diff) if len(diff) else
                              "<p>The scenarios make the same assumptions.</p>"))
    grid = [_demand(labelled, colors), _fte(comp, labels, colors)]
    grid += _service_levels(comp, labelled, colors)
    grid.append(_backlog(comp, colors))
    parts.append('<div class="grid">' + "".join(g for g in grid if g) + "</div>")
    if len(comp.capacity):
        words = {"scenario": "Scenario", "hires": "Hires", "classes": "Hiring classes",
                 "hiring_cost": "Hiring cost", "cost": "Cost", "peak_gap_fte":
                 "Largest gap, FTE", "short_fte_weeks": "Weeks short",
                 "latest_decision": "Latest hiring decision"}
        cap = comp.capacity.rename(columns=lambda c: words.get(c, c.replace("_", " ")))
        parts.append(_section("Hiring (capacity plan)", _table(cap, {
            "Hires": ",.0f", "Hiring cost": ",.0f", "Cost": ",.0f",
            "Largest gap, FTE": ",.1f"})))
    parts.append("</body></html>")
    return "\n".join(parts)


def _section(title: str, body: str) -> str:
    return f"<section><h2>{html.escape(title) if '<' not in title else title}</h2>{body}</section>"


def _meta_line(labelled: Mapping[str, ScenarioResult], base: str) -> str:
    bits = []
    for label, r in labelled.items():
        h = r.scenario.horizon
        extra = [f"{h.start:%d %b %Y} to {h.end:%d %b %Y}"]
        if r.meta.get("version") is not None:
            extra.append(f"saved version {r.meta['version']}")
        if r.meta.get("note"):
            extra.append(f"note: {r.meta['note']}")
        # the colon next to the name, also in the page's text layer (copied, read aloud)
        name = (f"<b>{html.escape(label)}</b> (baseline):" if label == base
                and len(labelled) > 1 else f"<b>{html.escape(label)}:</b>")
        bits.append(f"{name} {html.escape('; '.join(extra))}")
    return "<br>".join(bits)


def _totals_table(comp: Comparison, deltas: bool) -> str:
    t = comp.totals
    out = pd.DataFrame({"Scenario": t["scenario"], "Paid hours": t["paid_hours"],
                        "Average FTE": t["avg_fte"], "Peak-week FTE": t["peak_week_fte"],
                        "Cost": t["cost"]})
    if deltas:
        out["Cost vs baseline"] = t["d_cost"]
        out["FTE vs baseline"] = t["d_avg_fte"]
    s = comp.summary
    if len(s) and "service_level" in s:
        for ch in dict.fromkeys(s["channel"]):
            part = s[s["channel"] == ch].set_index("scenario")["service_level"]
            out[f"{ch} service level"] = out["Scenario"].map(part)
    fmts = {"Average FTE": ",.1f", "Peak-week FTE": ",.1f", "Cost vs baseline": "+,.0f",
            "FTE vs baseline": "+,.1f"}
    fmts |= {c: ".1%" for c in out.columns if c.endswith("service level")}
    return _table(out, fmts)


def _demand(labelled: Mapping[str, ScenarioResult], colors: Mapping[str, str]) -> str:
    frames = {k: daily_demand(r) for k, r in labelled.items()}
    if not any(len(f) for f in frames.values()):
        return ""
    if len(labelled) == 1:
        f = next(iter(frames.values()))
        series = {ch: g.set_index("date")["volume"] for ch, g in f.groupby("channel", sort=False)}
        cols = channel_colors(series)
        what = "Contacts per day by channel"
    else:
        series = {k: f.groupby("date")["volume"].sum() for k, f in frames.items() if len(f)}
        cols = colors
        what = "Contacts per day, all channels"
    totals = pd.DataFrame([
        {"Scenario": k, **{ch: float(g["volume"].sum()) for ch, g in f.groupby("channel")},
         "Total": float(f["volume"].sum())} for k, f in frames.items() if len(f)])
    return _section("Demand", _svg_lines(series, cols, ",.0f", what)
                    + "<p>Contacts over the horizon</p>" + _table(totals))


def _fte(comp: Comparison, labels: list[str], colors: Mapping[str, str]) -> str:
    w = comp.weekly
    if not len(w):
        return ""
    per = w.groupby(["scenario", "week"], as_index=False)[["fte", "cost"]].sum()
    series = {k: g.set_index("week")["fte"] for k, g in per.groupby("scenario", sort=False)}
    table = per.pivot(index="week", columns="scenario", values="fte").reindex(
        columns=[k for k in labels if k in set(per["scenario"])]).reset_index()
    table = table.rename(columns={"week": "Week of"})
    table.columns.name = None
    fmts = {k: ",.1f" for k in labels}
    return _section("FTE by week (all channels)",
                    _svg_lines(series, colors, ",.0f", "FTE by week") + _table(table, fmts))


def _service_levels(comp: Comparison, labelled: Mapping[str, ScenarioResult],
                    colors: Mapping[str, str]) -> list[str]:
    d = comp.daily
    if not len(d) or "service_level" not in d:
        return []
    out = []
    base = labelled[comp.baseline].scenario
    for ch in dict.fromkeys(d["channel"]):
        settings = base.channels.get(ch)
        if settings is not None and settings.deferred:
            continue
        part = d[d["channel"] == ch]
        series = {k: g.set_index("date")["service_level"]
                  for k, g in part.groupby("scenario", sort=False)}
        target = None if settings is None else settings.target_sl
        rows = []
        for k, g in part.groupby("scenario", sort=False):
            sl = g["service_level"]
            rows.append({"Scenario": k, "Lowest day": float(sl.min()),
                         "Lowest on": pd.Timestamp(g.loc[sl.idxmin(), "date"]),
                         "Days below target": int((sl < target).sum()) if target else 0})
        out.append(_section(f"Service level by day: {ch}", _svg_lines(
            series, colors, ".0%", f"{ch} service level by day", target)
            + _table(pd.DataFrame(rows), {"Lowest day": ".1%", "Days below target": ",.0f"})))
    return out


def _backlog(comp: Comparison, colors: Mapping[str, str]) -> str:
    b = comp.backlog
    if not len(b) or "backlog_items" not in b:
        return ""
    per = b.groupby(["scenario", "date"], as_index=False)[["backlog_items", "backlog_age_h"]].agg(
        {"backlog_items": "sum", "backlog_age_h": "max"})
    groups = dict(tuple(per.groupby("scenario")))
    order = [k for k in colors if k in groups]  # as compared (as the other tables)
    series = {k: groups[k].set_index("date")["backlog_items"] for k in order}
    rows = [{"Scenario": k, "Largest backlog (items)": float(groups[k]["backlog_items"].max()),
             "Oldest item (h)": float(groups[k]["backlog_age_h"].max())} for k in order]
    return _section("Email backlog by day", _svg_lines(series, colors, ",.0f", "Backlog items")
                    + _table(pd.DataFrame(rows), {"Oldest item (h)": ",.1f"}))


def write_report(
    path: str | os.PathLike,
    results: Sequence[ScenarioResult] | Mapping[str, ScenarioResult],
    baseline: str | None = None,
) -> Path:
    """Write :func:`peak_report` to ``path`` (UTF-8) atomically; returns the path."""
    from planner.export import atomic_path

    text = peak_report(results, baseline)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
