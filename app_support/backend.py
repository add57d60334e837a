"""Cached calls from the app into the core (``forecast/``, ``staffing/``, ``planner/``).

Every cached function takes all of its inputs as arguments (no globals), so Streamlit's
cache key is the full input. Nothing here computes planning numbers: it loads, calls the
core and returns its frames.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from app_support.runs import (
    DASK_ADDRESS_ENV,
    fanout_engine,
    progress_bar,
    run_scenario,
    run_scenarios,
)
from planner.results import ScenarioResult
from planner.scenario import Scenario

__all__ = [
    "DASK_ADDRESS_ENV",
    "UPLOAD_KINDS",
    "Dataset",
    "backtest_table",
    "base_forecast",
    "default_scenario",
    "MAX_SCENARIO_BYTES",
    "check_saved",
    "example_scenarios",
    "fanout_engine",
    "frame_warnings",
    "is_kept_upload",
    "load_dataset",
    "load_saved",
    "load_upload",
    "open_scenario_upload",
    "plan_files",
    "planned",
    "queue_downloads",
    "roster_files",
    "plan_table",
    "plan_warnings",
    "progress_bar",
    "short_history",
    "run_scenario",
    "run_scenarios",
    "save_result",
    "save_upload",
    "saved_scenarios",
    "staffing_only",
    "store",
    "store_url",
    "upload_root",
    "weekly_roster",
]

#: Upload kinds and whether the app needs them to plan.
UPLOAD_KINDS: dict[str, bool] = {"orders": True, "contacts": True, "events": False}


@dataclass(frozen=True, eq=False)
class Dataset:
    """The history the app plans from.

    Attributes
    ----------
    label : str
        Where it came from ("sample" or the uploaded file names).
    orders, contacts, events : pandas.DataFrame
        Frames in the ``DESIGN.md`` contracts.
    interval_s : int
        Interval length of the contact history in seconds, as detected by the loader.
    warnings : tuple of str
        What the loaders noticed and the user should check (channel names that look
        like typos, how numbers with separators were read, ...), each naming its file.
    """

    label: str
    orders: pd.DataFrame
    contacts: pd.DataFrame
    events: pd.DataFrame
    interval_s: int
    warnings: tuple[str, ...] = ()


def frame_warnings(*frames: pd.DataFrame | None) -> tuple[str, ...]:
    """The loaders' warnings (``attrs["warnings"]``) of ``frames``, in order, once each."""
    found: list[str] = []
    for frame in frames:
        if frame is not None:
            found.extend(str(w) for w in frame.attrs.get("warnings") or ())
    return tuple(dict.fromkeys(found))


def default_scenario() -> Scenario:
    """The scenario the app opens with: the core's default (the sample's Q4 2024 peak)."""
    return Scenario()


@st.cache_data(show_spinner="Loading the history...", max_entries=4)
def load_dataset(
    orders: str | None, contacts: str | None, events: str | None, interval_s: int | None,
    timezone: str | None = None,
) -> Dataset:
    """Load the history a scenario names (``None`` = the bundled sample file, ``""`` for
    ``events`` = no events), as the planner does (:func:`planner.pipeline.load_inputs`,
    sharing its cache), with the loaders' and the planner's warnings.

    Raises
    ------
    ValueError
        The loader's :class:`forecast.data.DataError` when a file is unusable (or
        ``timezone`` unknown), :class:`planner.pipeline.PipelineError` when the order and
        contact histories do not overlap.
    """
    from planner import pipeline
    from planner.scenario import DataSources

    inputs = pipeline.load_inputs(
        DataSources(orders=orders, contacts=contacts, events=events, interval_s=interval_s,
                    timezone=timezone),
        pipeline.default_cache(),
    )
    return Dataset(
        label="sample" if contacts is None else Path(contacts).name,
        orders=inputs.orders,
        contacts=inputs.contacts,
        events=(
            pd.DataFrame({"ds": pd.Series(dtype="datetime64[ns]"), "event": []})
            if inputs.events is None else inputs.events
        ),
        interval_s=int(inputs.interval_s),
        warnings=tuple(dict.fromkeys(inputs.warnings)),
    )


def plan_warnings(scenario: Scenario) -> tuple[str, ...]:
    """What the planner notices about ``scenario``'s history as the scenario uses it
    (:func:`planner.pipeline.plan_warnings`: channels it does not plan, contacts ending
    long before the forecast's last history day)."""
    from planner import pipeline

    inputs = pipeline.load_inputs(scenario.data, pipeline.default_cache())
    return tuple(pipeline.plan_warnings(scenario, inputs))


def short_history(scenario: Scenario) -> str | None:
    """The core's warning when the history before the plan is too short to have seen a
    season (:func:`planner.inputs.short_history_warning`), or None."""
    from planner import pipeline
    from planner.inputs import short_history_warning

    return short_history_warning(scenario, pipeline.load_inputs(scenario.data,
                                                                pipeline.default_cache()))


UPLOAD_DIR_ENV = "PEAK_PLANNER_UPLOAD_DIR"


def upload_root(root: str | None = None) -> Path:
    """The folder uploads are kept in: ``root``, else ``$PEAK_PLANNER_UPLOAD_DIR``, else a
    ``peak-planner-uploads`` folder in the system's temporary directory."""
    root = root or os.environ.get(UPLOAD_DIR_ENV)
    return Path(root) if root else Path(tempfile.gettempdir()) / "peak-planner-uploads"


def save_upload(name: str, content: bytes, root: str | None = None) -> str:
    """Keep an accepted upload as a file so a scenario can name it; returns its path.

    Files go to :func:`upload_root`: one sub-folder per content hash, under the uploaded
    name (its last part only; a name such as ``..`` becomes ``upload``). Folders the app
    creates are readable by its own user only.
    """
    base = upload_root(root)
    base.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = base / hashlib.sha256(content).hexdigest()[:16]
    folder.mkdir(mode=0o700, exist_ok=True)
    base = Path(name).name
    path = folder / (base if base not in ("", ".", "..") else "upload")
    if not path.exists():
        path.write_bytes(content)
    return str(path)


def is_kept_upload(path: str, root: str | None = None) -> bool:
    """Whether ``path`` is a file this app saved with :func:`save_upload` (inside
    :func:`upload_root`, links resolved), so a saved scenario may name it."""
    try:
        base = upload_root(root).resolve()
        target = Path(path).resolve()
    except (OSError, RuntimeError, ValueError):
        return False
    return target.is_relative_to(base) and target != base and target.is_file()


#: Largest scenario file the app reads from the browser, in bytes (a scenario is a few
#: KB); checked before the bytes are decoded or parsed.
MAX_SCENARIO_BYTES = 1_000_000


def open_scenario_upload(name: str, content: bytes, uploads: dict[str, str]) -> Scenario:
    """The scenario in an uploaded YAML file, limited to the sample and ``uploads``.

    ``uploads`` maps the names of the data files uploaded in this session to the paths
    :func:`save_upload` kept them at; a data field naming any other file is refused
    (:meth:`planner.scenario.Scenario.from_untrusted_yaml`), so no server file is read.

    Raises
    ------
    ValueError
        Too large (over :data:`MAX_SCENARIO_BYTES`), not UTF-8, or the core's
        :class:`planner.scenario.ScenarioError`.
    """
    if len(content) > MAX_SCENARIO_BYTES:
        raise ValueError(
            f"{len(content):,} bytes is too large for a scenario file (at most "
            f"{MAX_SCENARIO_BYTES:,} bytes; a scenario is a few KB)"
        )
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start})") from None
    if not any(line.strip() and not line.lstrip().startswith("#")
               for line in text.splitlines()):
        # YAML reads it as no fields, which would run the default scenario under its name
        raise ValueError("the file is empty: no scenario fields in it (start from an "
                         "example scenario and change what differs)")
    return _known_zone(Scenario.from_untrusted_yaml(text, source=name, allowed_paths=uploads),
                       name)


def _known_zone(scenario: Scenario, source: str) -> Scenario:
    """``scenario``, if its ``data.timezone`` is unset or a time zone this server knows
    (an IANA name such as ``Europe/Berlin``; never a path)."""
    import zoneinfo

    tz = scenario.data.timezone
    if tz is not None and tz not in zoneinfo.available_timezones():
        raise ValueError(f"{source}: data.timezone {tz[:60]!r} is not a known time zone; "
                         "give an IANA name such as 'Europe/Berlin', or leave it empty")
    return scenario


def check_saved(scenario: Scenario, uploads: dict[str, str], source: str) -> Scenario:
    """A saved scenario, if its data files are ones the app may read for a browser.

    Allowed: the bundled sample, this session's ``uploads`` and files the app kept in
    its upload folder in earlier sessions (:func:`is_kept_upload`); a scenario saved
    from the CLI that names any other file is refused
    (:func:`planner.scenario.check_data_paths`), so no server file is read.

    Raises
    ------
    planner.scenario.ScenarioError
        Naming the data field.
    """
    from planner.scenario import check_data_paths

    allowed = dict(uploads)
    for given in (scenario.data.orders, scenario.data.contacts, scenario.data.events):
        if given and is_kept_upload(given):
            allowed[given] = given
    return _known_zone(check_data_paths(scenario, allowed, source), source)


class _NamedBytes(io.BytesIO):
    """Bytes with a file name, the shape of an uploaded file the loaders accept."""

    def __init__(self, content: bytes, name: str) -> None:
        super().__init__(content)
        self.name = name


@st.cache_data(show_spinner=False, max_entries=16)
def load_upload(kind: str, name: str, content: bytes, timezone: str | None = None
                ) -> pd.DataFrame:
    """Load one uploaded file with the core loader for ``kind`` (contacts read in the
    centre's ``timezone``, see :func:`forecast.data.load_contacts`).

    Raises
    ------
    forecast.data.DataError
        The loader's own error (bad columns, text in counts, empty file, ...); it is not
        cached, so a corrected upload is loaded afresh.
    """
    from forecast import data

    loaders = {
        "orders": data.load_orders,
        "contacts": lambda src: data.load_contacts(src, tz=timezone),
        "events": data.load_events,
    }
    if kind not in loaders:
        raise ValueError(f"kind must be one of {sorted(loaders)}, got {kind!r}")
    return loaders[kind](_NamedBytes(content, name))


def staffing_only(scenario: Scenario) -> Scenario:
    """The same scenario without the shift solver: each interval staffed to its requirement."""
    return scenario.with_changes({"shifts.solve": False})


@st.cache_resource(show_spinner=False)
def store(url: str) -> Any:
    """The scenario store at ``url`` (one engine per URL for the whole server)."""
    from planner.store import Store

    return Store(url)


def store_url() -> str:
    """The store URL in effect (``$PEAK_PLANNER_DB_URL`` or the default SQLite file)."""
    from planner.store import default_url

    return default_url()


def base_forecast(scenario: Scenario, container: Any = None) -> Any:
    """The planner's base forecast for ``scenario`` (daily orders, interval contacts; per
    queue when the contacts carry queues, as a run plans them).

    Reuses the planner's process-wide cache (keyed on data and forecast settings), so
    the Forecast page and every scenario run share one fit. Shows progress while fitting.
    """
    from planner import pipeline
    from planner.queues import plan_inputs

    cache = pipeline.default_cache()
    planned, inputs, _ = plan_inputs(scenario, pipeline.load_inputs(scenario.data, cache),
                                     cache)
    report, holder = progress_bar(container if container is not None else st)
    try:
        return pipeline.base_forecast(planned, inputs, progress=report, cache=cache)
    finally:
        holder.empty()


def planned(scenario: Scenario) -> tuple[Scenario, dict[str, str]]:
    """What a run of ``scenario`` plans (:func:`planner.queues.plan_inputs`): the scenario
    with one channel entry per queue and queue -> channel when the contacts carry queues,
    else ``scenario`` and ``{}``."""
    from planner import pipeline
    from planner.queues import plan_inputs

    cache = pipeline.default_cache()
    scen, _, queues = plan_inputs(scenario, pipeline.load_inputs(scenario.data, cache), cache)
    return scen, dict(queues)


@st.cache_data(show_spinner=False, max_entries=8)
def backtest_table(
    history: pd.DataFrame,
    horizon: str,
    models: tuple[str, ...],
    n_windows: int,
    events: pd.DataFrame | None,
    level: int,
) -> pd.DataFrame:
    """Rolling-origin backtest of ``models`` (``auto`` among them by default on the page) on
    daily ``history`` (``unique_id, ds, y``): one row per series and model with the model
    each window actually used (:func:`forecast.backtest.backtest`)."""
    from forecast import backtest

    return backtest(
        history, horizon, "D", model=list(models), n_windows=n_windows, events=events,
        level=level,
    )


def example_scenarios(folder: str | None = None) -> dict[str, str]:
    """Example scenario files shipped in ``scenarios/`` (name -> path), sorted by name."""
    root = Path(folder) if folder else Path(__file__).resolve().parent.parent / "scenarios"
    return {p.stem: str(p) for p in sorted(root.glob("*.yaml"))}


def saved_scenarios(url: str) -> pd.DataFrame:
    """Every saved version of every scenario: ``name, version, saved_at, note,
    has_results`` (by name, then version), so that versions can be compared."""
    return store(url).list(all_versions=True)


@st.cache_data(show_spinner="Loading the saved scenario...", max_entries=16)
def load_saved(url: str, name: str, version: int) -> ScenarioResult:
    """A saved scenario and its results (cached: saved versions never change)."""
    return store(url).load(name, version)


def save_result(url: str, result: ScenarioResult, note: str = "", saved_by: str = "",
                started_from: str = "") -> Any:
    """Save ``result`` as a new version in the store at ``url`` (with who saved it and
    the example it started from); returns its identity."""
    return store(url).save(result, note=note, saved_by=saved_by, started_from=started_from)


def plan_table(result: ScenarioResult) -> pd.DataFrame:
    """The shift plan as exported (dates and HH:MM times), from :mod:`planner.export`."""
    from planner.export import shift_plan_table

    return shift_plan_table(result.shift_plan)


def plan_files(result: ScenarioResult) -> dict[str, bytes]:
    """The shift plan as files a rostering system imports: ``shift_plan.csv`` and
    ``plan.xlsx`` (:func:`planner.export.plan_workbook_tables`: capacity, weekly roster and
    cost-risk frontier sheets included).

    Both come from :mod:`planner.export` (the same files the CLI writes), read back as
    bytes for the download buttons.
    """
    from planner import export

    with tempfile.TemporaryDirectory(prefix="peak-planner-export-") as tmp:
        csv_path = Path(tmp) / "shift_plan.csv"
        xlsx_path = Path(tmp) / "plan.xlsx"
        export.export_csv(result.shift_plan, csv_path)
        export.write_workbook(xlsx_path, export.plan_workbook_tables(result))
        return {"shift_plan.csv": csv_path.read_bytes(), "plan.xlsx": xlsx_path.read_bytes()}


def queue_downloads(result: ScenarioResult, fmt: str, container: Any = None) -> bytes:
    """The files of a queue result for a download: ``rollup.xlsx`` (``fmt="xlsx"``,
    :func:`planner.export.rollup_tables`), else the per-queue files in a zip
    (:func:`planner.export.queue_zip_bytes`, ``csv`` or ``parquet``, with a progress bar
    over the queues in ``container``, default: the page)."""
    from planner import export

    if fmt == "xlsx":
        return export.workbook_bytes(export.rollup_tables(result), styled=True)
    report, holder = progress_bar(container if container is not None else st)
    try:
        return export.queue_zip_bytes(result, fmt, progress=report)
    finally:
        holder.empty()


def roster_files(headcount: pd.DataFrame, lines: pd.DataFrame) -> dict[str, bytes]:
    """The weekly roster as ``roster.csv`` (one row per 5/2 line) and ``roster.xlsx``
    (``Weekly roster`` and ``Roster headcount``), through :mod:`planner.export`."""
    from planner.export import csv_bytes, roster_tables, workbook_bytes
    from staffing.roster import Roster

    tables = roster_tables(Roster(headcount, lines))
    return {"roster.csv": csv_bytes(tables["Weekly roster"]),
            "roster.xlsx": workbook_bytes(tables, styled=True)}


@st.cache_data(show_spinner="Building the weekly roster...", max_entries=8)
def weekly_roster(shift_plan: pd.DataFrame, consecutive: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Weekly 5/2 roster of a shift plan (:func:`staffing.roster.weekly_roster`).

    Returns ``(headcount, lines)`` as documented there.
    """
    from staffing.roster import weekly_roster as build

    roster = build(shift_plan, consecutive=consecutive)
    return roster.headcount, roster.lines


@st.cache_data(show_spinner=False, max_entries=16)
def load_day_upload(name: str, content: bytes, interval_s: int) -> pd.DataFrame:
    """Today's uploaded contacts (:func:`planner.live.load_day_actuals`).

    Raises
    ------
    forecast.data.DataError
        The loader's message; not cached.
    """
    from planner.live import load_day_actuals

    return load_day_actuals(_NamedBytes(content, name), interval_s)


def day_view(result: ScenarioResult, actuals: pd.DataFrame, day: object, now: object,
             prior_contacts: float, level: float) -> Any:
    """The day's actuals against ``result``'s plan (:mod:`planner.live`).

    Raises
    ------
    ValueError
        The core's :class:`planner.live.LiveError` (columns, day, channels).
    """
    from planner.live import result_day_against_plan

    return result_day_against_plan(result, actuals, day=day, now=now,
                                   prior_contacts=prior_contacts, level=level)
