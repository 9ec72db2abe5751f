"""Run every benchmark in bench/ one after the other and say which met its budget.

    .venv/bin/python -m bench.run_all [--quick] [--scale]

Each benchmark runs as its own process (`python -m bench.<name>`), prints its own table, and exits
0 when its SPEC §13 budget is met. --quick shortens the runs (a smoke test, not figures to record).
--scale adds bench.scale, the rows at 1×, 10× and 100× the data (about half an hour, ~8 GB of
database on /dev/shm); with --quick only 1× and 10×.
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
    ("bench.outbox_claim", [], ["--future", "20000", "--claims", "30"]),
    ("bench.scale_out", [], ["--processes", "1,2", "--requests", "200", "--seconds", "2", "--repeat", "1"]),
]
SCALE: tuple[str, list[str], list[str]] = (
    "bench.scale",
    ["--explain"],
    ["--scales", "1,10", "--repeat", "1", "--runs", "20", "--funnel-runs", "1", "--bookings", "300"]
    + ["--booking-repeat", "1", "--http-requests", "50"],
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--scale", action="store_true", help="also bench.scale (1×, 10×, 100× the data)")
    args = parser.parse_args(argv)
    outcomes: list[tuple[str, int]] = []
    for module, normal, quick in [*BENCHMARKS, *([SCALE] if args.scale else [])]:
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
