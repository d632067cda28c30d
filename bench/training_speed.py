"""Training speed on CPU: the CK+48 10-fold × 25-epoch run before and after the speed work, and
under torchrun with 2 processes.

    python bench/training_speed.py --data ../shared/data/ckplus48 [--before cd64ffb] [--out BENCHMARKS.md]

Every run is the same experiment — `mffcnn cv ckplus48 DATA --protocol random --recipe paper`
(the paper's recipe and protocol) — started as a whole process and timed from start to exit:
1. `before`: the first version of mffcnn (git revision --before, checked out in a temporary worktree);
2. `after`: this checkout, one process;
3. `torchrun --nproc_per_node 2`, each batch split over the two processes (DDP, gloo);
4. `torchrun --nproc_per_node 2 --spread folds`, each process training whole folds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from markdown import write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def timed(cmd: list[str], *, code: Path, project: Path) -> tuple[float, dict]:
    env = {**os.environ, "PYTHONPATH": str(code), "MFFCNN_NO_CACHE": "1"}
    start = time.perf_counter()
    p = subprocess.run(cmd + ["--project", str(project), "-q"], env=env, cwd=code, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{p.stderr[-3000:]}")
    results = json.loads(next(project.glob("cv/*/random/results.json")).read_text())
    return seconds, results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="the CK+48 folder")
    ap.add_argument("--before", default="cd64ffb", help="git revision of the 'before' code")
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()
    data = str(Path(args.data).resolve())
    cv = ["cv", "ckplus48", data, "--protocol", "random", "--recipe", "paper"]
    one = [sys.executable, "-m", "mffcnn", *cv]
    two = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "mffcnn", *cv]

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        before = tmp / "before"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(before), args.before], cwd=ROOT, check=True, capture_output=True
        )
        try:
            runs = [
                (f"before (`{args.before}`), 1 process", one, before),
                ("after, 1 process", one, ROOT),
                ("after, torchrun 2 processes, batches split (DDP)", two, ROOT),
                ("after, torchrun 2 processes, `--spread folds`", two + ["--spread", "folds"], ROOT),
            ]
            for i, (name, cmd, code) in enumerate(runs):
                seconds, r = timed(cmd, code=code, project=tmp / f"run{i}")
                rows.append((name, seconds, r))
                print(f"{name}: {seconds:.0f} s, {100 * r['mean_accuracy']:.2f} %", flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(before)], cwd=ROOT, capture_output=True)

    base = rows[0][1]
    write_section(
        args.out,
        "training_speed",
        "Training speed: CK+48, 10 folds × 25 epochs",
        [
            "Each row is the whole process `mffcnn cv ckplus48 DATA --protocol random --recipe paper`, from start to "
            "exit (dataset read without the cache).",
            "",
            "| code and processes | wall time | speed-up | mean accuracy % ± std |",
            "|---|---:|---:|---:|",
            *[
                f"| {name} | {s / 60:.1f} min ({s:.0f} s) | {base / s:.2f}× | {100 * r['mean_accuracy']:.2f} ± "
                f"{100 * r['std_accuracy']:.2f} |"
                for name, s, r in rows
            ],
            "",
            "What changed between before and after: the Patch Branch's CNN runs once on the whole face and its 16 patch "
            "windows are cut from the result (the same numbers, half the convolution work; mffcnn/model/patch_branch.py), "
            "convolutions run in channels_last memory layout, and later the FER+ speed work (bench/ferplus_speed.py). "
            f"{cores_note()} They pay for gradient all-reduce (DDP) or for holding two models and datasets (folds). "
            "Accuracies differ "
            "between rows by floating-point summation order (two processes run one thread each, and oneDNN adds in "
            "another order with another thread count; before/after, also by the changed randomness of batch order).",
        ],
    )


def cores_note() -> str:
    """What torchrun's two processes can gain here, from this machine's cores and one process's threads."""
    import torch

    cores, threads = os.cpu_count() or 1, torch.get_num_threads()
    if threads >= cores:
        return (
            f"This machine has {cores} cores and one process already uses them all ({threads} threads): torchrun's "
            "two processes share the same cores and cannot add compute."
        )
    return f"This machine has {cores} cores and one process uses {threads} threads: two processes can use more."


if __name__ == "__main__":
    main()
