"""Data page: the bundled sample or the user's own orders, contacts and events."""

from __future__ import annotations

import zoneinfo
from pathlib import Path

import streamlit as st

from app_support import backend, charts, state, views
from forecast.validation import likely_typos
from planner import picks
from planner.coverage import coverage_warnings, file_ranges
from planner.queues import QUEUE, queue_map

SOURCES = ("Bundled sample", "Upload my files")
upload_warnings: dict[str, tuple[str, ...]] = {}  # accepted upload's path -> loader warnings
FILE_TYPES = ["csv", "gz", "xlsx", "parquet"]
HELP = {
    "orders": "Daily orders: columns `ds` (date) and `orders` (count).",
    "contacts": "Contacts per interval: `ds` (interval start), `channel`, `contacts`, "
    "optional `aht_s` (seconds). Any interval length; closed hours may be absent.",
    "events": "Optional: `ds`, `event`, optional `lower_window`, `upper_window` (days).",
}

st.title("Data")
st.caption("Order and contact history the forecast learns from, and the events that shape it.")

scenario = state.current_scenario()
uses_sample = scenario.data.contacts is None
source = st.radio(
    "Source", SOURCES, index=0 if uses_sample else 1, horizontal=True, key="data_source"
)

BEFORE_UPLOAD = "before_upload"  # channels and horizon the upload replaced
MOVED_HORIZON = "upload_moved_horizon"  # plan dates an upload moved: {"from": .., "to": ..}


def fit_plan_dates(changed: dict, channels: list[str], last_day: object,
                   typos: dict[str, str]) -> tuple[dict, list[str], list[str]]:
    """:func:`app_support.views.refit_plan_dates` with the session's memory of the plan
    dates an earlier upload moved."""
    fits, notes, others, moved = views.refit_plan_dates(
        changed, st.session_state.get(MOVED_HORIZON), channels, last_day, typos)
    if moved is None:
        st.session_state.pop(MOVED_HORIZON, None)
    else:
        st.session_state[MOVED_HORIZON] = moved
    return fits, notes, others


# ------------------------------------------------------------------ time zone
NO_ZONE = "(none: the centre's local wall-clock time)"
zones = sorted(zoneinfo.available_timezones()) or ["UTC", "Europe/Berlin", "Europe/Moscow"]
if scenario.data.timezone and scenario.data.timezone not in zones:
    zones.append(scenario.data.timezone)
TZ_KEY = "data_timezone"
if st.session_state.get(TZ_KEY) not in (NO_ZONE, *zones):
    st.session_state[TZ_KEY] = scenario.data.timezone or NO_ZONE
zone = st.selectbox(
    "Time zone of the contact centre", [NO_ZONE, *zones], key=TZ_KEY,
    help="Needed when the timestamps carry UTC offsets (they are converted to this zone's "
    "local time) and to merge the hour repeated when daylight saving time ends. Without "
    "one, timestamps are read as the centre's local time.",
)
timezone = None if zone == NO_ZONE else zone
if timezone != scenario.data.timezone:
    scenario = scenario.with_changes({"data.timezone": timezone})
    state.set_scenario(scenario)

if source == SOURCES[0]:
    if not uses_sample:
        changes = {"data.orders": None, "data.contacts": None, "data.events": None}
        before = st.session_state.pop(BEFORE_UPLOAD, None)
        st.session_state.pop(MOVED_HORIZON, None)
        if before is not None:
            changes.update({"channels": before["channels"],
                            **{f"horizon.{k}": v for k, v in before["horizon"].items()}})
        state.set_scenario(scenario.with_changes(changes), reset_widgets=before is not None)
        if before is not None:
            st.info("Back on the bundled sample: channels and plan dates are as they were "
                    "before your upload.", icon=":material/tune:")
else:
    cols = st.columns(3)
    paths: dict[str, str] = {}
    errors: list[str] = []
    for col, (kind, required) in zip(cols, backend.UPLOAD_KINDS.items(), strict=True):
        label = f"{kind.capitalize()} file" + ("" if required else " (optional)")
        upload = col.file_uploader(label, type=FILE_TYPES, key=f"upload_{kind}", help=HELP[kind])
        if upload is None:
            continue
        content = upload.getvalue()
        name = views.md(upload.name)
        try:
            frame = backend.load_upload(kind, upload.name, content, timezone)
        except ValueError as exc:  # the loaders' DataError and other bad-input errors
            text = str(exc).removeprefix(f"{upload.name}: ")  # the name is said once
            errors.append(f"**{name}** ({kind}): {views.md(text)}")
        except Exception as exc:  # noqa: BLE001 - an unreadable file must not crash the page
            errors.append(f"**{name}** ({kind}) could not be read: {views.md(exc)}")
        else:
            paths[kind] = backend.save_upload(upload.name, content)
            state.remember_upload(upload.name, paths[kind])
            upload_warnings[paths[kind]] = backend.frame_warnings(frame)
    for message in errors:
        st.error(message, icon=":material/error:")
    kept: list[str] = []
    if paths and not errors and not uses_sample:  # a new file beside the files in use
        in_use = {k: getattr(scenario.data, k) for k in backend.UPLOAD_KINDS
                  if k not in paths and getattr(scenario.data, k)}
        # the other boxes are empty (as after visiting another page): replace only what
        # was uploaded, keep the rest; a box emptied beside the other required files
        # still drops its file (an events file removed on purpose)
        if any(req and k in in_use for k, req in backend.UPLOAD_KINDS.items()):
            paths.update(in_use)
            kept = [Path(p).name for p in in_use.values()]
    missing = [k for k, req in backend.UPLOAD_KINDS.items() if req and k not in paths]
    if errors or missing:
        in_use = [Path(p).name for p in (scenario.data.orders, scenario.data.contacts,
                                         scenario.data.events) if p]
        if missing and not errors and not uses_sample:
            st.success(f"In use: your files {', '.join(in_use)}. Upload new ones to replace "
                       "them.", icon=":material/check_circle:")
        elif missing and not errors:
            st.info(f"Upload {' and '.join(missing)} to plan from your own data.")
        if uses_sample or errors:
            keep = "the bundled sample" if uses_sample else "the files accepted before"
            st.caption(f"Until then every page keeps using {keep}.")
    else:
        paths.setdefault("events", "")  # no events file: no events (not the sample's)
        if any(getattr(scenario.data, k) != paths[k] for k in backend.UPLOAD_KINDS):
            changed = scenario.with_changes({f"data.{k}": paths[k] for k in paths})
            try:
                loaded = backend.load_dataset(
                    paths["orders"], paths["contacts"], paths["events"], None, timezone
                )
                counts = loaded.contacts["channel"].value_counts(sort=False)
                fits, notes, others = fit_plan_dates(
                    changed.to_dict(), views.summarize_dataset(
                        loaded.orders, loaded.contacts, loaded.events, loaded.interval_s
                    ).channels, loaded.orders["ds"].max(),
                    likely_typos(list(counts.index), counts.to_list()),
                )
                if fits:
                    st.session_state.setdefault(BEFORE_UPLOAD, {
                        "channels": scenario.to_dict()["channels"],
                        "horizon": scenario.to_dict()["horizon"]})
                state.set_scenario(changed.with_changes(fits), reset_widgets=True)
            except ValueError as exc:
                st.error(f"These files cannot be planned from: {views.md(exc)}",
                         icon=":material/error:")
            else:
                st.session_state["upload_notes"] = notes
                st.session_state["upload_other_notes"] = others
        names = ", ".join(Path(p).name for p in paths.values() if p)
        st.success(f"Using your files: {names}" + (
            f" (kept from before: {', '.join(kept)})" if kept else ""),
            icon=":material/check_circle:")
        if not paths.get("events"):
            st.info("No events file: the forecast uses no peak days, promotions or incidents "
                    "of yours (upload one to mark them).", icon=":material/event_busy:")
        for note in st.session_state.get("upload_notes", []):
            st.info(f"Scenario adjusted to your data: {note}.", icon=":material/tune:")
        for note in st.session_state.get("upload_other_notes", []):
            st.info(note, icon=":material/event:")

try:
    dataset = state.current_dataset()
except ValueError as exc:
    st.error(f"The data in use cannot be read: {views.md(exc)}", icon=":material/error:")
    st.stop()
summary = views.summarize_dataset(
    dataset.orders, dataset.contacts, dataset.events, dataset.interval_s
)
# what the loaders noticed: in the files in use, then in uploads not in use (yet)
in_use_paths = {state.current_scenario().data.orders, state.current_scenario().data.contacts,
                state.current_scenario().data.events}
noticed = list(dict.fromkeys(
    [*dataset.warnings, *backend.plan_warnings(state.current_scenario())]))
for path, found in upload_warnings.items():
    if path not in in_use_paths:
        noticed.extend(w for w in found if w not in noticed)
for warning in noticed:
    st.warning(views.md(warning), icon=":material/warning:")

st.subheader("Preview")
m = st.columns(4)
# each file's own range: the contacts may end long before the orders
spans = (("Orders", summary.orders_range), ("Contacts", summary.contacts_range))
for i, (what, span) in enumerate(spans):
    m[2 * i].metric(f"{what} from", "-" if span is None else f"{span[0]:%Y-%m-%d}")
    m[2 * i + 1].metric(f"{what} to", "-" if span is None else f"{span[1]:%Y-%m-%d}")
n = st.columns([1, 3])
n[0].metric("Interval length", summary.interval_label)
n[1].metric("Channels", ", ".join(summary.channels))
events_span = (
    "" if summary.events_range is None
    else f" ({summary.events_range[0]:%Y-%m-%d} to {summary.events_range[1]:%Y-%m-%d})"
)
st.caption(
    f"{summary.order_days:,} order days, {summary.contact_rows:,} contact rows, "
    f"{summary.events:,} events{events_span}."
)
plan_h = state.current_scenario().horizon
st.dataframe(
    file_ranges(dataset.orders, dataset.contacts, dataset.events).rename(
        columns={"file": "File", "first": "First day", "last": "Last day", "days": "Days"}),
    hide_index=True, key="data_ranges",
)
for line in coverage_warnings(dataset.orders, dataset.contacts, dataset.events,
                              (plan_h.start, plan_h.end)):
    st.warning(views.md(line), icon=":material/date_range:")

if QUEUE in dataset.contacts.columns:
    st.subheader("Queues")
    queues = queue_map(dataset.contacts)
    per_queue = picks.history_summary(dataset.contacts, queues)
    small = per_queue[per_queue["small"]]
    q = st.columns(3)
    q[0].metric("Queues", f"{len(queues):,}")
    q[1].metric("Channels with queues", f"{per_queue['channel'].nunique():,}")
    q[2].metric("Small queues", f"{len(small):,}",
                help=f"Fewer than {picks.SMALL_PER_DAY:,.0f} contacts a day on average "
                "over their history: their forecasts lean on their channel's shapes and their "
                "service level swings with a few contacts.")
    by_channel = per_queue.groupby("channel", sort=True).agg(
        queues=("queue", "size"), contacts=("contacts", "sum"), small=("small", "sum"))
    st.caption("Queues per channel: " + ", ".join(
        f"{views.md(r.Index)} {r.queues:,}" + (f" ({r.small:,} small)" if r.small else "")
        for r in by_channel.itertuples()) + ".")  # iterrows would turn the counts to floats
    if len(small):
        names = ", ".join(views.md(n) for n in small["queue"].head(10))
        more = f" and {len(small) - 10:,} more" if len(small) > 10 else ""
        st.warning(f"{len(small):,} small queues (under {picks.SMALL_PER_DAY:,.0f} "
                   f"contacts a day): {names}{more}. Check their forecasts, or merge them "
                   "into a larger queue.", icon=":material/warning:")
    st.dataframe(
        per_queue, hide_index=True, width="stretch", key="data_queues",
        column_config={
            "queue": st.column_config.TextColumn("Queue"),
            "channel": st.column_config.TextColumn("Channel"),
            "contacts": st.column_config.NumberColumn("Contacts", format="%.0f"),
            "share_of_channel": st.column_config.NumberColumn("Share of channel",
                                                              format="percent"),
            "first": st.column_config.DatetimeColumn("First", format="YYYY-MM-DD"),
            "last": st.column_config.DatetimeColumn("Last", format="YYYY-MM-DD"),
            "days": st.column_config.NumberColumn("Days", format="%d"),
            "per_day": st.column_config.NumberColumn("Contacts a day", format="%.1f"),
            "small": st.column_config.CheckboxColumn("Small"),
        },
    )

left, right = st.columns(2)
left.altair_chart(
    charts.history_chart(dataset.orders, "orders", "Orders per day"), width="stretch"
)
right.altair_chart(
    charts.history_chart(
        views.daily_contacts(dataset.contacts), "contacts", "Contacts per day", color="channel"
    ),
    width="stretch",
)

tabs = st.tabs(["Orders", "Contacts", "Events"])
day = {"ds": st.column_config.DateColumn("ds", format="YYYY-MM-DD")}
stamp = {"ds": st.column_config.DatetimeColumn("ds (interval start)", format="YYYY-MM-DD HH:mm")}
tabs[0].caption("Last 200 days")
tabs[0].dataframe(dataset.orders.tail(200), width="stretch", hide_index=True, column_config=day)
tabs[1].caption("Last 200 rows")
tabs[1].dataframe(
    dataset.contacts.tail(200), width="stretch", hide_index=True, column_config=stamp
)
tabs[2].dataframe(dataset.events, width="stretch", hide_index=True, column_config=day)
