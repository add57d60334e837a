"""Forecasting: loaders for order/contact/event histories and volume forecasts."""

from forecast.backtest import backtest
from forecast.cache import ForecastCache
from forecast.contacts import forecast_contacts, forecast_contacts_detail
from forecast.data import (
    DataError,
    detect_interval_s,
    fill_closed_hours,
    load_contacts,
    load_events,
    load_orders,
    sample_paths,
)
from forecast.volume import forecast_volume

__all__ = [
    "ForecastCache",
    "forecast_contacts",
    "forecast_contacts_detail",
    "backtest",
    "forecast_volume",
    "DataError",
    "detect_interval_s",
    "fill_closed_hours",
    "load_contacts",
    "load_events",
    "load_orders",
    "sample_paths",
]
