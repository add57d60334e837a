"""Support code for the Streamlit app (``app.py`` and ``app_support/pages/``).

``views`` and ``charts`` are pure (no Streamlit): they shape core results into frames and
Altair charts. ``backend`` wraps the core calls in Streamlit caches and ``state`` keeps the
session's dataset, assumptions and runs.
"""

__all__: list[str] = []
