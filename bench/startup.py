"""Start-up: `mffcnn predict one.jpg` as a whole process, with the bundled model as predict runs it (its ONNX
export, no torch) and from its checkpoint (PyTorch), beside `import torch` alone.

    python bench/startup.py [--repeats 7] [--out BENCHMARKS.md]

bench/speed.py times start-up too, with everything else; this script times only the processes, so that it can
run in a minute. Medians of --repeats runs each, in turns (one of each, then again), so that a change of load
during the run reaches every row alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from markdown import write_section  # noqa: E402

from mffcnn.predict import DEFAULT_MODEL, SAMPLE_IMAGE  # noqa: E402


def time_processes(commands: dict[str, list[str]], repeats: int, env: dict | None = None) -> dict[str, list[float]]:
    """Wall seconds of each command's whole process, `repeats` times, in turns (one of each, then again); a
    command that fails stops the benchmark with its stderr. bench/speed.py times its start-up rows with it too."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, cmd in commands.items():
            t = time.perf_counter()
            p = subprocess.run(cmd, env=env, capture_output=True, text=True)
            times[name].append(time.perf_counter() - t)
            if p.returncode:
                raise SystemExit(f"{name} failed: {p.stderr.strip()[-500:]}")
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        predict = [sys.executable, "-m", "mffcnn", "predict", str(SAMPLE_IMAGE), "-q", "--output"]
        commands = {
            "`python -c 'import torch'`": [sys.executable, "-c", "import torch"],
            "`mffcnn predict one.png` (the bundled model: its ONNX export, no torch)": [*predict, f"{tmp}/a"],
            "`mffcnn predict one.png --model default.safetensors` (PyTorch)": [
                *predict,
                f"{tmp}/b",
                "--model",
                str(DEFAULT_MODEL),
            ],
        }
        load = os.getloadavg()[0]
        times = time_processes(commands, args.repeats)
    lines = [
        f"Whole processes, medians of {args.repeats} runs each, in turns; load average {load:.1f} at the start.",
        "",
        "| process | s (median) | s (fastest) |",
        "|---|---:|---:|",
        *(f"| {name} | {statistics.median(t):.2f} | {min(t):.2f} |" for name, t in times.items()),
    ]
    write_section(args.out, "startup", "Start-up of predict", lines)


if __name__ == "__main__":
    main()
