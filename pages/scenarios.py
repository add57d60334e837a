"""scenarios page (being wired to the core)."""

import streamlit as st

st.title("Scenarios")
