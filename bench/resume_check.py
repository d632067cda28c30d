"""Resume equals uninterrupted, on real data: a CK+48 cross-validation killed mid-fold and resumed.

    python bench/resume_check.py --data ../shared/data/ckplus48 [--kill-after 3] [--out BENCHMARKS.md]

1. The reference: `mffcnn cv ckplus48 DATA --protocol subject` with the default recipe and seed 0,
   reused from bench/ckplus_cv.py's run folder when it is there (same options), run otherwise.
2. The same command as a separate process, killed with SIGKILL once --kill-after folds are finished
   and the next fold has saved at least one epoch of its state (so it dies mid-fold, as a crash would).
3. `mffcnn cv --resume RUN` finishes it: finished folds are read back, the fold in progress continues
   from its last saved epoch.
The fold accuracies of 3 must equal those of 1; the script writes both to BENCHMARKS.md and exits
non-zero if they differ.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cv_table import CvBench  # noqa: E402
from markdown import write_section  # noqa: E402

from mffcnn.train.recipes import DEFAULT_RECIPE  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="the CK+48 folder")
    ap.add_argument("--kill-after", type=int, default=3, help="finished folds before the kill")
    ap.add_argument("--project", default="runs/bench")
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()

    bench = CvBench("ckplus48", args.data, argparse.Namespace(project=args.project, seed=0, reuse=True), verbose=False)
    ref_dir, ref, _ = bench.run(DEFAULT_RECIPE, "subject", f"ckplus48-{DEFAULT_RECIPE}-subject")
    run = Path(args.project) / "cv" / "resume-check"
    shutil.rmtree(run, ignore_errors=True)
    cmd = [
        sys.executable,
        "-m",
        "mffcnn",
        "cv",
        "ckplus48",
        args.data,
        "--project",
        args.project,
        *"--protocol subject --name resume-check -q".split(),
    ]
    env = {**os.environ, "MFFCNN_NO_CACHE": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    folds = run / "subject" / "folds"
    in_progress = folds / f"fold_{args.kill_after + 1:02d}.state.pt"
    while proc.poll() is None and not in_progress.exists():
        time.sleep(0.05)
    if proc.poll() is not None:
        sys.exit(f"the run ended (exit {proc.returncode}) before it could be killed mid-fold")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = sorted(p.name for p in folds.glob("fold_*.json"))
    start = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-m", "mffcnn", "cv", "--resume", str(run), "-q"], env=env, capture_output=True, text=True
    )
    if res.returncode != 0:
        sys.exit(f"resume failed:\n{res.stderr[-3000:]}")
    resumed = json.loads((run / "subject" / "results.json").read_text())
    a = [f["accuracy"] for f in ref["folds"]]
    b = [f["accuracy"] for f in resumed["folds"]]
    same = a == b
    write_section(
        args.out,
        "resume",
        "Resume equals uninterrupted",
        [
            "CK+48, subject-independent 10-fold, "
            f"recipe `{DEFAULT_RECIPE}`, seed 0. The run was killed (SIGKILL) with {len(finished)} folds finished "
            f"and fold {args.kill_after + 1} in progress, then `mffcnn cv --resume` finished it "
            f"({time.perf_counter() - start:.0f} s).",
            "",
            "| | " + " | ".join(str(i + 1) for i in range(len(a))) + " | mean |",
            "|---|" + "---:|" * (len(a) + 1),
            f"| uninterrupted (`{ref_dir}`) | "
            + " | ".join(f"{100 * v:.2f}" for v in a)
            + f" | {100 * ref['mean_accuracy']:.2f} |",
            f"| killed and resumed (`{run}`) | "
            + " | ".join(f"{100 * v:.2f}" for v in b)
            + f" | {100 * resumed['mean_accuracy']:.2f} |",
            "",
            f"**{'Identical' if same else 'DIFFERENT'}** fold accuracies.",
            "",
        ],
    )
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
