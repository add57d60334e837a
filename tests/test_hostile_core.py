"""Hostile input to the core: untrusted scenarios, YAML bombs, control characters, huge loads.

Each test here reproduces an input that once read a server file, hung the process, crashed an
export or looped forever; the expected behaviour is a prompt, specific error.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from planner.scenario import (
    MAX_YAML_NODES,
    Scenario,
    ScenarioError,
    check_data_paths,
    load_scenario,
)

ROOT = Path(__file__).resolve().parent.parent


def _billion_laughs(levels: int = 9) -> str:
    """The classic alias bomb: 10 levels of 9 aliases each, 9**10 strings once expanded."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(levels):
        this, prev = chr(98 + i), chr(97 + i)
        lines.append(f"{this}: &{this} [" + ",".join([f"*{prev}"] * 9) + "]")
    lines.append(f"name: *{chr(97 + levels)}")
    return "\n".join(lines) + "\n"


def _run_isolated(code: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter; a hang fails the test through the timeout."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
    )


# ---------------------------------------------------------------- scenario from a browser
def test_untrusted_scenario_cannot_name_a_server_file(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET first line\n")
    for field in ("orders", "contacts", "events"):
        for given in (str(secret), "../" + secret.name, "/dev/zero", "secret.txt"):
            with pytest.raises(ScenarioError) as err:
                Scenario.from_untrusted_yaml(
                    f"name: x\ndata: {{{field}: '{given}'}}\n", "uploaded.yaml",
                    {"orders.csv": str(tmp_path / "up" / "orders.csv")},
                )
            msg = str(err.value)
            assert msg.startswith("uploaded.yaml: data." + field)
            assert "not a file uploaded in this session" in msg
            assert "TOPSECRET" not in msg


def test_untrusted_scenario_may_use_the_sample_and_its_own_uploads(tmp_path):
    up = {"orders.csv": str(tmp_path / "a1" / "orders.csv"),
          "contacts.csv": str(tmp_path / "b2" / "contacts.csv")}
    # Upload names map to the server paths; server paths of uploads pass as they are.
    s = Scenario.from_untrusted_yaml(
        f"name: x\ndata: {{orders: orders.csv, contacts: '{up['contacts.csv']}', events: ''}}\n",
        "uploaded.yaml", up,
    )
    assert (s.data.orders, s.data.contacts, s.data.events) == (
        up["orders.csv"], up["contacts.csv"], "")
    assert Scenario.from_untrusted_yaml("name: x\n", "u").data.orders is None
    # No uploads at all: only the sample.
    with pytest.raises(ScenarioError, match="data.orders"):
        Scenario.from_untrusted_yaml("data: {orders: orders.csv}", "u")


def test_check_data_paths_guards_a_scenario_from_elsewhere(tmp_path):
    saved = Scenario.from_dict({"name": "saved", "data": {"events": "/etc/hostname"}})
    with pytest.raises(ScenarioError, match=r"^store: data.events '/etc/hostname' is not"):
        check_data_paths(saved, {"events.csv": str(tmp_path / "events.csv")}, "store")
    ok = check_data_paths(saved.with_changes({"data.events": "events.csv"}),
                          {"events.csv": str(tmp_path / "events.csv")})
    assert ok.data.events == str(tmp_path / "events.csv")
    assert check_data_paths(Scenario()) == Scenario()


# ---------------------------------------------------------------- YAML bombs
def test_billion_laughs_is_refused_before_it_is_built():
    bomb = _billion_laughs()
    assert len(bomb) < 500
    # In a subprocess: before the fix this took GBs of memory and never returned.
    done = _run_isolated(f"""
        from planner.scenario import Scenario, ScenarioError
        try:
            Scenario.from_yaml({bomb!r}, "bomb.yaml")
        except ScenarioError as exc:
            print("REFUSED", str(exc))
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("REFUSED bomb.yaml: not accepted as a scenario")
    assert f"more than {MAX_YAML_NODES} values" in done.stdout
    assert len(done.stdout) < 300


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("a: &a [*a]\nname: x", "refers to a collection that contains it"),
        ("x: " + "[" * 2000 + "]" * 2000, "nested deeper than"),
        ("x: " + "9" * 5000, "not valid YAML"),
        ("x: " + "a" * 1_000_001, "too large for a scenario"),
    ],
)
def test_hostile_yaml_shapes_raise_scenario_error(text, needle):
    with pytest.raises(ScenarioError, match=needle):
        Scenario.from_yaml(text, "x.yaml")


def test_anchors_within_the_budget_still_work():
    # A scenario with an anchor and a merge key, as people write them by hand.
    text = (
        "channels:\n"
        "  phone: &std {model: erlang_c, shrinkage: 0.25, threshold_s: 15}\n"
        "  callback: {<<: *std, shrinkage: 0.4}\n"
    )
    s = Scenario.from_yaml(text)
    assert s.channels["phone"].shrinkage == 0.25
    assert (s.channels["callback"].shrinkage, s.channels["callback"].threshold_s) == (0.4, 15)


def test_error_for_a_huge_value_is_short():
    text = "name: x\norder_growth: [" + ", ".join(["123456789"] * 5000) + "]\n"
    with pytest.raises(ScenarioError) as err:
        Scenario.from_yaml(text, "big.yaml")
    assert "order_growth" in str(err.value)
    assert len(str(err.value)) < 400


def test_load_scenario_does_not_read_an_endless_file():
    if not Path("/dev/zero").exists():
        pytest.skip("needs /dev/zero")
    done = _run_isolated("""
        from planner.scenario import ScenarioError, load_scenario
        try:
            load_scenario("/dev/zero")
        except ScenarioError as exc:
            print("REFUSED", exc)
    """)
    assert done.returncode == 0, done.stderr
    assert "too large for a scenario" in done.stdout


def test_load_scenario_names_a_file_that_is_not_utf8(tmp_path):
    p = tmp_path / "latin1.yaml"
    p.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ScenarioError, match="not UTF-8 text"):
        load_scenario(p)


# ---------------------------------------------------------------- control characters
@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"name": "peak\x07"}, "name has a control character '\\x07'"),
        ({"name": "peak\x1b[31m"}, "name has a control character"),
        ({"description": "line one\nline\x00two"}, "description has a control character"),
        ({"description": "bad \ud800 surrogate"}, "description has a control character"),
        ({"channels": {"chat\x0b": {"model": "chat", "concurrency": 2}}},
         "channel name 'chat\\x0b' has a control character"),
        ({"channels": {" chat": {}}}, "without leading or trailing spaces"),
    ],
)
def test_control_characters_are_refused_at_validation(fields, needle):
    with pytest.raises(ScenarioError) as err:
        Scenario.from_dict(fields, "s.yaml")
    assert needle in str(err.value)


def test_multiline_description_with_tabs_is_kept():
    s = Scenario.from_dict({"description": "Peak plan\n\tchat first\n"})
    assert s.description == "Peak plan\n\tchat first\n"
