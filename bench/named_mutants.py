"""The two mutants a review once found the suite blind to: does it fail on them now, and in which tests?

    python bench/named_mutants.py [--out BENCHMARKS.md]

Each mutant is one edit in a scratch copy of the repository (mffcnn/ and tests/): `optimizer.step()` deleted
from the training loop (nothing trains), and the standard-deviation division removed from the face
normalisation (faces reach the network unscaled). The test files that should see each one run against the
copy; the section lists every test that failed. A mutant no test fails on is reported as a survivor and the
script exits 1. bench/mutation.py measures the score over every mutant mutmut makes; this is the quick check
of the two the issue names.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from markdown import write_section  # noqa: E402
from pytest_run import run_pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# name → (file, the line as it is, the line as the mutant has it, the test files to run)
MUTANTS = {
    "optimizer.step() deleted": (
        "mffcnn/train/loop.py",
        "optimizer.step()",
        "pass  # mutant: optimizer.step() deleted",
        ["tests/test_learning.py", "tests/test_training.py", "tests/test_distributed.py"],
    ),
    "std division removed": (
        "mffcnn/data/preprocess.py",
        "return (x - mean) / (std + 1e-3)",
        "return x - mean  # mutant: no std division",
        ["tests/test_pinned.py", "tests/test_data.py", "tests/test_predict.py"],
    ),
}


def run_mutant(name: str, file: str, old: str, new: str, tests: list[str]) -> list[str]:
    """The tests that fail with the mutant in place (in a scratch copy of the repository)."""
    with tempfile.TemporaryDirectory(prefix="mffcnn-mutant-") as tmp:
        for part in ("mffcnn", "tests", "bench", "pyproject.toml"):
            src = ROOT / part
            (shutil.copytree if src.is_dir() else shutil.copy)(src, Path(tmp) / part)
        target = Path(tmp) / file
        text = target.read_text()
        if text.count(old) != 1:
            raise SystemExit(f"{name}: {old!r} is not exactly once in {file}; update MUTANTS")
        target.write_text(text.replace(old, new))
        env = {**os.environ, "PYTHONPATH": tmp}
        return run_pytest("-n", "0", "-q", "-rf", *tests, "-k", "not killed", cwd=Path(tmp), env=env).failed_tests()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()
    lines = ["| mutant | where | test files run | tests that fail |", "|---|---|---|---|"]
    survivors = []
    for name, (file, old, new, tests) in MUTANTS.items():
        failed = run_mutant(name, file, old, new, tests)
        if not failed:
            survivors.append(name)
        shown = "<br>".join(f"`{t}`" for t in failed) or "**none: the mutant survives**"
        lines.append(f"| {name} | `{file}` | {', '.join(tests)} | {shown} |")
        print(lines[-1], flush=True)
    write_section(args.out, "named_mutants", "The two named mutants", lines)
    sys.exit(1 if survivors else 0)


if __name__ == "__main__":
    main()
