"""Peak Planner: the Streamlit shell over ``forecast/``, ``staffing/`` and ``planner/``.

Run it with ``make run`` (or ``streamlit run app.py``). The app opens on the bundled
sample data; each page lives in ``pages/`` and only calls the core through
``app_support.backend`` (cached) and shapes results for charts with ``app_support.views``.
"""

from __future__ import annotations

import streamlit as st

from app_support import state

st.set_page_config(page_title="Peak Planner", page_icon=":material/support_agent:", layout="wide")

PAGES = [
    st.Page("pages/data.py", title="Data", icon=":material/table:", default=True),
    st.Page("pages/forecast.py", title="Forecast", icon=":material/trending_up:"),
    st.Page("pages/staffing.py", title="Staffing", icon=":material/groups:"),
    st.Page("pages/shifts.py", title="Shift plan", icon=":material/calendar_month:"),
    st.Page("pages/scenarios.py", title="Scenarios", icon=":material/compare:"),
    st.Page("pages/export.py", title="Export", icon=":material/download:"),
]

state.init()
page = st.navigation(PAGES)
state.sidebar_summary()
page.run()
