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
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from markdown import write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DURATION = re.compile(r"^([\d.]+)s (call|setup|teardown)\s+(\S+)$")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--slowest", type=int, default=10, help="how many of the slowest tests to list")
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()

    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    p = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--durations={args.slowest}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    load_after = os.getloadavg()[0]
    summary = re.findall(r"^=*\s*(\d+ (?:passed|failed).*?)\s*=*$", p.stdout, flags=re.M)
    slowest = [m.groups() for line in p.stdout.splitlines() if (m := DURATION.match(line.strip()))]
    write_section(
        args.out,
        "test_time",
        "Test suite time",
        [
            f"**{wall / 60:.1f} min** ({wall:.0f} s) for the whole suite in one process; pytest: "
            f"{summary[-1] if summary else 'no summary line'}. Load average {load_before:.1f} before, "
            f"{load_after:.1f} after ({os.cpu_count()} cores: above that, other jobs were running and every time is "
            "an upper bound).",
            "",
            "| test | phase | seconds |",
            "|---|---|---:|",
            *(f"| `{name}` | {phase} | {float(s):.1f} |" for s, phase, name in slowest),
        ],
    )
    if p.returncode != 0:
        print(p.stdout[-5000:], p.stderr[-2000:], file=sys.stderr)
        sys.exit(p.returncode)


if __name__ == "__main__":
    main()
