"""Benchmark: 13-week, 30-minute, 3-channel peak plan from the bundled sample data.

Volume: the sample's contacts of 2024-10-01 .. 2024-12-30 (13 weeks) per channel and
half-hour, as if they were the forecast. Requirements: voice Erlang A 80/20 with 180 s
patience, chat 80/30 with 2 chats per agent, email within 24 h; shrinkage 30% (35% in
December). Shifts: 8 h (30-min unpaid break 2-5 h in) and 12 h (1-h unpaid break 4-7 h
in) on a 30-minute grid, chat and voice open 08:00-22:00, email 24 h.

Prints solve time (wall and CPU: CP-SAT stops on a deterministic work limit, so the plan
is the same on a busy machine, only slower), total paid hours, the LP lower bound, the gap
to it and the plan's quality in words, over-staffing (scheduled agent-hours above the
requirement, which includes the shape of shifts), uncovered intervals, the plan's achieved
KPIs and 5/2 weekly headcount; then a capped run (80% of each channel's uncapped
busiest-day headcount) with its paid hours and their lower bound, a week solved twice with
a work limit too small for CP-SAT (the rounded plans are kept: same plan twice, no error),
and the same plan with 4, 6 and 8 h shifts (the scenario default).

Run: ``.venv/bin/python bench/bench_shifts.py``
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from forecast.data import load_contacts, sample_paths  # noqa: E402
from staffing.kpis import achieved_kpis, daily_kpis  # noqa: E402
from staffing.policy import ChannelPolicy, Shrinkage  # noqa: E402
from staffing.requirements import compute_requirements  # noqa: E402
from staffing.roster import weekly_roster  # noqa: E402
from staffing.shift_rules import ShiftType  # noqa: E402
from staffing.shifts import ShiftRules, solve_shifts  # noqa: E402


def _chat_model() -> str:
    try:
        import staffing.chat  # noqa: F401
    except ImportError:  # chat module not present: staff chat as an Erlang C queue
        return "erlang_c"
    return "chat"


def main() -> None:
    contacts = load_contacts(sample_paths().contacts)
    q = contacts[(contacts["ds"] >= "2024-10-01") & (contacts["ds"] < "2024-12-31")]
    vol = q.rename(columns={"contacts": "volume"})[["channel", "ds", "volume", "aht_s"]]
    shrink = Shrinkage.monthly({12: 0.35}, default=0.30)
    chat_model = _chat_model()
    policies = [
        ChannelPolicy("voice", "erlang_a", 0.8, 20, patience_s=180, shrinkage=shrink,
                      open_hours=("08:00", "22:00")),
        ChannelPolicy("chat", chat_model, 0.8, 30, concurrency=2 if chat_model == "chat" else 1,
                      shrinkage=shrink, open_hours=("08:00", "22:00")),
        ChannelPolicy("email", "deferred", response_target_s=24 * 3600, shrinkage=shrink),
    ]
    t0 = time.perf_counter()
    req = compute_requirements(vol, policies, 1800)
    t_req = time.perf_counter() - t0
    rules = ShiftRules()
    t0, c0 = time.perf_counter(), time.process_time()
    plan = solve_shifts(req, rules, policies=policies)
    t_plan, c_plan = time.perf_counter() - t0, time.process_time() - c0
    cov = plan.coverage
    days = req["ds"].dt.normalize().nunique()
    print(f"horizon: {days} days x {req['channel'].nunique()} channels x 30 min, "
          f"{len(req)} intervals, chat model {chat_model}")
    print(f"requirements: {t_req:.2f} s")
    print(f"shift plan:   {t_plan:.2f} s, CPU {c_plan:.2f} s ({plan.days.shape[0]} "
          f"day-channel blocks, {(plan.days['source'] == 'CP-SAT').sum()} searched by CP-SAT)")
    print(f"paid hours {plan.paid_hours:,.1f}; LP lower bound {plan.lower_bound:,.1f}; "
          f"gap {100 * plan.gap:.3f}%: {plan.quality}")
    print(f"over-staffing {100 * plan.overstaffing:.1f}% of required agent-hours; "
          f"uncovered intervals {(cov['short'] > 1e-9).sum()}")
    by = cov.groupby("channel")[["required", "scheduled"]].sum()
    print("over-staffing by channel: " + ", ".join(
        f"{ch} {100 * (r.scheduled / r.required - 1):.1f}%" for ch, r in by.iterrows()
    ))
    t0 = time.perf_counter()
    kpis = achieved_kpis(vol, cov[["channel", "ds", "scheduled"]], policies, 1800)
    daily = daily_kpis(kpis, plan.shift_plan)
    t_kpi = time.perf_counter() - t0
    worst = daily.dropna(subset=["service_level"]).groupby("channel")["service_level"].min()
    print(f"achieved KPIs of the plan: {t_kpi:.2f} s; worst day SL: " + ", ".join(
        f"{ch} {100 * v:.1f}%" for ch, v in worst.items()
    ))
    roster = weekly_roster(plan.shift_plan)
    peak = roster.headcount.groupby("week_start")["headcount"].sum()
    print(f"5/2 roster: peak week headcount {int(peak.max())} "
          f"(Baker bound {int(roster.headcount.groupby('week_start')['lower_bound'].sum().max())})")
    # capped: at most 80% of each channel's uncapped busiest-day headcount per day
    heads = plan.shift_plan.groupby(["channel", "date"])["agents"].sum().groupby("channel").max()
    cap = {ch: int(0.8 * h) for ch, h in heads.items()}
    t0, c0 = time.perf_counter(), time.process_time()
    capped = solve_shifts(req, rules, headcount_cap=cap, policies=policies)
    t_cap, c_cap = time.perf_counter() - t0, time.process_time() - c0
    short = capped.coverage[capped.coverage["short"] > 1e-9]
    print(f"capped {cap}: {t_cap:.2f} s, CPU {c_cap:.2f} s, short "
          f"{capped.short_agent_hours:,.1f} agent-hours in {len(short)} intervals on "
          f"{short['ds'].dt.normalize().nunique()} days; paid hours "
          f"{capped.paid_hours:,.1f} (lower bound {capped.paid_hours_bound:,.1f}); "
          f"{capped.quality} (cost with the understaffing penalty)")
    # a work limit too small for CP-SAT on the peak week: the rounded plans are kept
    week = req[(req["ds"] >= "2024-11-25") & (req["ds"] < "2024-12-02")]
    tiny = ShiftRules(work_limit=0.02)
    runs = [solve_shifts(week, tiny, headcount_cap=cap, policies=policies) for _ in range(2)]
    same = runs[0].shift_plan.equals(runs[1].shift_plan)
    print(f"peak week, work limit 0.02, twice: identical plans {same}; "
          f"{runs[0].quality}; blocks kept from the rounded LP "
          f"{(runs[0].days['source'] == 'rounded LP').sum()} of {len(runs[0].days)}")
    # shorter shifts: chat's two daily peaks (late morning, evening) with a trough at
    # 16:00 leave 8 h and 12 h shifts idle in between; the scenario default is 4/6/8 h
    h = 3600
    short_rules = ShiftRules(shift_types=(
        ShiftType("4h", 4 * h), ShiftType("6h", 6 * h, 1800, False, (2 * h, 4 * h)),
        ShiftType("8h", 8 * h, 1800, False, (2 * h, 5 * h))))
    t0 = time.perf_counter()
    alt = solve_shifts(req, short_rules, policies=policies)
    t_alt = time.perf_counter() - t0
    by_alt = alt.coverage.groupby("channel")[["required", "scheduled"]].sum()
    print(f"with 4/6/8 h shifts (the scenario default): {t_alt:.2f} s, paid hours "
          f"{alt.paid_hours:,.1f} ({100 * (alt.paid_hours / plan.paid_hours - 1):+.1f}%), "
          "over-staffing " + ", ".join(
              f"{ch} {100 * (r.scheduled / r.required - 1):.1f}%" for ch, r in by_alt.iterrows()))


if __name__ == "__main__":
    main()
