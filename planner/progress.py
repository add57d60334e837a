"""Progress of a plan's run: one callback, each step its share of the bar.

``progress(fraction_done, message)`` is what :func:`planner.pipeline.run` and
:func:`planner.demand.base_forecast` call; :func:`report_step` maps a step's own fraction
(0..1) onto its share of the whole run (:data:`STEPS`).

Examples
--------
>>> seen = []
>>> report_step(lambda f, m: seen.append((round(f, 3), m)), "forecast", 0.5, "half")
>>> seen
[(0.3, 'half')]
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["STEPS", "Progress", "report_step"]

Progress = Callable[[float, str], None]

#: Share of the progress bar given to each step (the forecast dominates a cold run).
STEPS = {"inputs": (0.0, 0.05), "forecast": (0.05, 0.55), "staffing": (0.55, 0.65),
         "shifts": (0.65, 0.95), "kpis": (0.95, 1.0)}


def report_step(progress: Progress | None, step: str, frac: float, msg: str) -> None:
    """Call ``progress`` (if any) with ``frac`` of ``step`` as a fraction of the whole run."""
    if progress is not None:
        lo, hi = STEPS[step]
        progress(lo + (hi - lo) * min(max(frac, 0.0), 1.0), msg)
