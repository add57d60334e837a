"""Peak Planner: the Streamlit shell over ``forecast/``, ``staffing/`` and ``planner/``.

Run it with ``make run`` (or ``streamlit run app.py``). The app opens on the bundled
sample data; each page lives in ``app_support/pages/`` and only calls the core through
``app_support.backend`` (cached) and shapes results for charts with ``app_support.views``.
"""

from __future__ import annotations

import streamlit as st

from app_support import editor, state

st.set_page_config(page_title="Peak Planner", page_icon=":material/support_agent:", layout="wide")

# Not in a top-level ``pages/`` folder: Streamlit would also serve those files as
# stand-alone pages (without this shell) when their URL is opened directly.
PAGE_DIR = "app_support/pages"
PAGES = [
    st.Page(f"{PAGE_DIR}/data.py", title="Data", icon=":material/table:", default=True),
    st.Page(f"{PAGE_DIR}/forecast.py", title="Forecast", icon=":material/trending_up:"),
    st.Page(f"{PAGE_DIR}/staffing.py", title="Staffing", icon=":material/groups:"),
    st.Page(f"{PAGE_DIR}/shifts.py", title="Shift plan", icon=":material/calendar_month:"),
    st.Page(f"{PAGE_DIR}/scenarios.py", title="Scenarios", icon=":material/compare:"),
    st.Page(f"{PAGE_DIR}/capacity.py", title="Capacity", icon=":material/person_add:"),
    st.Page(f"{PAGE_DIR}/today.py", title="Today", icon=":material/monitoring:"),
    st.Page(f"{PAGE_DIR}/export.py", title="Export", icon=":material/download:"),
]

state.init()
editor.clear_rejections()  # each page run lists its own rejected inputs
page = st.navigation(PAGES)
summary = st.sidebar.empty()
state.sidebar_summary(summary.container())  # stays if the page stops early
page.run()
state.sidebar_summary(summary.container())  # with the edits the page just made
