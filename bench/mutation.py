"""Mutation testing: does the test suite fail when the code that trains and predicts is broken on purpose?

    python bench/mutation.py [--max-children 2] [--out BENCHMARKS.md]

mutmut (configured in pyproject.toml, [tool.mutmut]) copies mffcnn into mutants/, makes one small change at a
time (an operator flipped, a constant moved, an argument dropped) in the modules that must not break silently —
model/, train/, data/preprocess.py, data/face.py and the predict pipeline — and runs the tests that reach the
changed function (the fast test files named there). A mutant the tests fail on is killed; one they pass is a
survivor: a change the suite cannot see. Takes hours on 2 cores; not part of CI.

Writes the kill rate per module and every survivor (its name; `mutmut show NAME` prints its diff) to its section
of BENCHMARKS.md. With --reuse the results of the last run in mutants/ are read instead of running again.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from markdown import write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODULES = {  # the report's rows: a name → how the mutants' module names start
    "model/": "mffcnn.model.",
    "train/": "mffcnn.train.",
    "data/preprocess.py": "mffcnn.data.preprocess.",
    "data/face.py": "mffcnn.data.face.",
    "predict/pipeline.py": "mffcnn.predict.pipeline.",
}
KILLED, SURVIVED = {1, 3, -11, -9, 36, 152}, {0}  # exit codes: tests failed (or crashed, timed out) / passed


def outcomes(mutants: Path) -> dict[str, int]:
    """Every mutant's test exit code, from mutmut's .meta files."""
    codes = {}
    for meta in mutants.rglob("*.meta"):
        codes.update(json.loads(meta.read_text())["exit_code_by_key"])
    return codes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--max-children", type=int, default=2, help="mutants tested at once")
    ap.add_argument("--reuse", action="store_true", help="report the last run in mutants/ without running again")
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()

    if not args.reuse:
        subprocess.run(
            [sys.executable, "-m", "mutmut", "run", "--max-children", str(args.max_children)], cwd=ROOT, check=True
        )
    codes = outcomes(ROOT / "mutants")
    if not codes:
        raise SystemExit("no mutants found under mutants/: run without --reuse first")
    counts: dict[str, Counter] = defaultdict(Counter)
    survivors: dict[str, list[str]] = defaultdict(list)
    for name, code in sorted(codes.items()):
        module = next((m for m, prefix in MODULES.items() if name.startswith(prefix)), "other")
        if code is None:
            counts[module]["not tested"] += 1
        elif code in SURVIVED:
            counts[module]["survived"] += 1
            survivors[module].append(name)
        else:
            counts[module]["killed"] += 1
    rows = []
    for module in [*MODULES, "other"]:
        c = counts.get(module)
        if not c:
            continue
        tested = c["killed"] + c["survived"]
        rows.append(
            f"| {module} | {tested} | {c['killed']} | {c['survived']} | {c['not tested']} | "
            f"**{100 * c['killed'] / max(tested, 1):.1f} %** |"
        )
    total = sum(c["killed"] for c in counts.values()), sum(c["survived"] for c in counts.values())
    rows.append(
        f"| **all** | {sum(total)} | {total[0]} | {total[1]} | "
        f"{sum(c['not tested'] for c in counts.values())} | **{100 * total[0] / max(sum(total), 1):.1f} %** |"
    )
    listing = [
        f"- {module}: " + ", ".join(f"`{n.split('.')[-1]}`" for n in names) for module, names in survivors.items()
    ]
    write_section(
        args.out,
        "mutation",
        "Mutation testing",
        [
            "mutmut 3 (pyproject.toml [tool.mutmut]): each mutant is one small change to the code; the tests that reach "
            "the changed function run against it. Killed: a test failed. The score is killed / (killed + survived).",
            "",
            "| module | mutants tested | killed | survived | not tested | score |",
            "|---|---:|---:|---:|---:|---:|",
            *rows,
            "",
            "Survivors (`mutmut show NAME` prints the change):",
            "",
            *listing,
        ],
    )


if __name__ == "__main__":
    main()
