"""How long `make demo` takes, without the install: its two mffcnn commands, timed as they run.

    python bench/demo_time.py [--out BENCHMARKS.md]

The commands are read from the Makefile (DEMO_CV and the demo target), so what is timed is what `make demo`
runs. Wall time depends on what else the machine does; CPU time (user + system of the commands, from
getrusage) much less, so both are written, with the load average at the start and at the end. The demo's
accuracies are written too: the point of a short demo is that it still learns (chance is 1/6).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from markdown import write_section  # noqa: E402


def demo_commands(makefile: Path) -> list[tuple[dict, list[str]]]:
    """The mffcnn commands of the Makefile's demo target (their environment variables, their arguments), with
    $(DEMO_CV) filled in."""
    text = makefile.read_text()
    demo_cv = re.search(r"^DEMO_CV := (.+)$", text, re.M).group(1).strip()
    target = re.search(r"^demo:.*\n((?:\t.*\n)+)", text, re.M).group(1)
    commands = []
    for line in target.splitlines():
        words = shlex.split(line.strip().replace("$(DEMO_CV)", demo_cv))
        env = {}
        while words and "=" in words[0] and not words[0].startswith("$"):
            key, _, value = words.pop(0).partition("=")
            env[key] = value
        if words and words[0] == "$(BIN)/mffcnn":
            commands.append((env, words[1:]))
    return commands


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--project", default="runs/bench-demo", help="where the demo's run folders go (emptied first)")
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()
    project = Path(args.project)
    shutil.rmtree(project, ignore_errors=True)
    rows, load_start = [], os.getloadavg()[0]
    total_wall = total_cpu = 0.0
    for env, argv in demo_commands(HERE.parent / "Makefile"):
        argv = [*argv, "--project", str(project)]
        cpu, start = children_cpu(), time.perf_counter()
        run_env = {**os.environ, **env}
        subprocess.run([sys.executable, "-m", "mffcnn", *argv], check=True, stdout=subprocess.DEVNULL, env=run_env)
        wall, cpu = time.perf_counter() - start, children_cpu() - cpu
        total_wall, total_cpu = total_wall + wall, total_cpu + cpu
        shown = " ".join([*(f"{k}={v}" for k, v in env.items()), "mffcnn", shlex.join(argv[:-2])])
        rows.append(f"| `{shown}` | {wall:.0f} s | {cpu:.0f} s |")
    load_end = os.getloadavg()[0]
    results = [json.loads(p.read_text()) for p in sorted((project / "cv").glob("*/*/results.json"))]
    learnt = ", ".join(f"{r['protocol']} folds {100 * r['mean_accuracy']:.1f} %" for r in results)
    lines = [
        "| command | wall | CPU (user + system) |",
        "|---|---|---|",
        *rows,
        f"| **make demo without the install** | **{total_wall:.0f} s** | **{total_cpu:.0f} s** |",
        "",
        f"Load average (1 min) {load_start:.1f} at the start, {load_end:.1f} at the end: wall times on a busy "
        "machine are longer than on an idle one, CPU times much less so. The demo's cross-validation on synthetic "
        f"faces (chance: 16.7 %): {learnt}.",
    ]
    write_section(args.out, "demo_time", "make demo, timed", lines)


if __name__ == "__main__":
    main()
