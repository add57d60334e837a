"""War-room pieces of the Scenarios page: saved-scenario management, the "modified"
marker, FTE and cost by week, the date x hour heatmap and the peak report download.

Every figure shown comes from ``planner/`` (:mod:`planner.compare`,
:mod:`planner.report`); these functions only select, label and chart it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app_support import backend, charts, editor, views
from planner.labels import PERCENT_COLUMNS, header
from planner.report import ALL_CHANNELS, date_hour_grid, peak_report, weekly_by_channel
from planner.scenario import Scenario, ScenarioError

__all__ = [
    "DEFAULT_ORIGIN",
    "ORIGIN",
    "compare_extras",
    "differs_table",
    "manage_saved",
    "modified_marker",
    "name_problem",
    "remember_origin",
    "save_caption",
    "show_table",
    "started_from",
]

#: Session key: ``(label, yaml, started_from)`` of the version the editor was loaded from.
ORIGIN = "sc_origin"
#: Label of the origin of a fresh session: the scenario the app opens with.
DEFAULT_ORIGIN = "the default scenario"

_LIST_HEADERS = {"name": "Name", "version": "Version", "saved_at": "Saved at",
                 "saved_by": "Saved by", "started_from": "Started from", "note": "Note"}


def remember_origin(label: str, scenario: Scenario, started: str = "") -> None:
    """Record what the editor now holds, as loaded or saved (for the "modified" marker)."""
    st.session_state[ORIGIN] = (label, scenario.to_yaml(), started)


def started_from() -> str:
    """The example the current scenario started from ("" when unknown)."""
    origin = st.session_state.get(ORIGIN)
    return origin[2] if origin else ""


def modified_marker(scenario: Scenario) -> bool:
    """Show whether the editor differs from the version it was loaded from or last saved
    as (in a fresh session: the scenario the app opened with); returns True when
    modified."""
    origin = st.session_state.get(ORIGIN)
    if origin is None:  # nothing loaded or saved yet: the editor began as the default
        remember_origin(DEFAULT_ORIGIN, backend.default_scenario())
        origin = st.session_state[ORIGIN]
    label, yaml_text, _ = origin
    if scenario.to_yaml() == yaml_text:
        st.caption(f":material/check: Same as {views.md(label)}.")
        return False
    st.markdown(f":orange-badge[:material/edit: modified] edits not yet saved "
                f"(since {views.md(label)}).")
    return True


def name_problem(name: str, exc: ScenarioError) -> str:
    """Why the scenario name typed as ``name`` is refused (``exc``, the core's error), in
    the words of the name box: what to do, without the previous name or the typed one
    quoted back.

    Examples
    --------
    >>> from planner.scenario import Scenario
    >>> try:
    ...     Scenario().with_changes({"name": ""})
    ... except ScenarioError as exc:
    ...     print(name_problem("", exc))
    enter a name
    """
    if not name.strip():
        return "enter a name"
    if name != name.strip():
        return "remove the spaces at its start or end"
    bad = {"/": "slashes", "\\": "backslashes", "\t": "tabs", "\n": "line breaks",
           "\r": "line breaks"}
    found = list(dict.fromkeys(word for c, word in bad.items() if c in name))
    if found:
        return "must not contain " + ", ".join(found)
    if len(name) > 120:
        return f"at most 120 characters (this one has {len(name):,})"
    return editor.core_reason(exc, ["name"], None)


def save_caption(note: str, saved_by: str) -> str:
    """What "Run and save" stores with the new version besides the plan (Markdown)."""
    what = (f"note \u201c{views.md(note.strip())}\u201d" if note.strip() else "no note")
    who = f", saved by {views.md(saved_by.strip())}" if saved_by.strip() else ""
    return f"The next saved version gets {what}{who}; the note box clears after a save."


def differs_table(differs: pd.DataFrame) -> pd.DataFrame:
    """``diff_table`` output for ``st.table`` (which renders Markdown): every cell and
    the scenario index escaped, so names read as typed."""
    shown = differs.map(views.md)
    return shown.set_index("Scenario")


def manage_saved(url: str, saved: pd.DataFrame | None) -> bool:
    """The saved-scenarios list (who, when, note, started from) with rename, delete
    (restorable), restore and note editing. Returns True when something changed."""
    with st.expander("Saved scenarios: rename, delete, restore, notes",
                     icon=":material/folder_managed:",
                     expanded=bool(st.session_state.get("wr_open"))):  # open after an action
        if saved is None:
            st.info("The scenario store is not available.")
            return False
        shown = saved.assign(saved_at=pd.to_datetime(saved["saved_at"]).dt.strftime(
            "%Y-%m-%d %H:%M")) if len(saved) else saved
        st.dataframe(shown.reindex(columns=list(_LIST_HEADERS)).rename(columns=_LIST_HEADERS),
                     width="stretch", hide_index=True)
        names = list(dict.fromkeys(saved["name"])) if len(saved) else []
        store = backend.store(url)
        changed = False
        if names:
            c = st.columns([2, 2, 1, 1], vertical_alignment="bottom")
            name = c[0].selectbox("Scenario", names, key="wr_name")
            new_name = c[1].text_input("New name", key="wr_new_name")
            if c[2].button("Rename", key="wr_rename", disabled=not new_name.strip()):
                try:  # refused in the words of the name box, before the store is asked
                    Scenario().with_changes({"name": new_name.strip()})
                except ScenarioError as exc:
                    st.error(views.md(f"New name: {name_problem(new_name.strip(), exc)}"),
                             icon=":material/error:")
                else:
                    changed |= _do(lambda: store.rename(name, new_name.strip()),
                                   f"Renamed {name} to {new_name.strip()}.")
            if c[3].button("Delete", key="wr_delete", icon=":material/delete:"):
                changed |= _do(lambda: store.delete(name),
                               f"Deleted {name} (restore it below).")
            versions = saved.loc[saved["name"] == name, "version"].astype(int).tolist()
            n = st.columns([1, 4, 1], vertical_alignment="bottom")
            version = n[0].selectbox("Version", versions, index=len(versions) - 1,
                                     key="wr_version")
            note = n[1].text_input("Note", key="wr_note_text")
            if n[2].button("Save note", key="wr_note"):
                changed |= _do(lambda: store.annotate(name, int(version), note),
                               f"Note of {name} v{version} saved.")
        try:
            gone = store.list(deleted=True)
        except ValueError:
            gone = pd.DataFrame()
        if len(gone):
            r = st.columns([3, 1], vertical_alignment="bottom")
            back = r[0].selectbox("Deleted scenarios", list(gone["name"]), key="wr_deleted")
            if r[1].button("Restore", key="wr_restore", icon=":material/restore_from_trash:"):
                changed |= _do(lambda: store.restore(back), f"Restored {back}.")
        if changed:
            backend.load_saved.clear()  # a name may now mean other versions
        return changed


def show_table(frame: pd.DataFrame, container: Any = None) -> None:
    """``frame`` with headers in words, thousands separators, shares as percentages and
    times in 24-hour form (a table people read, not a file)."""
    box = container if container is not None else st
    config = {}
    frame = frame.copy()
    for col in frame.columns:  # shares to 0.1 %, other decimals to 0.1, blanks as "-"
        if frame[col].dtype.kind == "f":
            frame[col] = frame[col].round(3 if col in PERCENT_COLUMNS else 1)
        elif frame[col].dtype == object:
            frame[col] = frame[col].where(frame[col].notna(), "-")
    for col in frame.columns:
        kind = frame[col].dtype.kind
        if col in PERCENT_COLUMNS:
            config[col] = st.column_config.NumberColumn(header(col), format="percent")
        elif kind in "fiu":
            config[col] = st.column_config.NumberColumn(header(col), format="localized")
        elif kind == "M":
            times = frame[col].dropna()
            midnight = bool((times == times.dt.normalize()).all())
            fmt = "YYYY-MM-DD" if midnight and col != "ds" else "YYYY-MM-DD HH:mm"
            config[col] = st.column_config.DatetimeColumn(header(col), format=fmt)
        else:
            config[col] = st.column_config.Column(header(col))
    box.dataframe(frame, width="stretch", hide_index=True, column_config=config)


def _do(action: Any, done: str) -> bool:
    try:
        action()
    except ValueError as exc:
        st.error(views.md(exc), icon=":material/error:")
        return False
    st.session_state["wr_done"] = done
    st.session_state["wr_open"] = True
    return True


def compare_extras(comparison: Any, results: dict[str, Any], baseline: str) -> None:
    """FTE and cost by week (per channel and in total), the date x hour heatmap of one
    scenario, and the one-page peak report download."""
    st.subheader("FTE and cost by week")
    weekly = weekly_by_channel(comparison)
    if len(weekly):
        channels = [ALL_CHANNELS, *dict.fromkeys(c for c in weekly["channel"]
                                                 if c != ALL_CHANNELS)]
        ch = st.segmented_control("Channel", channels, default=ALL_CHANNELS, key="wr_week_ch")
        part = weekly[weekly["channel"] == (ch or ALL_CHANNELS)]
        left, right = st.columns(2)
        left.altair_chart(charts.week_lines_chart(part, "fte", "FTE", ",.1f", baseline),
                          width="stretch")
        right.altair_chart(charts.week_lines_chart(part, "cost", "Cost", ",.0f", baseline),
                           width="stretch")
    else:
        st.info("No weekly figures in these scenarios.")

    st.subheader("Day by hour")
    c = st.columns(3)
    label = c[0].selectbox("Scenario", list(results), key="wr_hm_scenario")
    result = results[label]
    planned = result.planned_scenario.channels  # a plan per queue: one entry per queue
    ch = c[1].selectbox("Queue" if result.meta.get("queues") else "Channel", list(planned),
                        key="wr_hm_channel")
    what = c[2].radio("Show", ["Service level", "Agents short"], horizontal=True,
                      key="wr_hm_value")
    value = "service_level" if what == "Service level" else "short_agents"
    grid = date_hour_grid(result, ch, value)
    if len(grid):
        fmt, scheme = (".0%", "redyellowgreen") if value == "service_level" else (",.0f",
                                                                                   "reds")
        title = "Service level" if value == "service_level" else "Agents short"
        target = (planned[ch].target_sl if value == "service_level"
                  else None)
        st.altair_chart(charts.date_hour_heatmap(grid, title, fmt, scheme, target),
                        width="stretch")
    else:
        st.info(f"No interval figures for {views.md(ch)} in {views.md(label)}.")

    st.subheader("Peak report")
    html = peak_report(results, baseline=baseline)
    st.session_state["peak_report"] = ("_vs_".join(results), html)  # also on the Export page
    st.download_button(
        "Peak report (printable page)", html.encode("utf-8"),
        file_name=f"peak_report_{views.file_stem('_vs_'.join(results))}.html",
        mime="text/html", key="dl_report", icon=":material/print:",
        help="One page for people who do not open the app: open it in a browser and "
             "print or save as PDF.")
