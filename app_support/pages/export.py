"""Export page: the shift plan (CSV, Excel) and the scenario comparison."""

from __future__ import annotations

import streamlit as st

from app_support import backend, state, views
from app_support.warroom import show_table
from planner.export import FULL_WORKBOOK_QUEUES

st.title("Export")
st.caption(
    "Files for the rostering team (the shift plan with its breaks, one row per shift "
    "pattern and day) and for the war room (the comparison of scenarios)."
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

scenario = state.current_scenario()
st.header(f"Shift plan: {views.md(scenario.name)}")
try:
    result = backend.run_scenario(scenario)
except ValueError as exc:
    st.error(f"The plan could not be exported: {exc}", icon=":material/error:")
    result = None


def plan_section(result: object) -> None:
    """Downloads of the plan: per queue for a queue result, the plan workbook."""
    queues = dict(result.meta.get("queues") or {})
    stem = views.file_stem(scenario.name)

    if queues:
        st.subheader(f"Per queue ({len(queues):,} queues)")
        held = st.session_state.get("_queue_files")
        if held is None or held[0] is not result:
            held = (result, {})
            st.session_state["_queue_files"] = held
        downloads = held[1]
        with st.spinner("Writing the roll-up workbook..."):
            if "xlsx" not in downloads:
                downloads["xlsx"] = backend.queue_downloads(result, "xlsx")
        c = st.columns(3)
        c[0].download_button(
            "Roll-up workbook (Excel)", downloads["xlsx"], file_name=f"{stem}_rollup.xlsx",
            mime=XLSX, key="dl_rollup_xlsx", icon=":material/download:")
        for col, fmt, label in ((c[1], "csv", "Per-queue CSV (zip)"),
                                (c[2], "parquet", "Per-queue Parquet (zip)")):
            if fmt in downloads:
                col.download_button(label, downloads[fmt], file_name=f"{stem}_queues_{fmt}.zip",
                                    mime="application/zip", key=f"dl_queues_{fmt}",
                                    icon=":material/download:")
            elif col.button(f"Prepare {label}", key=f"make_queues_{fmt}",
                            icon=":material/folder_zip:"):
                with st.spinner(f"Writing {len(queues):,} queues..."):
                    downloads[fmt] = backend.queue_downloads(result, fmt)
                st.rerun()
        st.caption(
            "The roll-up workbook holds the summary by queue, channel and total (service level, "
            "ASA and abandonment weighted by volume; hours, FTE and cost summed) and the weekly "
            "FTE roll-ups. Each zip holds, per queue, its shift plan and its interval plan "
            "(volume, required and staffed agents, achieved KPIs) under a file name made safe "
            "from the queue's name, and queues.csv saying which files hold which queue."
        )

    build = not queues or len(queues) < FULL_WORKBOOK_QUEUES
    held = st.session_state.get("_plan_files")
    if held is not None and held[0] is result:
        build = True
    elif not build:
        st.info(f"The full plan workbook of {len(queues):,} queues holds every interval of every "
                "queue and takes a while to write: the roll-up workbook and the per-queue files "
                "above carry the same figures.", icon=":material/info:")
        build = st.button("Build the full plan workbook", key="make_plan_files")
    if build:
        try:
            # the workbook (with its cost-risk frontier) is built once per result, not per rerun
            if held is None or held[0] is not result:
                with st.spinner("Building the plan workbook (shift plan, cost-risk frontier)..."):
                    held = (result, backend.plan_files(result))
                st.session_state["_plan_files"] = held
            files = held[1]
        except ValueError as exc:
            st.error(f"The plan could not be exported: {exc}", icon=":material/error:")
        else:
            c = st.columns(2)
            c[0].download_button(
                "Shift plan (CSV)",
                files["shift_plan.csv"],
                file_name=f"{stem}_shift_plan.csv",
                mime="text/csv",
                key="dl_plan_csv",
                icon=":material/download:",
            )
            c[1].download_button(
                "Plan workbook (Excel)",
                files["plan.xlsx"],
                file_name=f"{stem}_plan.xlsx",
                mime=XLSX,
                key="dl_plan_xlsx",
                icon=":material/download:",
            )
            st.caption(
                "The workbook is the one the command line writes: the shift plan, interval "
                "coverage against the requirement, KPIs by day and channel, the assumptions "
                "used, the cost-risk frontier (paid hours against risk for staffing to the mean, "
                "the upper band and p50..p95), the weekly 5/2 roster and, for a scenario with "
                "capacity settings, the hiring plan."
            )
    table = backend.plan_table(result)
    st.metric("Shift rows in the plan", f"{len(table):,}")
    st.dataframe(table, width="stretch", hide_index=True)


if result is not None:
    plan_section(result)

st.header("Scenario comparison")
comparison = st.session_state.get("comparison")
if comparison is None:
    st.info("Compare scenarios on the Scenarios page first; the comparison appears here.")
else:
    tables = views.comparison_tables(comparison)
    st.caption(
        f"Baseline: {views.md(comparison.baseline)} - scenarios: "
        + ", ".join(views.md(n) for n in dict.fromkeys(comparison.totals["scenario"]))
    )
    c = st.columns(2)
    c[0].download_button(
        "Comparison (CSV, by channel)",
        views.table_to_csv(comparison.summary),
        file_name="comparison.csv",
        mime="text/csv",
        key="dl_cmp_csv",
        icon=":material/download:",
    )
    c[1].download_button(
        "Comparison workbook (Excel)",
        views.tables_to_excel(tables),
        file_name="comparison.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="dl_cmp_xlsx",
        icon=":material/download:",
    )
    show_table(comparison.totals)
    report = st.session_state.get("peak_report")
    if report is not None:
        st.download_button(
            "Peak report of this comparison (printable page)", report[1].encode("utf-8"),
            file_name=f"peak_report_{views.file_stem(report[0])}.html", mime="text/html",
            key="dl_cmp_report", icon=":material/print:")
