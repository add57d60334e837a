"""The real app in headless Chromium: run two scenarios, compare them, download the Excel.

Starts ``streamlit run app.py`` on a free port as a subprocess, drives it with
Playwright's sync API on Debian's Chromium (never a downloaded browser) and saves a
screenshot of every page under ``test-artifacts/``. The scenarios use a short horizon so
the whole walk fits the test budget. Expected facts are independent of the app's code:
the workbook's sheets and rows are read back with openpyxl and checked against the plan
table the page shows, and a higher contact rate must need more FTE (more contacts at the
same service target need more agents, Erlang C being monotone in traffic).
"""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RUN_TIMEOUT_MS = 150_000  # one cold scenario run: forecast fit + shift solve

if not Path(CHROMIUM).exists():
    pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM}", allow_module_level=True)

import openpyxl  # noqa: E402  (after the skip: only Chromium's absence may skip)
from playwright import sync_api as playwright_api  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app served by ``streamlit run`` on a free port; killed at the end."""
    tmp = tmp_path_factory.mktemp("browser")
    port = _free_port()
    env = {
        **os.environ,
        "PEAK_PLANNER_DB_URL": f"sqlite:///{tmp / 'browser.db'}",
        "PEAK_PLANNER_UPLOAD_DIR": str(tmp / "uploads"),
    }
    log = open(tmp / "streamlit.log", "wb")  # noqa: SIM115 - closed in the finally below
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", "app.py",
            "--server.headless", "true",
            "--server.port", str(port),
            "--server.address", "127.0.0.1",
            "--server.fileWatcherType", "none",
            "--browser.gatherUsageStats", "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "streamlit did not start:\n" + (tmp / "streamlit.log").read_text()[-3000:]
                )
            time.sleep(0.3)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def page(server):
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                      accept_downloads=True)
        pg = context.new_page()
        pg.set_default_timeout(30_000)
        pg.goto(server)
        yield pg
        context.close()
        browser.close()


STATUS = '[data-testid="stStatusWidget"]'  # "Running..." badge, shown after ~1 s of work


def _settle(page, timeout: int = RUN_TIMEOUT_MS) -> None:
    """Wait until the script run triggered by the last action has finished.

    Streamlit shows its running badge only once a run has taken about a second, so first
    give it 1.5 s to appear (short runs finish without it), then wait for it to go.
    """
    try:
        page.wait_for_selector(STATUS, state="attached", timeout=1500)
    except playwright_api.TimeoutError:
        return
    page.wait_for_selector(STATUS, state="detached", timeout=timeout)
    page.wait_for_timeout(200)


def _charts_drawn(page, at_least: int = 1) -> int:
    """Wait until ``at_least`` visible Altair charts are on the page and every visible one
    has its canvas or svg (Vega renders asynchronously; charts in hidden tabs wait until
    shown); return how many visible charts there are."""
    visible = """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')]
                      .filter(c => c.offsetParent !== null)"""
    page.wait_for_function(
        f"""(n) => {{
            const charts = ({visible})();
            return charts.length >= n && charts.every(c => c.querySelector('canvas, svg'));
        }}""",
        arg=at_least,
        timeout=60_000,
    )
    return page.evaluate(f"() => ({visible})().length")


def _no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, page.inner_text("body")


def _goto(page, title: str, heading: str | None = None) -> None:
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
    page.get_by_role("heading", name=heading or title).first.wait_for()
    _settle(page)
    _no_exception(page)


def _shot(page, name: str) -> None:
    """Screenshot of the whole page: the viewport is stretched to the content's height
    (Streamlit scrolls inside its main block, so a full-page shot alone stops at the fold)."""
    ARTIFACTS.mkdir(exist_ok=True)
    size = page.viewport_size
    height = page.evaluate(
        """() => {
            const main = document.querySelector('[data-testid="stMain"]');
            return main ? main.scrollHeight : document.body.scrollHeight;
        }"""
    )
    page.set_viewport_size({"width": size["width"], "height": min(max(height, 600), 8000)})
    page.wait_for_timeout(500)
    _charts_drawn(page, 0)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    page.set_viewport_size(size)


def _fill(page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    _settle(page)


def _set_date(page, label: str, year: str, month: str, day: str) -> None:
    """Type a date into Streamlit's segmented date field (year, month, day segments)."""
    group = page.get_by_label(label, exact=True)
    segments = group.locator('[role="spinbutton"]')
    names = [segments.nth(i).get_attribute("aria-label") or "" for i in range(segments.count())]
    values = {"year": year, "month": month, "day": day}
    for i, name in enumerate(names):
        part = next((v for k, v in values.items() if k in name.lower()), None)
        if part is not None:
            segments.nth(i).click()
            page.keyboard.type(part)
    page.keyboard.press("Tab")
    _settle(page)


def _metric_value(page, label: str, nth: int) -> str:
    card = page.locator('[data-testid="stMetric"]', has_text=label).nth(nth)
    return card.locator('[data-testid="stMetricValue"]').inner_text()


def test_two_scenarios_compared_and_exported(page, tmp_path):
    # Data page opens on the sample.
    page.get_by_role("heading", name="Data").first.wait_for()
    _settle(page)
    assert _charts_drawn(page, 2) >= 2
    _no_exception(page)
    assert _metric_value(page, "Interval length", 0) == "30 min"
    _shot(page, "1_data")

    # A malformed upload (text in the counts) is reported in the page, not as a traceback.
    page.get_by_test_id("stRadioGroup").get_by_text("Upload my files", exact=True).click()
    _settle(page)
    bad = tmp_path / "contacts.csv"
    bad.write_text("ds,channel,contacts\n2024-01-01 08:00,chat,lots\n")
    page.locator('[data-testid="stFileUploader"]', has_text="Contacts file").locator(
        'input[type="file"]'
    ).set_input_files(str(bad))
    alert = page.locator('[data-testid="stAlert"]', has_text="contacts.csv")
    alert.wait_for()
    assert "lots" in alert.inner_text() and "contacts" in alert.inner_text()
    _no_exception(page)
    _shot(page, "1b_data_bad_upload")
    page.get_by_test_id("stRadioGroup").get_by_text("Bundled sample", exact=True).click()
    _settle(page)
    _no_exception(page)

    # Scenarios page: a 3-day plan in the peak, run and saved twice with two contact rates.
    _goto(page, "Scenarios", "Scenarios - war room")
    _fill(page, "Scenario name", "browser_low_cr")
    page.get_by_role("tab", name="Horizon and forecast").click()
    _fill(page, "Days to plan", "3")
    _set_date(page, "Plan from", "2024", "11", "28")
    page.get_by_role("tab", name="Demand").click()
    _fill(page, "Contact rate Nov, % per order (0 = learned)", "4.2")
    page.get_by_role("button", name="Run and save").click()
    _settle(page)
    page.locator('[data-testid="stAlert"]', has_text="as version 1").wait_for(
        timeout=RUN_TIMEOUT_MS
    )
    _no_exception(page)

    _fill(page, "Scenario name", "browser_high_cr")
    page.get_by_role("tab", name="Demand").click()
    _fill(page, "Contact rate Nov, % per order (0 = learned)", "6.9")
    page.get_by_role("button", name="Run and save").click()
    _settle(page)
    page.locator('[data-testid="stAlert"]', has_text="browser_high_cr").wait_for(
        timeout=RUN_TIMEOUT_MS
    )
    _no_exception(page)

    # Both runs are compared side by side, the first as baseline.
    page.get_by_text("browser_low_cr (baseline)").wait_for()
    low = float(_metric_value(page, "Average FTE", 0).replace(",", ""))
    high = float(_metric_value(page, "Average FTE", 1).replace(",", ""))
    assert high > low > 0, (low, high)
    _shot(page, "5_scenarios")
    # FTE and cost by week, day x hour, SL by day, email backlog by day
    assert _charts_drawn(page, 5) == 5
    _shot(page, "5_scenarios")  # again, with every chart drawn

    # The other pages render the current scenario (browser_high_cr, 3 days).
    for i, title in enumerate(["Forecast", "Staffing", "Shift plan"], start=2):
        _goto(page, title)
        assert _charts_drawn(page) >= 1
        _shot(page, f"{i}_{title.lower().replace(' ', '_')}")

    # Export: the plan workbook opens with openpyxl and matches the shown plan.
    _goto(page, "Export")
    shown_rows = int(_metric_value(page, "Shift rows in the plan", 0).replace(",", ""))
    with page.expect_download() as info:
        page.get_by_role("button", name="Plan workbook (Excel)").click()
    path = tmp_path / "plan.xlsx"
    info.value.save_as(path)
    wb = openpyxl.load_workbook(path, read_only=True)
    # the sheets planner/export.py documents, and one row per shift pattern of the plan
    assert wb.sheetnames == ["Shift plan", "Coverage", "KPIs", "Assumptions", "Summary",
                             "Cost-risk frontier", "Weekly roster", "Roster headcount"]
    rows = list(wb["Shift plan"].iter_rows(values_only=True))
    assert all(h is not None for h in rows[0])
    assert len(rows) - 1 == shown_rows > 0
    dates = {str(r[0])[:10] for r in rows[1:]}
    assert dates == {"2024-11-28", "2024-11-29", "2024-11-30"}

    with page.expect_download() as info:
        page.get_by_role("button", name="Comparison workbook (Excel)").click()
    blob = Path(info.value.path()).read_bytes()
    cmp_wb = openpyxl.load_workbook(io.BytesIO(blob), read_only=True)
    totals = list(cmp_wb["totals"].iter_rows(values_only=True))
    assert totals[0][0] == "Scenario"  # headers in words, for people
    assert [r[0] for r in totals[1:]] == ["browser_low_cr", "browser_high_cr"]
    _shot(page, "6_export")

    # Today: the sample's own contacts of the plan's peak day replayed against the plan.
    _goto(page, "Today")
    assert _charts_drawn(page, 2) >= 2  # contacts and agents of the first channel tab
    assert int(_metric_value(page, "chat: contacts so far", 0).replace(",", "")) > 0
    _shot(page, "7_today")


def _upload_scenario(page, path: Path) -> None:
    page.locator('[data-testid="stFileUploader"]', has_text="Or open a scenario file").locator(
        'input[type="file"]'
    ).set_input_files(str(path))
    _settle(page)


def test_hostile_scenario_files_are_refused(page, tmp_path):
    # A scenario naming a server file is refused; nothing of the file reaches the page.
    _goto(page, "Scenarios", "Scenarios - war room")
    peek = tmp_path / "peek.yaml"
    peek.write_text("name: peek\ndata: {orders: /etc/os-release}\n")
    _upload_scenario(page, peek)
    alert = page.locator('[data-testid="stAlert"]', has_text="peek.yaml")
    alert.wait_for()
    assert "not a file uploaded in this session" in alert.inner_text()
    assert "PRETTY_NAME" not in page.inner_text("body")
    _no_exception(page)
    _shot(page, "8_refused_scenario")
    _goto(page, "Forecast")
    assert "PRETTY_NAME" not in page.inner_text("body")
    assert "peek" not in page.locator('[data-testid="stSidebar"]').inner_text()

    # A YAML bomb (nested anchors, 10**10 values once expanded, under 800 bytes) gets a
    # clear message at once and the app keeps answering.
    _goto(page, "Scenarios", "Scenarios - war room")
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\nname: bomb\n")
    assert bomb.stat().st_size < 800
    started = time.monotonic()
    _upload_scenario(page, bomb)
    alert = page.locator('[data-testid="stAlert"]', has_text="bomb.yaml")
    alert.wait_for(timeout=20_000)
    assert time.monotonic() - started < 20
    assert "aliases" in alert.inner_text()
    _no_exception(page)
    _fill(page, "Scenario name", "after_bomb")
    page.locator('[data-testid="stSidebar"]', has_text="after_bomb").wait_for()


def test_out_of_range_number_is_refused_in_words(page):
    # The browser used to keep -5 red in the box and never send it, so the plan kept the
    # old AHT silently. Now the value reaches the app, which says why it is refused, next
    # to the box and where Run is.
    _goto(page, "Scenarios", "Scenarios - war room")
    page.get_by_role("tab", name="Staffing").click()
    _fill(page, "chat: AHT, s (0 = learned)", "-5")
    page.locator('[data-testid="stAlert"]', has_text="must be between 0 and 7,200").first.wait_for()
    run_area = page.locator('[data-testid="stAlert"]', has_text="Run is disabled")
    run_area.wait_for()
    assert "Staffing › chat › AHT" in run_area.inner_text()
    assert page.get_by_role("button", name="Run", exact=True).is_disabled()
    _shot(page, "9_refused_input")
    _fill(page, "chat: AHT, s (0 = learned)", "0")
    run_area.wait_for(state="detached")
    assert page.get_by_role("button", name="Run", exact=True).is_enabled()
    _no_exception(page)


# ------------------------------------------------------------------ war room (issue 17)
DOCS = ROOT / "docs"


def _doc_shot(page, name: str) -> None:
    """A screenshot for the README: saved in test-artifacts/ and copied to docs/."""
    _shot(page, name)
    DOCS.mkdir(exist_ok=True)
    (DOCS / f"{name}.png").write_bytes((ARTIFACTS / f"{name}.png").read_bytes())


def _pick(page, label: str, option: str) -> None:
    """Choose ``option`` in the select box or multiselect labelled ``label``."""
    # A click that lands while a rerun redraws the box can open a list that closes again
    # at once (seen on a busy machine): open it again, at most three times.
    option_row = page.get_by_role("option", name=option, exact=True).first
    for _ in range(3):
        _settle(page)
        page.get_by_role("combobox", name=label, exact=True).first.click()
        try:
            option_row.wait_for(timeout=10_000)
            break
        except playwright_api.TimeoutError:
            page.keyboard.press("Escape")
    else:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "failed_pick.png"), full_page=True)
        raise AssertionError(f"{option!r} never showed in the list {label!r}")
    option_row.click()
    page.keyboard.press("Escape")
    _settle(page)


def _pick_more(page, label: str, option: str) -> None:
    """Add ``option`` to the multiselect labelled ``label`` and wait until it shows as
    chosen: a click that lands while the previous pick's rerun redraws the list can be lost
    on a busy machine, so pick again (at most three times) until the tag is there."""
    box = page.locator('[data-testid="stMultiSelect"]', has_text=label).first
    tag = box.locator('[data-testid="stMultiSelectTagsContainer"]').get_by_text(
        option, exact=True)
    for _ in range(3):
        _settle(page)
        if tag.count():
            return
        _pick(page, label, option)
        try:
            tag.first.wait_for(timeout=10_000)
        except playwright_api.TimeoutError:
            continue
    tag.first.wait_for(timeout=1_000)


def _open_saved(page) -> None:
    """Open the saved-scenarios expander unless it is open."""
    if not page.get_by_label("New name", exact=True).is_visible():
        page.get_by_text("Saved scenarios: rename, delete, restore, notes").click()
    page.get_by_label("New name", exact=True).wait_for()


def _run_and_save(page, name: str, rate: str) -> None:
    _fill(page, "Scenario name", name)
    page.get_by_role("tab", name="Demand").click()
    _fill(page, "Contact rate Nov, % per order (0 = learned)", rate)
    page.get_by_role("button", name="Run and save").click()
    _settle(page)
    page.locator('[data-testid="stAlert"]', has_text=f"{name}").filter(
        has_text="as version").wait_for(timeout=RUN_TIMEOUT_MS)
    _no_exception(page)


def test_war_room_compares_saved_reports_and_manages_them(page, tmp_path):
    _goto(page, "Scenarios", "Scenarios - war room")
    page.get_by_role("tab", name="Horizon and forecast").click()
    _fill(page, "Days to plan", "3")
    _set_date(page, "Plan from", "2024", "11", "28")
    _fill(page, "Note for the saved version", "low note")
    _run_and_save(page, "war_low_cr", "4.2")
    # the note belonged to that version: the box is empty in the browser too (a box whose
    # state was only removed sent its old text back with the next save)
    assert page.get_by_label("Note for the saved version", exact=True).input_value() == ""
    _run_and_save(page, "war_high_cr", "6.9")
    assert page.get_by_label("Note for the saved version", exact=True).input_value() == ""

    # compare the two *saved* versions: clear the session's runs, pick the saved ones
    compare = page.locator('[data-testid="stMultiSelect"]', has_text="Scenarios").first
    compare.get_by_role("button", name="Clear all").click()
    compare.locator('[data-testid="stMultiSelectTagsContainer"]').get_by_text(
        "war_low_cr", exact=True).wait_for(state="detached")
    _settle(page)
    _pick_more(page, "Scenarios", "war_low_cr (saved v1)")
    _pick_more(page, "Scenarios", "war_high_cr (saved v1)")
    # loading two saved results and comparing them is a run: give it a run's time
    page.get_by_text("war_low_cr (saved v1) (baseline)").wait_for(timeout=RUN_TIMEOUT_MS)
    page.locator('[data-testid="stMetric"]', has_text="Average FTE").nth(1).wait_for(
        timeout=RUN_TIMEOUT_MS)  # the second card: the second pick's run has finished
    _settle(page)

    # what differs: the November contact rate, in words, before the KPI cards
    differs = page.locator('[data-testid="stTable"]').first
    differs.locator("tbody tr").first.wait_for()
    rows = differs.locator("tbody tr").all_inner_texts()
    assert len(rows) == 1, rows
    assert all(w in rows[0] for w in ("war_high_cr (saved v1)", "Contact rate",
                                      "Nov 4.2%", "Nov 6.9%")), rows
    table_top = differs.bounding_box()["y"]
    card_top = page.locator('[data-testid="stMetric"]', has_text="Average FTE").first \
        .bounding_box()["y"]
    assert table_top < card_top
    avg = [_metric_value(page, "Average FTE", i) for i in range(2)]
    cost = [_metric_value(page, "Cost", i) for i in range(2)]
    assert _charts_drawn(page, 5) >= 5
    _doc_shot(page, "app_compare")

    # the peak report: the names and the figures of the cards, as text in the page
    with page.expect_download() as info:
        page.get_by_role("button", name="Peak report (printable page)").click()
    report = tmp_path / "peak_report.html"
    info.value.save_as(report)
    viewer = page.context.new_page()
    viewer.goto(report.as_uri())
    text = viewer.inner_text("body")
    for word in ("war_low_cr (saved v1)", "war_high_cr (saved v1)", "What differs",
                 "FTE by week", "Service level by day: chat", *avg, *cost):
        assert word in text, word
    assert viewer.locator("svg.chart").count() >= 4  # demand, FTE, chat and voice SL
    viewer.set_viewport_size({"width": 1150, "height": 1000})
    viewer.screenshot(path=str(ARTIFACTS / "app_report.png"), full_page=True)
    (DOCS / "app_report.png").write_bytes((ARTIFACTS / "app_report.png").read_bytes())
    viewer.close()

    # rename, delete and restore a saved scenario
    _open_saved(page)
    _pick(page, "Scenario", "war_high_cr")
    _fill(page, "New name", "war_high_cr_nov")
    page.get_by_role("button", name="Rename").click()
    _settle(page)
    page.locator('[data-testid="stAlert"]', has_text="Renamed war").wait_for()
    _open_saved(page)
    _pick(page, "Scenario", "war_high_cr_nov")
    page.get_by_role("button", name="Delete").click()
    _settle(page)
    page.locator('[data-testid="stAlert"]', has_text="restore it below").wait_for()
    _open_saved(page)
    page.get_by_role("button", name="Restore").click()
    _settle(page)
    page.locator('[data-testid="stAlert"]', has_text="Restored war").wait_for()
    _no_exception(page)
    _doc_shot(page, "app_saved")
