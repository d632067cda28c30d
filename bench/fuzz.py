"""How many fuzz cases the property-based tests run, and that none crashed.

    python bench/fuzz.py [--examples 1000] [--out BENCHMARKS.md]

Runs tests/test_fuzz_images.py (image decoding and cropping) and tests/test_fuzz_predict.py (the
predict path with the bundled model) with hypothesis at --examples cases per test (the test suite
itself runs 150 and 40), and writes each test's passing / failing / invalid counts, as hypothesis
reports them, to BENCHMARKS.md. Exits non-zero if any case failed.
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

FILES = ["tests/test_fuzz_images.py", "tests/test_fuzz_predict.py"]
# --hypothesis-show-statistics prints "tests/x.py::test_y:", then "- 150 passing, 0 failing, and 2 invalid test cases"
TEST = re.compile(r"^(tests/\S+::\S+):$")
COUNTS = re.compile(r"(\d+) passing, (\d+) failing, and (\d+) invalid")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", type=int, default=1000, help="cases per test")
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()

    env = {**os.environ, "MFFCNN_FUZZ_EXAMPLES": str(args.examples), "HYPOTHESIS_PROFILE": "explore"}
    # One process (-n 0): hypothesis prints its statistics only where the tests run, not from xdist workers.
    run = run_pytest("-n", "0", *FILES, "--hypothesis-show-statistics", env=env)
    p, wall = run.proc, run.seconds
    rows, test = [], None
    for line in p.stdout.splitlines():
        if m := TEST.match(line.strip()):
            test = m.group(1)
        elif test and (m := COUNTS.search(line)):
            rows.append((test, *map(int, m.groups())))
            test = None
    if not rows:
        sys.exit(f"no hypothesis statistics in the pytest output:\n{p.stdout[-3000:]}{p.stderr[-2000:]}")
    write_section(
        args.out,
        "fuzz",
        "Fuzzing",
        [
            f"Wall time {wall / 60:.1f} min. pytest: {run.summary}.",
            "",
            "| property-based test | passing | failing | invalid (filtered by hypothesis) |",
            "|---|---:|---:|---:|",
            *(f"| `{t}` | {a} | {b} | {c} |" for t, a, b, c in rows),
            f"| **all** | **{sum(r[1] for r in rows)}** | **{sum(r[2] for r in rows)}** | {sum(r[3] for r in rows)} |",
            "",
            "A failing case is a crash (an exception other than the package's clear ImageError / MffcnnError), a",
            "wrong count or a result without a status; a hang would stop the run.",
            "",
        ],
    )
    run.exit_if_failed()


if __name__ == "__main__":
    main()
