"""Render the README's hiring timeline: ``docs/capacity_timeline.png``.

The Capacity page's chart (:func:`app_support.capacity_chart.capacity_chart`) for chat in
``scenarios/peak_hiring.yaml``, saved as PNG with vl-convert (a development dependency).
Run from the repository root: ``python docs/capacity_chart.py``.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app_support.capacity_chart import capacity_chart  # noqa: E402
from planner.capacity import capacity_plan  # noqa: E402
from planner.pipeline import run  # noqa: E402
from planner.scenario import load_scenario  # noqa: E402


def main(channel: str = "chat") -> Path:
    warnings.filterwarnings("ignore")
    result = run(load_scenario(ROOT / "scenarios" / "peak_hiring.yaml"))
    plan = capacity_plan(result)
    chart = capacity_chart(plan.weekly, plan.classes, channel).properties(
        width=760, title=f"peak_hiring: {channel}, required vs available FTE by week")
    out = ROOT / "docs" / "capacity_timeline.png"
    out.write_bytes(_png(chart))
    print(f"wrote {out.relative_to(ROOT)}")
    return out


def _png(chart: object) -> bytes:
    import vl_convert as vlc

    return vlc.vegalite_to_png(chart.to_json(), scale=1.5)


if __name__ == "__main__":
    main(*sys.argv[1:])
