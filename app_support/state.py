"""Session state of the app: the current scenario, the runs of this session, the sidebar.

Keys live here, in one place; pages read and write them through these helpers. The
current :class:`planner.scenario.Scenario` is the single source of truth for every page:
its ``data`` field says which history is used (``None`` files = the bundled sample).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app_support import backend, editor, views
from planner import picks
from planner.scenario import Scenario

__all__ = [
    "compared",
    "current_dataset",
    "current_scenario",
    "init",
    "queue_pick",
    "remember_upload",
    "set_scenario",
    "show_warnings",
    "sidebar_summary",
    "uploads",
]

SCENARIO = "scenario"  # the scenario every page shows
COMPARED = "compared"  # name -> Scenario run in this session, for the war room
UPLOADS = "uploads"  # uploaded file name -> path the app kept it at, in this session
PICK = "queue_pick"  # "Total", "Channel: <name>" or a queue: what every page shows
PICK_BOX = "queue_pick_box"  # the picker widget (its state goes when a page omits it)


def init() -> None:
    """Put the session defaults in place (idempotent; runs at the top of every rerun)."""
    if SCENARIO not in st.session_state:
        st.session_state[SCENARIO] = backend.default_scenario()
    st.session_state.setdefault(COMPARED, {})
    st.session_state.setdefault(UPLOADS, {})


def current_scenario() -> Scenario:
    """The scenario the pages show."""
    return st.session_state[SCENARIO]


def set_scenario(scenario: Scenario, reset_widgets: bool = False) -> None:
    """Make ``scenario`` current; ``reset_widgets`` re-seeds the editor widgets from it."""
    st.session_state[SCENARIO] = scenario
    if reset_widgets:
        editor.reset_widgets()


def edit_current(title: str, sections: tuple[str, ...], ns: str,
                 expanded: bool = False) -> Scenario:
    """Draw the editor for ``sections`` in an expander; make the edited scenario current."""
    scenario = current_scenario()
    with st.expander(title, expanded=expanded):
        changed = editor.assumption_editor(scenario, sections, ns)
    if changed is not scenario:
        set_scenario(changed)
    refused = editor.rejections()
    if refused:
        st.warning(
            "The figures below keep the previous value of every refused input:\n\n"
            + "\n".join(f"- {views.md(line)}" for line in refused),
            icon=":material/warning:",
        )
    return changed


def uploads() -> dict[str, str]:
    """Data files accepted in this session: uploaded name -> the path the app kept it at.

    The only files (besides the bundled sample) a scenario opened from the browser may
    name.
    """
    return dict(st.session_state.get(UPLOADS, {}))


def remember_upload(name: str, path: str) -> None:
    """Add an accepted upload to :func:`uploads`."""
    st.session_state[UPLOADS] = {**uploads(), name: path}


def compared() -> dict[str, Scenario]:
    """Scenarios the user ran in this session, by name (insertion order)."""
    return st.session_state[COMPARED]


def current_dataset() -> backend.Dataset:
    """The history named by the current scenario's data sources."""
    d = current_scenario().data
    return backend.load_dataset(d.orders, d.contacts, d.events, d.interval_s, d.timezone)


def show_warnings(result: Any, container: Any = None) -> None:
    """What the planner noticed while running ``result``'s scenario (its
    ``meta["warnings"]``: channels it does not plan, history ending long before the
    plan, ...), as warnings in ``container`` (default: the page)."""
    box = container if container is not None else st
    names = [*(result.meta.get("queues") or {}), *result.scenario.channels]
    noun = "queues" if result.meta.get("queues") else "channels"
    for warning in views.group_warnings(result.meta.get("warnings") or (), names, noun=noun):
        box.warning(views.md(warning), icon=":material/warning:")


def sidebar_summary(container: Any = None) -> None:
    """A short summary in the sidebar (or ``container``): scenario name, horizon and data."""
    s = current_scenario()
    box = container if container is not None else st.sidebar
    data = "bundled sample" if s.data.contacts is None else "uploaded files"
    box.markdown(f"**Scenario:** {views.md(s.name)}")
    box.caption(
        f"Plan {s.horizon.start:%d %b %Y} to {s.horizon.end:%d %b %Y} "
        f"({s.horizon.days} days) - data: {data}"
    )


def queue_pick(queues: dict[str, str], container: Any = None) -> str | None:
    """The picker of the total, a channel or one queue (in the sidebar, or ``container``),
    shared by every page; ``None`` (and no picker) when there are no queues.

    A searchable select box (type part of a name); the pick is kept in the session under
    its own key, so it survives pages that draw no picker.
    """
    if not queues:
        return None
    options = picks.pick_options(queues)
    if st.session_state.get(PICK) not in options:
        st.session_state[PICK] = picks.TOTAL
    st.session_state[PICK_BOX] = st.session_state[PICK]

    def keep() -> None:
        st.session_state[PICK] = st.session_state[PICK_BOX]

    box = container if container is not None else st.sidebar
    channels = len(set(queues.values()))
    box.selectbox(
        f"Show ({len(queues):,} queues in {channels:,} channels)", options, key=PICK_BOX,
        on_change=keep,
        help="The total, one channel (all its queues) or one queue; type to search. "
        "Charts add the picked queues up interval by interval (volumes and agents summed, "
        "service level weighted by volume); figures come from the roll-up.",
    )
    return st.session_state[PICK]
