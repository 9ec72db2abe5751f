"""Run every benchmark in bench/ one after the other and say which met its budget.

    .venv/bin/python -m bench.run_all [--quick]

Each benchmark runs as its own process (`python -m bench.<name>`), prints its own table, and exits
0 when its SPEC §13 budget is met. --quick shortens the runs (a smoke test, not figures to record).
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys

# (module, normal arguments, quick arguments)
BENCHMARKS: list[tuple[str, list[str], list[str]]] = [
    ("bench.availability", [], ["--runs", "200", "--repeats", "1"]),
    ("bench.teams", [], ["--runs", "20", "--repeats", "1"]),
    ("bench.slots_breakdown", [], ["--requests", "200"]),
    ("bench.http_slots", [], ["--seconds", "3", "--repeats", "1"]),
    ("bench.widget_load", [], ["--runs", "3"]),
    ("bench.bookings", [], ["--requests", "300", "--repeat", "1"]),
    ("bench.funnel", [], ["--events", "50000", "--repeat", "3"]),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    outcomes: list[tuple[str, int]] = []
    for module, normal, quick in BENCHMARKS:
        if importlib.util.find_spec(module) is None:
            continue
        print(f"\n=== {module} ===", flush=True)
        done = subprocess.run([sys.executable, "-m", module, *(quick if args.quick else normal)], check=False)
        outcomes.append((module, done.returncode))
    print("\n| benchmark | exit code (0 = budget met) |\n|---|---|")
    for module, code in outcomes:
        print(f"| {module} | {code} |")
    return 0 if all(code == 0 for _, code in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
