"""Scenarios page (war room): edit assumptions, run, save, compare side by side."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_support import backend, charts, editor, risk_view, state, views, warroom
from planner import picks
from planner.compare import CompareError, compare, diff_table
from planner.scenario import ScenarioError, load_scenario
from planner.store import DeletedNameError

st.title("Scenarios - war room")
st.caption(
    "Put peak scenarios side by side: change the assumptions, run, save a version, and "
    "compare KPIs against a baseline."
)

url = backend.store_url()
scenario = state.current_scenario()

# ------------------------------------------------------------------ start from
examples = backend.example_scenarios()
try:
    saved = backend.saved_scenarios(url)
except ValueError as exc:
    st.error(f"The scenario store is not available: {exc}", icon=":material/error:")
    saved = None
starts = {"(keep the current scenario)": None}
starts.update({f"example: {n}": ("example", p) for n, p in examples.items()})
if saved is not None:
    starts.update(
        {f"saved: {r.name} (v{r.version})": ("saved", r.name, int(r.version))
         for r in saved.itertuples(index=False)}
    )
left, right = st.columns([4, 1], vertical_alignment="bottom")
start = left.selectbox("Start from", list(starts), key="sc_start")
if right.button("Load", key="sc_load", disabled=starts[start] is None):
    how = starts[start]
    try:
        loaded = (
            load_scenario(how[1]) if how[0] == "example"  # shipped with the app
            # saved, maybe from the CLI: only the sample or files uploaded to the app
            else backend.check_saved(backend.load_saved(url, how[1], how[2]).scenario,
                                     state.uploads(), f"{how[1]} v{how[2]}")
        )
    except ValueError as exc:
        st.error(f"Could not load {views.md(start)}: {views.md(exc)}", icon=":material/error:")
    else:
        state.set_scenario(loaded, reset_widgets=True)
        if how[0] == "example":
            warroom.remember_origin(f"example {loaded.name}", loaded, loaded.name)
        else:
            meta = backend.load_saved(url, how[1], how[2]).meta
            warroom.remember_origin(f"{how[1]} v{how[2]}", loaded,
                                    str(meta.get("started_from") or ""))
        st.rerun()

yaml_file = st.file_uploader(
    "Or open a scenario file (YAML, as the CLI runs it)", type=["yaml", "yml"], key="sc_yaml"
)
if yaml_file is not None and st.session_state.get("sc_yaml_done") != yaml_file.file_id:
    try:  # size checked before reading; data files: the sample or this session's uploads
        opened = backend.open_scenario_upload(yaml_file.name, yaml_file.getvalue(),
                                              state.uploads())
    except ValueError as exc:
        st.error(f"{views.md(yaml_file.name)} is not a valid scenario:\n\n{views.md(exc)}",
                 icon=":material/error:")
    else:
        st.session_state["sc_yaml_done"] = yaml_file.file_id
        state.set_scenario(opened, reset_widgets=True)
        warroom.remember_origin(f"file {yaml_file.name}", opened)
        st.rerun()

# ------------------------------------------------------------------ edit
name_key = editor.widget_key("scenarios", "name")
if name_key not in st.session_state:
    st.session_state[name_key] = scenario.name
name = st.text_input("Scenario name", key=name_key)
if name != scenario.name:
    try:
        scenario = scenario.with_changes({"name": name})
    except ScenarioError as exc:
        st.error(views.md(editor.reject("Scenario name", warroom.name_problem(name, exc))),
                 icon=":material/error:")
if scenario.description:
    st.caption(scenario.description)

sections = {
    "Horizon and forecast": ("horizon", "forecast"),
    "Demand": ("demand",),
    "Service targets": ("service",),
    "Staffing": ("staffing",),
    "Shifts and cost": ("shifts", "cost"),
}
for tab, secs in zip(st.tabs(list(sections)), sections.values(), strict=True):
    scenario = editor.assumption_editor(scenario, secs, "scenarios", container=tab)
state.set_scenario(scenario)
warroom.modified_marker(scenario)

with st.expander("Scenario as YAML (what is saved; the CLI runs the same file)"):
    st.code(scenario.to_yaml(), language="yaml")
    st.download_button(
        "Download this scenario (YAML)",
        scenario.to_yaml().encode(),
        file_name=f"{views.file_stem(scenario.name)}.yaml",
        mime="application/x-yaml",
        key="dl_yaml",
    )

# ------------------------------------------------------------------ run and save
c = st.columns([1, 1, 3], vertical_alignment="bottom")
refused = editor.rejections()
blocked = bool(refused)
run_clicked = c[0].button("Run", key="sc_run", type="primary", disabled=blocked)
save_clicked = c[1].button("Run and save", key="sc_save", disabled=blocked)
if st.session_state.pop("sc_note_clear", False):  # the note belonged to the saved version
    # set, not removed: a removed key lets the browser send its old text back
    st.session_state["sc_note"] = ""
note = c[2].text_input("Note for the saved version", key="sc_note")
saved_by = c[2].text_input("Saved by (your name)", key="sc_by")
c[2].caption(warroom.save_caption(note, saved_by))
if blocked:
    st.error(
        "Run is disabled: "
        + ("; ".join(views.md(line) for line in refused) if len(refused) == 1 else
           "fix these inputs first (running now would use their previous values):\n\n"
           + "\n".join(f"- {views.md(line)}" for line in refused)),
        icon=":material/block:",
    )
if run_clicked or save_clicked:
    try:
        result = backend.run_scenario(scenario)
    except ValueError as exc:
        st.error(f"{views.md(scenario.name)} could not be run: {exc}", icon=":material/error:")
    else:
        state.show_warnings(result)
        state.compared()[scenario.name] = scenario
        for key in ("compare_selection", "sc_compare"):
            chosen = list(st.session_state.get(key, []))
            if scenario.name not in chosen:
                st.session_state[key] = [*chosen, scenario.name]
        if save_clicked:
            try:
                saved_as = backend.save_result(url, result, note, saved_by.strip(),
                                               warroom.started_from())
            except DeletedNameError:
                st.error(f"{views.md(scenario.name)} was deleted; restore it (Saved "
                         "scenarios, below) or choose another name. Nothing was saved.",
                         icon=":material/error:")
            except ValueError as exc:
                st.error(f"{views.md(scenario.name)} could not be saved: {views.md(exc)}",
                         icon=":material/error:")
            else:
                warroom.remember_origin(f"{saved_as.name} v{saved_as.version}", scenario,
                                        warroom.started_from())
                # draw the page again from the saved version: the marker says "same as"
                # it and the note box is empty for the next version
                st.session_state["sc_saved"] = (
                    f"Saved **{views.md(saved_as.name)}** as version {saved_as.version}.",
                    result)
                st.session_state["sc_note_clear"] = True
                st.rerun()
        else:
            st.success(f"Ran **{views.md(scenario.name)}**.", icon=":material/check_circle:")
if "sc_saved" in st.session_state:
    done, shown = st.session_state.pop("sc_saved")
    state.show_warnings(shown)
    st.success(done, icon=":material/save:")

if st.session_state.get("wr_done"):
    st.success(views.md(st.session_state.pop("wr_done")), icon=":material/check_circle:")
if warroom.manage_saved(url, saved):
    st.rerun()

# ------------------------------------------------------------------ compare
st.header("Compare")
runs = state.compared()
with st.expander("Run several scenarios at once"):
    st.caption("Each runs as the CLI's run-many does; with a Dask scheduler in "
               f"${backend.DASK_ADDRESS_ENV} on the server, on its workers. Runs already "
               "made are reused.")
    many_examples = st.multiselect("Examples", list(examples), key="sc_many_examples")
    many_files = st.file_uploader("Scenario files (YAML)", type=["yaml", "yml"],
                                  accept_multiple_files=True, key="sc_many_files")
    if st.button("Run them", key="sc_many_run",
                 disabled=not many_examples and not many_files):
        batch: dict = {}  # scenario name -> scenario
        for name in many_examples:
            shipped = load_scenario(examples[name])  # shipped with the app
            batch.setdefault(shipped.name, shipped)
        for f in many_files or []:
            try:  # size checked; data files: the sample or this session's uploads
                opened = backend.open_scenario_upload(f.name, f.getvalue(), state.uploads())
            except ValueError as exc:
                st.error(f"{views.md(f.name)} is not a valid scenario:\n\n{views.md(exc)}",
                         icon=":material/error:")
                continue
            if opened.name in batch:
                st.warning(f"{views.md(f.name)}: a scenario named {views.md(opened.name)} is "
                           "already in this batch; this one is left out (rename it).",
                           icon=":material/warning:")
                continue
            batch[opened.name] = opened
        for name in [n for n in batch if n in runs and runs[n] != batch[n]]:
            # another scenario of that name is in the comparison: never replace it silently
            st.warning(f"A different scenario named {views.md(name)} is already in the "
                       "comparison; this one is left out (rename it, or remove the other).",
                       icon=":material/warning:")
            del batch[name]
        try:
            failed = backend.run_scenarios(list(batch.values())) if batch else {}
        except ValueError as exc:
            st.error(f"The scenarios could not be run: {views.md(exc)}", icon=":material/error:")
            failed = dict.fromkeys(batch, "not run")
        for name, error in failed.items():
            if error != "not run":
                st.error(f"{views.md(name)} could not be run: {views.md(error)}",
                         icon=":material/error:")
        done = [name for name in batch if name not in failed]
        for name in done:
            runs[name] = batch[name]
        chosen = list(st.session_state.get("sc_compare", []))
        for key in ("compare_selection", "sc_compare"):
            st.session_state[key] = chosen + [n for n in done if n not in chosen]
        if done:
            st.success(f"Ran {len(done)} of {len(batch)}: {views.md(', '.join(done))}; "
                       "they are in the comparison below.", icon=":material/check_circle:")
        elif not batch:
            st.info("Nothing to run.", icon=":material/info:")
options = list(runs)
if saved is not None:
    options += [f"{r.name} (saved v{r.version})" for r in saved.itertuples(index=False)]
source = st.session_state.get("sc_compare", st.session_state.get("compare_selection", []))
st.session_state["sc_compare"] = [o for o in source if o in options]
selected = st.multiselect("Scenarios", options, key="sc_compare")
st.session_state["compare_selection"] = list(selected)
if not selected:
    st.session_state.pop("comparison", None)
    st.info("Run a scenario (or pick saved ones) to compare them here.")
    st.stop()
if st.session_state.get("sc_baseline") not in selected:
    previous = st.session_state.get("compare_baseline")
    st.session_state["sc_baseline"] = previous if previous in selected else selected[0]
baseline = st.selectbox("Baseline", selected, key="sc_baseline")
st.session_state["compare_baseline"] = baseline

results = {}
saved_lookup = (
    {} if saved is None
    else {f"{r.name} (saved v{r.version})": (r.name, int(r.version))
          for r in saved.itertuples(index=False)}
)
try:
    for label in selected:
        if label in runs:
            results[label] = backend.run_scenario(runs[label])
        else:
            results[label] = backend.load_saved(url, *saved_lookup[label])
    # Compare once per choice of results and baseline, not on every rerun of the page:
    # it solves the hiring plan of each scenario with capacity settings (seconds each).
    # (saved results come back as copies on each rerun: key on what they are, not on ids)
    key = (baseline, tuple((label, r.scenario.to_yaml(), r.meta_json())
                           for label, r in results.items()))
    comparison = st.session_state.get("comparison")
    if comparison is None or st.session_state.get("comparison_key") != key:
        comparison = compare(results, baseline=baseline)
    st.session_state["comparison"] = comparison
    st.session_state["comparison_key"] = key
except (ValueError, CompareError) as exc:
    st.session_state.pop("comparison", None)
    st.session_state.pop("comparison_key", None)
    st.error(f"The comparison could not be built: {exc}", icon=":material/error:")
    st.stop()

if not comparison.same_days:
    st.warning(
        "These plans cover different days ("
        + "; ".join(f"{views.md(h.scenario)}: {h.start:%d %b %Y} to {h.end:%d %b %Y}"
                    for h in comparison.horizons.itertuples(index=False))
        + "): paid hours, cost and backlog totals are not like for like. Average FTE and "
        "service levels compare; for the rest, plan the same days.",
        icon=":material/warning:",
    )

st.subheader("What differs from the baseline")
differs = diff_table(comparison.assumptions)
if len(differs):
    st.table(warroom.differs_table(differs))  # plain text: reads, copies and prints
else:
    st.info("The compared scenarios make the same assumptions.")

# KPI cards: one column per scenario, deltas against the baseline.
totals = comparison.totals.set_index("scenario")
summary = comparison.summary
queues: dict[str, str] = {}
for r in results.values():  # the queues of every compared plan
    queues.update(r.meta.get("queues") or {})
pick = state.queue_pick(queues)
cols = st.columns(len(selected), border=True)
for col, label in zip(cols, selected, strict=True):
    t = totals.loc[label]
    is_base = label == baseline
    col.subheader(views.md(label) + (" (baseline)" if is_base else ""))
    col.metric(
        "Average FTE",
        f"{t.avg_fte:,.1f}",
        None if is_base else f"{t.d_avg_fte:+,.1f}",
        delta_color="inverse",
        help="FTE of the shift plan (paid hours / FTE hours per week), summed over channels "
        "and averaged over the weeks; the Staffing page shows the FTE before shift planning.",
    )
    col.metric(
        "Cost", f"{t.cost:,.0f}", None if is_base else f"{t.d_cost:+,.0f}", delta_color="inverse"
    )
    if pick is not None:  # the pick's figures from each plan's roll-up (no delta)
        try:
            row = picks.pick_rollup(results[label].rollup(), pick, queues)
        except ValueError:
            col.caption(f"{views.md(picks.pick_label(pick))} is not in this plan.")
            continue
        col.metric(f"{picks.pick_label(pick)}: service level",
                   "-" if pd.isna(row.service_level) else f"{row.service_level:.1%}",
                   help="Weighted by each queue's volume (the core's roll-up).")
        col.metric(f"{picks.pick_label(pick)}: average FTE",
                   f"{row.avg_fte:,.1f}")
        continue
    planned = results[label].planned_scenario.channels
    for row in summary[summary["scenario"] == label].itertuples(index=False):
        if planned[row.channel].deferred:
            col.metric(
                f"{row.channel}: max backlog, items",
                views.fmt_number(row.max_backlog_items),
                None if is_base else f"{row.d_max_backlog_items:+,.0f}",
                delta_color="inverse",
            )
        else:
            col.metric(
                f"{row.channel}: service level",
                f"{row.service_level:.1%}",
                None if is_base else f"{row.d_service_level * 100:+.1f} pp",
            )

if len(comparison.capacity):
    st.subheader("Hiring and capacity")
    st.caption("Scenarios with capacity settings: the hiring plan that closes their gap "
               "(details on the Capacity page).")
    st.dataframe(views.capacity_comparison(comparison.capacity), hide_index=True,
                 key="sc_capacity")

warroom.compare_extras(comparison, results, baseline)

st.subheader("Service level by day")
channels = sorted(comparison.daily["channel"].unique()) if len(comparison.daily) else []
if pick is not None and channels:  # one line per scenario: the pick's queues, by volume
    ch = picks.pick_label(pick)
    daily = picks.daily_service_level(results, pick, queues)
    target = next(iter(results.values())).planned_scenario.channels.get(
        pick if pick in queues else "")
elif channels:
    ch = st.selectbox("Channel", channels, key="sc_channel")
    daily = comparison.daily[comparison.daily["channel"] == ch]
    target = next(iter(results.values())).planned_scenario.channels.get(ch)
if channels and len(daily):
    st.altair_chart(
        charts.by_day_chart(
            daily, "service_level", f"Service level, {ch}",  # a chart title: no Markdown
            ".1%", target=None if target is None else target.target_sl, baseline=baseline,
        ),
        width="stretch",
    )
elif channels:
    st.info(f"No daily service level for {views.md(ch)} in these scenarios.")

st.subheader("Email backlog by day")
backlog = comparison.backlog
if len(backlog) and queues:  # one line per scenario: the backlog of the pick's queues
    # a compared plan without queues counts each channel as its own queue
    wide = {c: c for r in results.values() for c in r.planned_scenario.channels} | queues
    backlog = picks.pick_frame(backlog.assign(channel=backlog["channel"].astype(str)),
                               pick or picks.TOTAL, wide, sums=["backlog_items"],
                               by=["scenario", "date"])
if len(backlog):
    st.altair_chart(
        charts.by_day_chart(backlog, "backlog_items", "Backlog, items", ",.0f",
                            baseline=baseline),
        width="stretch",
    )
else:
    st.info("No deferred (email) queue in the shown scenarios"
            + (f" for {views.md(picks.pick_label(pick))}." if pick is not None else "."))

risk_view.frontier_section(results, "sc")

with st.expander("Comparison table by channel"):
    warroom.show_table(summary)
with st.expander("Worst intervals"):
    warroom.show_table(comparison.worst_intervals)
