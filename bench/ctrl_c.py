"""Ctrl-C in the first seconds of `mffcnn predict`, many times: how each run ended.

    python bench/ctrl_c.py [--runs 60] [--from 1.6] [--to 2.8] [--seed 0] [--input PHOTO] [--out BENCHMARKS.md]

tests/test_nothing_lost.py sends SIGINT four times, at fixed moments; a fault that shows once in 40 runs passes
it most days. This script runs `python -m mffcnn predict PHOTO -q` (the sample photo by default) `--runs` times and
sends SIGINT after a delay drawn uniformly from [--from, --to] seconds (seeded), the span in which, on this
project's 2-core machine, the model loads and the detector runs. Each run ends one of these ways:

- *130, one line*: main's answer ("mffcnn: interrupted", with "the results so far are written, marked partial"
  when predict had started);
- *finished*: exit 0, the signal came after the work was done but before Python stopped;
- *killed by SIGINT after main*: exit -2 with nothing on stderr, the signal landed after main had returned;
- *aborted*: exit -6 (SIGABRT), a crash, e.g. from C++ code in a thread at exit;
- *hung*: not ended 30 s after the signal (then killed with SIGABRT, so that PYTHONFAULTHANDLER prints where
  each thread was; the first such dump is written under the table);
- *other*: anything else (a traceback, another exit code), with its stderr's last line.

The delays are wall time, so where in start-up they land depends on the machine and its load: compare runs of
one machine and state.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from markdown import write_section  # noqa: E402

from mffcnn.predict import SAMPLE_IMAGE  # noqa: E402

HANG_S = 30


def one_run(photo: Path, out: Path, delay: float) -> tuple[str, str]:
    """(how it ended, its stderr) of one predict run sent SIGINT after `delay` s."""
    p = subprocess.Popen(
        [sys.executable, "-m", "mffcnn", "predict", str(photo), "-o", str(out), "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONFAULTHANDLER": "1"},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # not ignored under a background job
    )
    time.sleep(delay)
    p.send_signal(signal.SIGINT)
    try:
        _, err = p.communicate(timeout=HANG_S)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGABRT)
        _, err = p.communicate()
        return "hung", err
    lines = err.strip().splitlines()
    one_line = len(lines) <= 1 and all(line.startswith("mffcnn: interrupted") for line in lines)
    if p.returncode == 130 and one_line and lines:
        return "130, one line", err
    if p.returncode == 0 and not lines:
        return "finished", err
    if p.returncode == -signal.SIGINT and not lines:
        return "killed by SIGINT after main", err
    if p.returncode == -signal.SIGABRT:
        return "aborted", err
    return f"other (exit {p.returncode}: {lines[-1][:80] if lines else 'no stderr'})", err


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=60)
    ap.add_argument("--from", dest="lo", type=float, default=1.6, help="earliest SIGINT, s after the start")
    ap.add_argument("--to", dest="hi", type=float, default=2.8, help="latest SIGINT, s after the start")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--input", type=Path, default=SAMPLE_IMAGE, help="the photo predict reads")
    ap.add_argument("--section", default="ctrl_c")
    ap.add_argument("--title", default="Ctrl-C in the first seconds of predict")
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()

    draw = random.Random(args.seed)
    ends: Counter = Counter()
    first_dump = {}
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            delay = draw.uniform(args.lo, args.hi)
            end, err = one_run(args.input, Path(tmp) / f"o{i}", delay)
            ends[end] += 1
            print(f"{i + 1}/{args.runs}: SIGINT at {delay:.2f} s: {end}", flush=True)
            kind = end.partition(" (")[0]
            if kind in ("hung", "aborted", "other") and kind not in first_dump:
                first_dump[kind] = (delay, err)
    load = os.getloadavg()[0]
    lines = [
        f"{args.runs} runs of `python -m mffcnn predict {args.input.name} -q` (OMP_NUM_THREADS=1), each sent SIGINT "
        f"after a delay drawn uniformly from {args.lo}–{args.hi} s (seed {args.seed}). Load average at the end "
        f"{load:.1f}; {time.time() - started:.0f} s in all.",
        "",
        "| how the run ended | runs |",
        "|---|---:|",
        *(f"| {end} | {n} |" for end, n in ends.most_common()),
    ]
    for end, (delay, err) in first_dump.items():
        tail = [line for line in err.strip().splitlines() if not line.startswith("Extension modules")][-12:]
        how = {"hung": "hung", "aborted": "aborted", "other": "ended otherwise"}[end]
        lines += ["", f"The first run that {how} (SIGINT at {delay:.2f} s), the end of its stderr:", "", "```"]
        lines += [*tail, "```"]
    write_section(args.out, args.section, args.title, lines)
    sys.exit(1 if set(first_dump) else 0)


if __name__ == "__main__":
    main()
