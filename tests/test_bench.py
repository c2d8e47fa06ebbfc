"""Every benchmark under bench/ still runs: each script in its seconds-long `--smoke` mode.

A benchmark that is only run by hand rots (a seed that no longer fits the schema, a renamed
function) and is found broken the day its figures are needed. The scripts run as the README
says, as subprocesses from the repository root, all at once (they are mostly waiting on
SQLite or sleeping in their own rate limiter); the test checks that each exits 0 and prints
its figure lines, never the timings themselves (a shared machine makes those noise).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage import activities, campaigns, consents, members, units
from storage.members import NewMember

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
TIMEOUT_S = 120  # a smoke run takes seconds; this only stops a hung one

# The labels of the lines each script prints and the keys of its final JSON line.
FIGURES: dict[str, tuple[list[str], list[str]]] = {
    "baocao.py": (["/baocao district term", "/baocao district year", "/baocao ward year",
                   "report build district term", ".docx district term"],
                  ["members", "chapters", "figures", "docx_bytes", "ms"]),
    "broadcast.py": (["(a) engine overhead", "(b) transport limited to 30/s",
                      "(c) SIGKILL after"],
                     ["a_overhead", "b_limited", "c_kill_restart"]),
    "campaigns.py": (["start: check_stored_codes", "counts for each of",
                      "evaluation_rows for one chapter", "decide_remaining for one chapter",
                      "send_results for one chapter"],
                     ["members", "district_counts", "bulk_decided", "results_sent", "ms"]),
    "disclosure.py": (["first_read_releasing_ms", "later_read_ms", "protect_city_ms"],
                      ["households", "first_read_releasing_ms", "protect_city_ms"]),
    "meetings.py": (["QR check-in:", "recorded once:"],
                    ["members", "recorded", "second_scans_already", "p50_ms", "p99_ms"]),
    "pacing.py": (["baseline, no broadcast:", "member broadcast runs:", "aims under the broadcast"],
                  ["baseline", "broadcast", "aims_met"]),
    "reminders.py": (["06:30 tick: enqueue the Sunday reminder",
                      "20:00 tick: enqueue the heads' summaries", "/chapter week",
                      "/chapter month"],
                     ["reminder_recipients", "summary_recipients", "ms"]),
    "stats.py": (["/stats district", "/stats ward", "/stats chapter", "/chart district",
                  "export district", "/stats chapter during the export"],
                 ["data", "export_bytes", "ms"]),
    "updates.py": (["/help (registered members)", "bare PTB echo", "registration: whole flow",
                    "/help vs bare echo throughput", "registrations/s"],
                   ["help", "echo", "registration"]),
    "over_http.py": (["hoivien-bot HTTP benchmark", "/help over HTTP vs bare ptb echo"],
                     ["runs", "medians", "ratios"]),
    "zalo.py": (["telegram ", "zalo ", " events "], ["telegram", "zalo"]),
    "requests.py": (["/help (baseline)", "/requests ward, N=", "/requests district, N=",
                     "open one (card + audit), N=", "/stats support figures, N=",
                     "request: the “Gửi” reply", "request: whole flow"],
                    ["members", "sizes", "ms"]),
    "polls.py": (["enqueue: district survey", "results p95: named", "results p95: anonymous",
                  "chart: district survey"], ["members", "answers", "ms"]),
}


def scripts() -> list[str]:
    """The runnable scripts under bench/ (helper modules have no `__main__` block)."""
    return sorted(path.name for path in BENCH.glob("*.py")
                  if 'if __name__ == "__main__":' in path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def runs() -> Iterator[dict[str, subprocess.Popen[str]]]:
    """All smoke runs started together; each test waits for its own."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    started = {name: subprocess.Popen([sys.executable, f"bench/{name}", "--smoke"], cwd=ROOT,
                                      env=env, text=True, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT)
               for name in scripts()}
    yield started
    for process in started.values():
        if process.poll() is None:
            process.kill()
            process.wait()


def test_every_script_is_known() -> None:
    """A new benchmark names its figures here, so its smoke run checks them."""
    assert set(scripts()) == set(FIGURES)


@pytest.mark.parametrize("name", scripts())
def test_smoke(runs: dict[str, subprocess.Popen[str]], name: str) -> None:
    """The script exits 0 and prints its figure lines and a final JSON line with its keys."""
    try:
        output, _ = runs[name].communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        runs[name].kill()
        pytest.fail(f"bench/{name} --smoke did not finish in {TIMEOUT_S} s")
    assert runs[name].returncode == 0, output[-3000:]
    labels, keys = FIGURES.get(name, ([], []))
    missing = [label for label in labels if label not in output]
    assert not missing, f"bench/{name}: no line for {missing}\n{output[-3000:]}"
    figures = json.loads(output.strip().splitlines()[-1])
    assert set(keys) <= set(figures), f"bench/{name}: JSON lacks {set(keys) - set(figures)}"


# --- the bulk writers the benchmarks seed with ---------------------------------------------


async def test_bulk_writers_store_what_the_one_by_one_writers_store(db) -> None:
    """A benchmark measures the data the bot itself would have written, not a look-alike."""
    chapter = await units.by_code(db, "HM-HL-02")
    assert chapter is not None
    at = "2026-01-05T02:00:00Z"
    ids = await members.insert_many(db, [
        NewMember(telegram_user_id=7000 + i, chat_id=7000 + i, full_name=f"Hội viên {i}",
                  phone=None, unit_id=chapter.id, locale="vi") for i in range(3)],
        at=at, consent=("membership", 1))
    found = [await members.by_user(db, 7000 + i) for i in range(3)]
    assert [m.id for m in found if m] == ids, "ids in the order given"
    assert all(m and m.status == "active" and m.created_at == at for m in found)
    assert [c.purpose for c in await consents.of_user(db, 7001)] == ["membership"]

    codes = ["a", "b"]
    households = await campaigns.register_many(
        db, campaigns.FAMILY, year=2026, at=at, rows=[(i, chapter.id) for i in ids])
    again = await campaigns.register_many(
        db, campaigns.FAMILY, year=2026, at=at, rows=[(ids[0], chapter.id)])
    assert again == households[:1], "registering again keeps the registration"
    await campaigns.answer_many(db, [(households[0], "a", True), (households[0], "b", True),
                                     (households[1], "a", True), (households[1], "b", False)],
                                live_codes=codes, at=at)
    met = [(await campaigns.registration(db, campaigns.FAMILY, i, 2026)).meets_all for i in ids]
    assert met == [True, False, False]

    report = activities.NewReport(ids[0], chapter.id, "sunday_environment", "2026-01-04")
    assert await activities.add_many(db, [report, report], at=at) == 1, "one a day, as add_once"
    _stored, created = await activities.add_once(db, report, at=at)
    assert not created
