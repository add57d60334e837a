"""Scenario: one named, validated set of planning assumptions, readable as YAML.

Why it is long: the scenario's schema is one tree (data, horizon, forecast, channels,
shifts, cost, capacity) validated together, with the guarded YAML reading (size limits,
allowed data paths); split, the checks across sections would span modules.

A scenario answers "what if?" for a war room: which data, which horizon, which
forecast settings, what contact rate, how much automation, which service-level
target per channel, how much shrinkage, which shift rules, how much a paid hour
costs and whether the headcount is capped. Every field has a default that works on
the bundled sample data, so ``Scenario()`` is a valid plan of the Q4 2024 peak.

Units follow the project contract: durations in seconds (``threshold_s``,
``aht_s``, ``patience_s``, ``response_target_s``), shares in 0..1 (``target_sl``,
``shrinkage``, ``automation``, ``contact_rate`` as contacts per order), money in the
currency of ``cost_per_paid_hour`` (per paid agent hour).

Month-dependent assumptions (``contact_rate``, ``automation``) take either one number
or a mapping from month number (1..12) to a number; months not listed keep the
learned value (for ``contact_rate``) or zero (for ``automation``).

Examples
--------
>>> from planner.scenario import Scenario
>>> s = Scenario.from_yaml("name: what_if\\ncontact_rate: {10: 0.065, 11: 0.069}\\n")
>>> s.contact_rate_for_month(11), s.contact_rate_for_month(12) is None
(0.069, True)
>>> s.channels["chat"].concurrency
2
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import reprlib
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from planner.capacity_settings import CapacitySettings
from staffing.queue_models import QUEUE_MODELS, QueueModel, queue_model

__all__ = [
    "ChannelSettings",
    "DataSources",
    "ForecastSettings",
    "Horizon",
    "Scenario",
    "ScenarioError",
    "ShiftSettings",
    "check_data_paths",
    "check_text",
    "load_scenario",
]

#: The queueing models of :data:`staffing.queue_models.QUEUE_MODELS` (one list of names).
ChannelModel = Literal[tuple(QUEUE_MODELS)]  # type: ignore[valid-type]
MonthlyShare = float | dict[int, float]

_HOURS_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


#: Largest scenario text read or parsed, in characters (a scenario is a few KB).
MAX_YAML_CHARS = 1_000_000
#: Deepest nesting of YAML collections accepted (a scenario nests 4 levels).
MAX_YAML_DEPTH = 32
#: Most YAML nodes after expanding aliases (a scenario has a few hundred); bounds
#: "billion laughs" documents whose aliases expand exponentially.
MAX_YAML_NODES = 20_000


class ScenarioError(ValueError):
    """A scenario failed validation; the message names the field (dotted path) and value."""


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxdict, _SHORT.maxlist, _SHORT.maxstring, _SHORT.maxother = (
    2, 4, 4, 60, 60)


def _short(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters, without walking a huge value."""
    text = _SHORT.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_text(value: str, field: str, multiline: bool = False) -> str:
    """Reject control characters (and lone surrogates) in user text; returns ``value``.

    ``multiline`` allows line feeds and tabs (descriptions, notes). Such characters
    cannot be written to a spreadsheet cell or a CSV line a rostering system reads.

    Raises
    ------
    ValueError
        Naming ``field`` and the position of the first bad character.
    """
    allowed = "\n\t" if multiline else ""
    for i, c in enumerate(value):
        if c not in allowed and unicodedata.category(c) in ("Cc", "Cs"):
            raise ValueError(
                f"{field} has a control character {c!r} at position {i}; "
                "remove it (only printable text is allowed)"
            )
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def _check_monthly(value: Any, field: str, upper: float) -> Any:
    if value is None or isinstance(value, int | float):
        items = {} if value is None else {0: value}
    elif isinstance(value, Mapping):
        items = dict(value)
        for month in items:
            if not 1 <= int(month) <= 12:
                raise ValueError(f"{field}: month {month!r} is not in 1..12")
    else:
        return value  # let pydantic report the type error
    for month, share in items.items():
        if not 0.0 <= float(share) <= upper:
            where = f"{field}[{month}]" if month else field
            raise ValueError(f"{where} = {share!r} is outside 0..{upper}")
    return value


class DataSources(_Model):
    """Where the history comes from.

    ``None`` for a file means the bundled sample file (``data/`` in the repository);
    ``events: ""`` means no events. Relative paths resolve against the working directory.
    ``interval_s`` is checked against the contact file (detected when ``None``).
    ``timezone`` is the centre's IANA zone (``"Europe/Berlin"``): needed for timestamps
    with UTC offsets and for a local file holding the hour repeated when daylight saving
    time ends (see :func:`forecast.data.load_contacts`).
    """

    orders: str | None = None
    contacts: str | None = None
    events: str | None = None
    interval_s: int | None = Field(default=None, gt=0, le=86_400)
    timezone: str | None = None


class Horizon(_Model):
    """The planned days, ``start`` to ``end`` inclusive (local dates of the centre).

    ``history_end`` is the last day of history the forecast may use; the default is the
    day before ``start`` (a forecast made before the peak begins).
    """

    start: dt.date = dt.date(2024, 10, 1)
    end: dt.date = dt.date(2024, 12, 31)
    history_end: dt.date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Horizon:
        if self.end < self.start:
            raise ValueError(f"horizon.end {self.end} is before horizon.start {self.start}")
        if self.history_end is not None and self.history_end >= self.start:
            raise ValueError(
                f"horizon.history_end {self.history_end} must be before start {self.start}"
            )
        return self

    @property
    def days(self) -> int:
        """Number of planned days (inclusive)."""
        return (self.end - self.start).days + 1

    @property
    def last_history_day(self) -> dt.date:
        """Last day of history visible to the forecast."""
        return self.history_end or (self.start - dt.timedelta(days=1))


class ForecastSettings(_Model):
    """Forecast model and which point of the forecast distribution staffing uses.

    ``staff_to="upper"`` staffs to ``yhat_hi`` (the ``level`` % upper bound);
    ``staff_to="p80"`` (or ``0.8``) staffs each interval so that its service-level target
    holds with probability 0.8 under the forecast's predictive distribution
    (:mod:`staffing.risk`). A channel's own ``staff_to`` overrides it.
    """

    model: str = "auto"
    level: int = Field(default=80, gt=0, lt=100)
    staff_to: str = "mean"

    @field_validator("staff_to", mode="before")
    @classmethod
    def _staff_to(cls, v: Any) -> str:
        from staffing.risk import parse_staff_to

        return parse_staff_to(v)


class ChannelSettings(_Model):
    """Staffing assumptions for one channel.

    ``model`` picks the queueing model: ``erlang_c`` (voice without abandonment),
    ``erlang_a`` (voice with exponential patience ``patience_s``), ``chat`` (an agent
    serves ``concurrency`` chats at once; ``aht_s`` measured at that concurrency) or
    ``deferred`` (email: every item answered within ``response_target_s``).
    ``aht_s=None`` and ``contact_rate=None`` use the values learned from history.
    ``open_hours`` is ``"HH:MM-HH:MM"`` local time or ``None`` for around the clock.
    ``shrinkage_by_month`` (month 1..12 -> share) replaces ``shrinkage`` in the months it
    lists, e.g. ``{12: 0.35, 1: 0.38}`` for December holidays and January sickness.
    ``headcount_cap`` caps the agents on shift per day in the channel (people available
    each day; under the cap the shift solver gives them the longest shifts and the rest of
    the demand goes unserved); ``None`` means hire as needed. ``cap_priority`` weighs this
    channel's uncovered agent-intervals when a cap is shared (``headcount_cap_total``): the
    agents go first where a gap costs most. ``None``: 1 for live channels, 0.2 for
    ``deferred`` work, which can wait within its response target. Without a shift solve it
    caps the agents scheduled per interval. ``staff_to`` (``"mean"``, ``"upper"``,
    ``"p80"``, ``0.9``) overrides ``forecast.staff_to`` for this channel.
    """

    model: ChannelModel = "erlang_c"
    target_sl: float = Field(default=0.8, gt=0.0, lt=1.0)
    threshold_s: float = Field(default=20.0, ge=0.0)
    patience_s: float | None = Field(default=None, gt=0.0)
    concurrency: int = Field(default=1, ge=1, le=20)
    response_target_s: float | None = Field(default=None, gt=0.0)
    aht_s: float | None = Field(default=None, gt=0.0)
    contact_rate: MonthlyShare | None = None
    automation: MonthlyShare = 0.0
    shrinkage: float = Field(default=0.3, ge=0.0, lt=1.0)
    shrinkage_by_month: dict[int, float] | None = None
    max_occupancy: float | None = Field(default=0.9, gt=0.0, le=1.0)
    open_hours: str | None = "08:00-22:00"
    headcount_cap: int | None = Field(default=None, ge=0)
    cap_priority: float | None = Field(default=None, gt=0.0, le=100.0)
    cost_per_paid_hour: float | None = Field(default=None, ge=0.0)
    staff_to: str | None = None

    @field_validator("staff_to", mode="before")
    @classmethod
    def _staff_to(cls, v: Any) -> str | None:
        from staffing.risk import parse_staff_to

        return None if v is None else parse_staff_to(v)

    @field_validator("contact_rate")
    @classmethod
    def _cr(cls, v: Any) -> Any:
        return _check_monthly(v, "contact_rate", 1.0)

    @field_validator("automation")
    @classmethod
    def _auto(cls, v: Any) -> Any:
        return _check_monthly(v, "automation", 0.99)

    @field_validator("shrinkage_by_month")
    @classmethod
    def _shrink(cls, v: Any) -> Any:
        v = _check_monthly(v, "shrinkage_by_month", 1.0)
        if isinstance(v, Mapping) and any(float(x) >= 1.0 for x in v.values()):
            raise ValueError("shrinkage_by_month: shrinkage must be below 1 (100 %)")
        return v or None

    @field_validator("open_hours")
    @classmethod
    def _hours(cls, v: str | None) -> str | None:
        if v is None:
            return v
        m = _HOURS_RE.match(v)
        if not m:
            raise ValueError(f"open_hours {v!r} is not 'HH:MM-HH:MM'")
        h0, m0, h1, m1 = (int(g) for g in m.groups())
        if not (0 <= h0 <= 24 and 0 <= h1 <= 24 and m0 < 60 and m1 < 60):
            raise ValueError(f"open_hours {v!r} has an invalid time")
        if h1 * 60 + m1 <= h0 * 60 + m0:
            raise ValueError(f"open_hours {v!r} must close after it opens")
        return v

    @model_validator(mode="after")
    def _model_fields(self) -> ChannelSettings:
        q = self.queue
        if "patience_s" in q.needs and self.patience_s is None:
            raise ValueError(f"model {self.model!r} needs patience_s (mean patience, seconds)")
        if "response_target_s" in q.needs and self.response_target_s is None:
            raise ValueError(f"model {self.model!r} needs response_target_s (seconds)")
        if not q.concurrent and self.concurrency != 1:
            raise ValueError(f"concurrency {self.concurrency} is only valid with model 'chat'")
        return self

    @property
    def queue(self) -> QueueModel:
        """The channel's queueing model (:data:`staffing.queue_models.QUEUE_MODELS`)."""
        return queue_model(self.model)

    @property
    def deferred(self) -> bool:
        """Work answered within a response target (email), not a queue answered in seconds."""
        return self.queue.deferred

    def automation_for_month(self, month: int) -> float:
        """Deflected share of contacts in calendar ``month`` (1..12)."""
        return _monthly(self.automation, month, 0.0)

    @property
    def priority(self) -> float:
        """``cap_priority``, or its default by model (0.2 deferred, 1 live)."""
        if self.cap_priority is not None:
            return float(self.cap_priority)
        return 0.2 if self.deferred else 1.0

    def shrinkage_for_month(self, month: int) -> float:
        """Shrinkage in calendar ``month`` (1..12): ``shrinkage_by_month`` or ``shrinkage``."""
        return _monthly(self.shrinkage_by_month, month, self.shrinkage)

    def contact_rate_for_month(self, month: int) -> float | None:
        """Contact-rate override for this channel in ``month``, or ``None`` (learned)."""
        return _monthly(self.contact_rate, month, None)


def _monthly(value: MonthlyShare | None, month: int, default: float | None) -> float | None:
    if value is None:
        return default
    if isinstance(value, int | float):
        return float(value)
    return float(value[month]) if month in value else default


#: Longest queue name or pattern (like a channel name).
MAX_QUEUE_NAME = 60


def _check_queue_overrides(v: Any) -> Any:
    """Each ``queues`` entry: a name or pattern of 1..60 printable characters and a
    mapping of :class:`ChannelSettings` fields, each valid on its own (errors name the
    dotted path ``queues.<name>.<field>``). Whether the fields fit the queue's channel
    (``patience_s`` for ``erlang_a``, ...) is checked when the queues are known
    (:func:`planner.queues.queue_scenario`)."""
    if v is None:
        return {}
    if not isinstance(v, Mapping):
        raise ValueError(f"queues must map a queue name or pattern to settings, got "
                         f"{_short(v)}")
    known = set(ChannelSettings.model_fields)
    out: dict[str, dict[str, Any]] = {}
    for name, fields in v.items():
        shown = name if isinstance(name, str) and name.isprintable() and len(name) <= 60 \
            else _short(name, 40)
        where = f"queues.{shown}"
        if not isinstance(name, str):
            raise ValueError(f"{where}: a queue name or pattern must be text")
        check_text(name, where)
        if not name or name != name.strip() or len(name) > MAX_QUEUE_NAME:
            raise ValueError(f"{where}: a queue name or pattern must be 1..{MAX_QUEUE_NAME} "
                             "characters without leading or trailing spaces")
        if isinstance(fields, ChannelSettings):
            fields = fields.model_dump()
        if not isinstance(fields, Mapping) or not fields:
            raise ValueError(f"{where}: expected a mapping of the channel settings that "
                             f"differ (e.g. {{target_sl: 0.9}}), got {_short(fields)}")
        unknown = sorted(str(k) for k in fields if k not in known)
        if unknown:
            raise ValueError(f"{where}.{unknown[0]}: unknown field; a queue takes the channel "
                             f"settings {', '.join(sorted(known))}")
        _check_override_values(where, dict(fields))
        out[name] = dict(fields)
    return out


def _check_override_values(where: str, fields: dict[str, Any]) -> None:
    """Validate the given fields on a channel of their own model (``erlang_c`` unless
    given), with the fields that model needs filled in when not given."""
    base: dict[str, Any] = {"model": fields.get("model", "erlang_c")}
    try:
        needs = queue_model(str(base["model"])).needs
    except (KeyError, ValueError):
        needs = ()
    base.update({k: 180.0 for k in ("patience_s",) if k in needs})
    base.update({k: 86_400.0 for k in ("response_target_s",) if k in needs})
    try:
        ChannelSettings.model_validate({**base, **fields})
    except ValidationError as exc:
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            if (loc.split(".")[0] not in fields) if loc else ("model" not in fields):
                continue  # a cross-field rule: checked with the queue's channel
            msg = err["msg"].removeprefix("Value error, ")
            raise ValueError(f"{where}.{loc or '(settings)'}: {msg} (got "
                             f"{_short(err.get('input'))})") from None


def _default_channels() -> dict[str, ChannelSettings]:
    return {
        "chat": ChannelSettings(model="chat", target_sl=0.8, threshold_s=60.0, concurrency=2),
        "voice": ChannelSettings(
            model="erlang_a", target_sl=0.8, threshold_s=20.0, patience_s=180.0
        ),
        "email": ChannelSettings(
            model="deferred",
            target_sl=0.8,
            threshold_s=86_400.0,
            response_target_s=86_400.0,
            max_occupancy=None,
        ),
    }


class ShiftSettings(_Model):
    """Shift rules for the shift solver (local time).

    ``lengths_h`` are the allowed shift lengths in hours (start to end), ``start_step_min``
    the granularity of shift starts; shifts of 6 hours or more get one unpaid break of
    ``break_min`` minutes starting ``break_window_h`` hours after the shift start (the
    window is clipped to fit the shift). ``time_limit_s`` bounds the solver's work per block of
    days and channel, in CP-SAT's deterministic time units (about a second of a modern
    core each, but counted, not timed: the same scenario gives the same plan on any
    machine); the name is kept for saved scenarios. ``solve=False`` skips the shift
    solver and staffs each interval with its rounded-up rostered requirement (fast
    what-ifs; no shift plan).
    """

    lengths_h: tuple[float, ...] = (8.0, 6.0, 4.0)
    start_step_min: int = Field(default=60, gt=0, le=240)
    break_min: int = Field(default=30, ge=0, le=120)
    break_window_h: tuple[float, float] = (2.0, 5.0)
    time_limit_s: float = Field(default=20.0, gt=0.0)
    solve: bool = True

    @field_validator("lengths_h")
    @classmethod
    def _lengths(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if not v or any(not 1.0 <= x <= 14.0 for x in v):
            raise ValueError(f"lengths_h {v!r} must be non-empty, each in 1..14 hours")
        return v


class Scenario(_Model):
    """A named set of planning assumptions (see the module docstring for units).

    ``channels`` maps channel name to :class:`ChannelSettings`; a known channel (chat,
    voice, email) listed with some fields keeps that channel's defaults for the others.
    ``contact_rate`` is the total contacts per order over all channels, a number or a
    month -> number mapping; it rescales the learned per-channel volumes keeping the
    learned channel mix. A channel's own ``contact_rate`` overrides it for that channel.
    ``order_growth`` scales the order forecast (0.1 = 10 % more orders).
    ``headcount_cap_total`` caps the agents on shift per day over all channels together
    (on top of any channel's own ``headcount_cap``): the shift solver shares them out
    where they cover most of the requirement. Without a shift solve it caps the agents
    scheduled per interval, shared in proportion to each channel's requirement.

    Raises
    ------
    ScenarioError
        From :meth:`from_yaml`, :meth:`from_dict` and :func:`load_scenario` when a field
        is invalid; the message names each bad field as a dotted path with its value.
    """

    name: str = Field(default="base", min_length=1, max_length=120)
    description: str = ""
    data: DataSources = DataSources()
    horizon: Horizon = Horizon()
    forecast: ForecastSettings = ForecastSettings()
    order_growth: float = Field(default=0.0, gt=-1.0, le=10.0)
    contact_rate: MonthlyShare | None = None
    channels: dict[str, ChannelSettings] = Field(default_factory=_default_channels)
    shifts: ShiftSettings = ShiftSettings()
    headcount_cap_total: int | None = Field(default=None, ge=1)
    cost_per_paid_hour: float = Field(default=20.0, ge=0.0)
    fte_hours_per_week: float = Field(default=40.0, gt=0.0, le=80.0)
    # hiring and capacity plan (planner.capacity); None: no capacity plan in the scenario
    capacity: CapacitySettings | None = None
    # queue name or shell pattern -> channel settings that differ (planner.queues)
    queues: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        check_text(v, "name")
        if v != v.strip() or any(c in v for c in "/\\\n\r\t"):
            raise ValueError(f"name {_short(v)} must not contain slashes, tabs or line breaks")
        return v

    @field_validator("description")
    @classmethod
    def _description(cls, v: str) -> str:
        return check_text(v, "description", multiline=True)

    @field_validator("contact_rate")
    @classmethod
    def _cr(cls, v: Any) -> Any:
        return _check_monthly(v, "contact_rate", 1.0)

    @field_validator("channels", mode="before")
    @classmethod
    def _merge_channel_defaults(cls, v: Any) -> Any:
        # A known channel (chat, voice, email) listed with only some fields keeps the
        # defaults of that channel for the rest; listed channels replace the default set.
        if not isinstance(v, Mapping):
            return v
        defaults = _default_channels()
        merged = {}
        for name, fields in v.items():
            if isinstance(fields, ChannelSettings):
                merged[name] = fields
            elif name in defaults and isinstance(fields, Mapping):
                base = defaults[name].model_dump()
                if fields.get("model", base["model"]) != base["model"]:
                    base = {}
                merged[name] = {**base, **fields}
            else:
                merged[name] = fields
        return merged

    @field_validator("channels")
    @classmethod
    def _channels(cls, v: dict[str, ChannelSettings]) -> dict[str, ChannelSettings]:
        if not v:
            raise ValueError("channels must name at least one channel")
        for name in v:
            check_text(name, f"channel name {_short(name)}")
            if not name or name != name.strip() or len(name) > 60:
                raise ValueError(
                    f"channel name {_short(name)} must be 1..60 characters without "
                    "leading or trailing spaces"
                )
        return v

    @field_validator("queues", mode="before")
    @classmethod
    def _queues(cls, v: Any) -> Any:
        return _check_queue_overrides(v)

    # ------------------------------------------------------------------ accessors
    def contact_rate_for_month(self, month: int) -> float | None:
        """Total contact-rate override in calendar ``month``, or ``None`` (learned)."""
        return _monthly(self.contact_rate, month, None)

    def channel_cost(self, channel: str) -> float:
        """Cost of one paid hour in ``channel`` (channel override or scenario default)."""
        c = self.channels[channel].cost_per_paid_hour
        return self.cost_per_paid_hour if c is None else c

    def forecast_key(self) -> str:
        """Hash of everything the forecast depends on (data, horizon, forecast settings).

        Two scenarios with the same key share one forecast in the pipeline cache.
        """
        payload = {
            "data": self.data.model_dump(mode="json"),
            "horizon": self.horizon.model_dump(mode="json"),
            # staff_to is a staffing choice: changing it reuses the forecast
            "forecast": self.forecast.model_dump(mode="json", exclude={"staff_to"}),
            "channels": sorted(self.channels),
        }
        blob = json.dumps(payload, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    # ------------------------------------------------------------------ I/O
    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, source: str = "scenario") -> Scenario:
        """Validate a plain mapping (as parsed from YAML or JSON).

        Raises
        ------
        ScenarioError
            Naming ``source`` and every invalid field as a dotted path.
        """
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            kind = {list: "a list", str: "a single text value"}.get(
                type(data), f"a single {type(data).__name__} value")
            raise ScenarioError(f"{source}: expected a mapping of fields (one 'field: value' "
                                f"per line, as in the example scenarios), got {kind}")
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            raise ScenarioError(_format_errors(exc, source)) from None

    @classmethod
    def from_yaml(cls, text: str, source: str = "scenario") -> Scenario:
        """Parse and validate YAML text.

        Raises
        ------
        ScenarioError
            When the YAML does not parse (with line number) or a field is invalid.
        """
        return cls.from_dict(_parse_yaml(text, source), source)

    @classmethod
    def from_untrusted_yaml(
        cls, text: str, source: str, allowed_paths: Mapping[str, str] | None = None
    ) -> Scenario:
        """Parse YAML from someone who may not read files on this machine (a browser).

        Like :meth:`from_yaml`, and each of ``data.orders``, ``data.contacts`` and
        ``data.events`` must be empty (the bundled sample; ``events: ""`` = no events)
        or name a file in ``allowed_paths``: a mapping from the names of the files the
        user uploaded to the paths where the server keeps them. An upload name is
        replaced by its path in the returned scenario; a path must be one of the
        mapping's values exactly. See :func:`check_data_paths`.

        Raises
        ------
        ScenarioError
            When the YAML is too large or too deeply nested, does not parse, a field is
            invalid, or a data field names any other file (the message names the field
            and never reads the file).

        Examples
        --------
        >>> uploads = {"orders.csv": "uploads/ab12/orders.csv"}
        >>> s = Scenario.from_untrusted_yaml("data: {orders: orders.csv}", "upload", uploads)
        >>> s.data.orders
        'uploads/ab12/orders.csv'
        >>> try:
        ...     Scenario.from_untrusted_yaml("data: {contacts: ../secret.csv}", "upload")
        ... except ScenarioError as exc:
        ...     print(str(exc)[:65])
        upload: data.contacts '../secret.csv' is not a file uploaded in t
        """
        return check_data_paths(cls.from_yaml(text, source), allowed_paths, source)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible mapping of every field (dates as ISO strings)."""
        return self.model_dump(mode="json")

    def to_yaml(self) -> str:
        """YAML text that :meth:`from_yaml` reads back to an equal scenario."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    def with_changes(self, changes: Mapping[str, Any]) -> Scenario:
        """A validated copy with fields replaced by dotted path.

        Examples
        --------
        >>> Scenario().with_changes({"channels.chat.concurrency": 3}).channels["chat"].concurrency
        3
        """
        data = self.to_dict()
        for path, value in changes.items():
            node = data
            keys = path.split(".")
            for key in keys[:-1]:
                if not isinstance(node.get(key), dict):
                    raise ScenarioError(f"with_changes: {path!r} does not name a field")
                node = node[key]
            node[keys[-1]] = value
        return Scenario.from_dict(data, source=f"scenario {self.name!r}")


def check_data_paths(
    scenario: Scenario, allowed_paths: Mapping[str, str] | None = None, source: str = "scenario"
) -> Scenario:
    """``scenario`` with data files limited to the sample and the ``allowed_paths``.

    For scenarios that reach a server from a user (an uploaded or saved scenario opened in
    the app): each of ``data.orders``, ``data.contacts``, ``data.events`` must be ``None``
    or ``""`` (the bundled sample, or no events), a key of ``allowed_paths`` (an uploaded
    file's name, replaced by its path) or exactly one of its values (a server path of an
    upload). No file is opened.

    Raises
    ------
    ScenarioError
        Naming ``source`` and the first data field that refers to any other file.
    """
    allowed = dict(allowed_paths or {})
    paths = set(allowed.values())
    changes = {}
    for field in ("orders", "contacts", "events"):
        given = getattr(scenario.data, field)
        if given is None or given == "" or given in paths:
            continue
        if given in allowed:
            changes[f"data.{field}"] = allowed[given]
            continue
        raise ScenarioError(
            f"{source}: data.{field} {_short(given)} is not a file uploaded in this session; "
            f"upload the file, or leave data.{field} empty for the bundled sample"
        )
    return scenario.with_changes(changes) if changes else scenario


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses deep nesting and alias bombs before building any object."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _TooBig(f"nested deeper than {MAX_YAML_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        _check_expanded_size(node)
        return self.construct_document(node)


class _TooBig(Exception):
    pass


def _check_expanded_size(root: yaml.Node) -> None:
    """Count the nodes of ``root`` with every alias expanded, without expanding them."""
    sizes: dict[int, int] = {}
    busy: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if key in sizes and not done:
            continue
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        if done:
            busy.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[key] > MAX_YAML_NODES:
                raise _TooBig(f"more than {MAX_YAML_NODES} values once aliases are expanded")
            continue
        if key in busy:
            raise _TooBig("an alias refers to a collection that contains it")
        busy.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)


def _parse_yaml(text: str, source: str) -> Any:
    if not isinstance(text, str):
        raise ScenarioError(f"{source}: expected YAML text, got {type(text).__name__}")
    if len(text) > MAX_YAML_CHARS:
        raise ScenarioError(
            f"{source}: {len(text):,} characters is too large for a scenario "
            f"(at most {MAX_YAML_CHARS:,})"
        )
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    except _TooBig as exc:
        raise ScenarioError(f"{source}: not accepted as a scenario: YAML {exc}") from None
    except yaml.YAMLError as exc:
        # PyYAML names the text "<unicode string>": name the file instead
        raise ScenarioError(f"{source}: not valid YAML: "
                            + str(exc).replace('"<unicode string>"', source)) from None
    except (ValueError, TypeError, RecursionError) as exc:
        # e.g. an integer of more digits than Python converts, an invalid date
        raise ScenarioError(f"{source}: not valid YAML: {str(exc)[:200]}") from None
    finally:
        loader.dispose()


def _format_errors(exc: ValidationError, source: str) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])[:120] or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        shown = _short(err.get("input"))
        msg = msg if len(msg) <= 300 else msg[:297] + "..."
        lines.append(f"  {loc}: {msg} (got {shown})")
    return f"{source}: {len(lines)} invalid field(s):\n" + "\n".join(lines)


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario YAML file.

    Relative data paths in the file are kept as written and resolve against the
    working directory when the pipeline loads the data.

    Raises
    ------
    ScenarioError
        When the file is missing, does not parse, or a field is invalid.
    """
    p = Path(path)
    try:
        with p.open("rb") as fh:
            raw = fh.read(MAX_YAML_CHARS * 4 + 1)  # UTF-8 needs at most 4 bytes a character
    except OSError as exc:
        raise ScenarioError(f"scenario file {str(p)!r}: cannot read ({exc.strerror})") from None
    if len(raw) > MAX_YAML_CHARS * 4:
        raise ScenarioError(
            f"scenario file {str(p)!r}: too large for a scenario (at most "
            f"{MAX_YAML_CHARS:,} characters)"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"scenario file {str(p)!r}: not UTF-8 text (byte {exc.start})"
        ) from None
    return Scenario.from_yaml(text, source=str(p))
