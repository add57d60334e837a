"""forecast page (being wired to the core)."""

import streamlit as st

st.title("Forecast")
