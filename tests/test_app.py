"""The Streamlit app, driven headless with ``streamlit.testing.v1.AppTest``.

Every page renders on the bundled sample without an exception and shows its key widgets;
a staffing assumption changes the FTE shown; malformed uploads show the loader's message
in the page and the app keeps working. Expected figures come from the raw sample files
read with the standard library (not through the app or the loaders) or from hand
arithmetic on small uploaded files.
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TIMEOUT = 240  # seconds per script run: the first forecast of a process is cold


@pytest.fixture(autouse=True)
def _private_store(tmp_path, monkeypatch):
    """Each test saves scenarios and uploads under its own temporary folder."""
    monkeypatch.setenv("PEAK_PLANNER_DB_URL", f"sqlite:///{tmp_path / 'app_test.db'}")
    monkeypatch.setenv("PEAK_PLANNER_UPLOAD_DIR", str(tmp_path / "uploads"))


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def _metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric {label!r} among {[m.label for m in at.metric]}"
    return found[0]


def _raw_sample_range() -> tuple[str, str, set[str]]:
    """First/last day and channels of the sample, read with the csv module only."""
    with open(ROOT / "data" / "orders.csv", newline="") as fh:
        days = [row["ds"][:10] for row in csv.DictReader(fh)]
    with gzip.open(ROOT / "data" / "contacts.csv.gz", "rt", newline="") as fh:
        rows = list(csv.DictReader(fh))
    stamps = [r["ds"][:10] for r in rows]
    return min(days + stamps), max(days + stamps), {r["channel"] for r in rows}


# ---------------------------------------------------------------------------- Data page
def test_data_page_previews_the_sample():
    at = _app()
    first, last, channels = _raw_sample_range()
    assert _metric(at, "Interval length") == "30 min"  # sample is generated at 30-min steps
    assert _metric(at, "From") == first
    assert _metric(at, "To") == last
    assert _metric(at, "Channels") == ", ".join(sorted(channels))
    assert at.radio(key="data_source").value == "Bundled sample"
    assert not at.error


BAD_UPLOADS = [
    # (kind, file name, content, words the message must contain)
    ("orders", "orders.csv", b"date,amount\n2024-01-01,5\n", ["orders.csv", "orders"]),
    (
        "contacts",
        "contacts.csv",
        b"ds,channel,contacts\n2024-01-01 08:00,chat,abc\n2024-01-01 08:15,chat,3\n",
        ["contacts.csv", "contacts", "abc"],
    ),
    ("contacts", "empty.csv", b"", ["empty.csv", "empty"]),
    ("events", "events.csv", b"", ["events.csv", "empty"]),
]


@pytest.mark.parametrize(("kind", "name", "content", "words"), BAD_UPLOADS)
def test_malformed_upload_shows_message_and_app_keeps_working(kind, name, content, words):
    at = _app()
    at.radio(key="data_source").set_value("Upload my files").run()
    at.file_uploader(key=f"upload_{kind}").set_value((name, content, "text/csv")).run()
    assert not at.exception, at.exception
    messages = [e.value for e in at.error]
    assert len(messages) == 1, messages
    for word in words:
        assert word in messages[0], (word, messages[0])
    # the preview still shows the data in use (the sample), and the app goes on
    assert _metric(at, "Interval length") == "30 min"
    at.radio(key="data_source").set_value("Bundled sample").run()
    assert not at.exception and not at.error


def test_valid_upload_replaces_the_sample():
    # 15-minute contacts on two days, two channels: by hand, interval 15 min,
    # range 2024-03-04..2024-03-05, channels chat and voice.
    orders = b"ds,orders\n2024-03-04,100\n2024-03-05,120\n"
    contacts = (
        b"ds,channel,contacts\n"
        b"2024-03-04 08:00,chat,3\n2024-03-04 08:15,chat,4\n2024-03-04 08:00,voice,2\n"
        b"2024-03-05 08:00,chat,5\n2024-03-05 08:15,chat,1\n2024-03-05 08:15,voice,7\n"
    )
    at = _app()
    at.radio(key="data_source").set_value("Upload my files").run()
    at.file_uploader(key="upload_orders").set_value(("my_orders.csv", orders, "text/csv"))
    at.file_uploader(key="upload_contacts").set_value(("my_contacts.csv", contacts, "text/csv"))
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert _metric(at, "Interval length") == "15 min"
    assert _metric(at, "From") == "2024-03-04"
    assert _metric(at, "To") == "2024-03-05"
    assert _metric(at, "Channels") == "chat, voice"
    assert any("my_contacts.csv" in s.value for s in at.success)
