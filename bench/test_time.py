"""How long the test suite takes: the whole of `python -m pytest` (what `make test` runs after its checks).

    python bench/test_time.py [--slowest 10] [--out BENCHMARKS.md]

Runs the suite once in a fresh process and writes its wall time, pytest's own summary line, the load average
before and after (other jobs on the same cores make every test slower) and the slowest tests to the
`test_time` section of BENCHMARKS.md. Exits non-zero if a test failed.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from markdown import write_section  # noqa: E402
from pytest_run import run_pytest  # noqa: E402

DURATION = re.compile(r"^([\d.]+)s (call|setup|teardown)\s+(\S+)$")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--slowest", type=int, default=10, help="how many of the slowest tests to list")
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()

    load_before = os.getloadavg()[0]
    run = run_pytest(f"--durations={args.slowest}")
    wall = run.seconds
    load_after = os.getloadavg()[0]
    slowest = [m.groups() for line in run.proc.stdout.splitlines() if (m := DURATION.match(line.strip()))]
    write_section(
        args.out,
        "test_time",
        "Test suite time",
        [
            f"**{wall / 60:.1f} min** ({wall:.0f} s) for the whole suite in one process; pytest: "
            f"{run.summary}. Load average {load_before:.1f} before, "
            f"{load_after:.1f} after ({os.cpu_count()} cores: above that, other jobs were running and every time is "
            "an upper bound).",
            "",
            "| test | phase | seconds |",
            "|---|---|---:|",
            *(f"| `{name}` | {phase} | {float(s):.1f} |" for s, phase, name in slowest),
        ],
    )
    run.exit_if_failed()


if __name__ == "__main__":
    main()
