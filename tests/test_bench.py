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

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
TIMEOUT_S = 120  # a smoke run takes seconds; this only stops a hung one

# The labels of the lines each script prints and the keys of its final JSON line.
FIGURES: dict[str, tuple[list[str], list[str]]] = {
    "broadcast.py": (["(a) engine overhead", "(b) transport limited to 30/s",
                      "(c) SIGKILL after"],
                     ["a_overhead", "b_limited", "c_kill_restart"]),
    "campaigns.py": (["start: check_stored_codes", "counts for each of",
                      "evaluation_rows for one chapter", "decide_remaining for one chapter",
                      "send_results for one chapter"],
                     ["members", "district_counts", "bulk_decided", "results_sent", "ms"]),
    "disclosure.py": (["first_read_releasing_ms", "later_read_ms", "protect_city_ms"],
                      ["households", "first_read_releasing_ms", "protect_city_ms"]),
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
