"""One fixed colour per channel and per scenario role, for every chart and report.

The app's charts (``app_support.charts``) and the printable peak report
(:mod:`planner.report`) read their colours here, so chat is the same orange and the
baseline the same dark grey everywhere. Colours are the Okabe-Ito palette, which reads
for the common colour-vision deficiencies.

Examples
--------
>>> channel_colors(["voice", "chat", "returns"])
{'voice': '#0072B2', 'chat': '#E69F00', 'returns': '#CC79A7'}
>>> scenario_colors(["lean", "base", "bots"], baseline="base")
{'lean': '#D55E00', 'base': '#4D4D4D', 'bots': '#009E73'}
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["BASELINE", "CHANNELS", "OTHERS", "channel_colors", "scenario_colors"]

#: Colours of the bundled channels.
CHANNELS = {"chat": "#E69F00", "voice": "#0072B2", "email": "#009E73"}
#: Colour of the baseline scenario in every chart.
BASELINE = "#4D4D4D"
#: Colours given in order to other channels and to the non-baseline scenarios.
OTHERS = ("#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#0072B2", "#F0E442")
_EXTRA_CHANNELS = ("#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999")


def channel_colors(channels: Iterable[str]) -> dict[str, str]:
    """Colour of each channel: fixed for chat, voice and email, then a fixed sequence
    for others in the order given."""
    out, k = {}, 0
    for ch in channels:
        if ch in CHANNELS:
            out[ch] = CHANNELS[ch]
        else:
            out[ch] = _EXTRA_CHANNELS[k % len(_EXTRA_CHANNELS)]
            k += 1
    return out


def scenario_colors(labels: Iterable[str], baseline: str | None = None) -> dict[str, str]:
    """Colour of each scenario label: the baseline (default the first) is always
    :data:`BASELINE`; the others take :data:`OTHERS` in the order given."""
    labels = list(labels)
    base = labels[0] if baseline is None and labels else baseline
    out, k = {}, 0
    for label in labels:
        if label == base:
            out[label] = BASELINE
        else:
            out[label] = OTHERS[k % len(OTHERS)]
            k += 1
    return out
