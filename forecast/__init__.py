"""Forecasting: loaders for order/contact/event histories and volume forecasts."""

from forecast.data import (
    DataError,
    detect_interval_s,
    fill_closed_hours,
    load_contacts,
    load_events,
    load_orders,
    sample_paths,
)

__all__ = [
    "DataError",
    "detect_interval_s",
    "fill_closed_hours",
    "load_contacts",
    "load_events",
    "load_orders",
    "sample_paths",
]
