"""JAFFE 10-fold cross-validation (paper §4.4): the paper's protocol and the subject-independent one.

    python bench/jaffe_cv.py --data ../shared/data/jaffe [--recipes paper,augmented] [--protocols random,subject]
                             [--reuse] [--out BENCHMARKS.md]

`random`: the paper's protocol — the 183 non-neutral photos, each in 8 versions (mirror and
rotations of ±5°, ±10°, ±15°: 1464 images), stratified random 10-fold, 40 epochs. Copies of one
photo fall on both sides of a split. Paper: 96.52 %.
`subject`: leave one subject out — JAFFE has 10 women, so 10 folds hold one woman each; no
photo of a test woman, nor any copy of one, is in training.

Writes mean ± std over folds, per-class accuracy, wall time and machine to its section of
BENCHMARKS.md; run folders (results.json, report.md, confusion.png) stay under --project.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cv_table import RESULT_HEADER, per_class_table, result_row, run_or_reuse  # noqa: E402
from markdown import update_section  # noqa: E402

from mffcnn import paper  # noqa: E402
from mffcnn.runs import machine_info  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="the JAFFE folder")
    ap.add_argument("--recipes", default="paper,augmented")
    ap.add_argument("--protocols", default="random,subject")
    ap.add_argument("--epochs", type=int, help="default: the paper's 40")
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--no-augment", action="store_true", help="the 183 photos without the 8 versions")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--project", default="runs/bench")
    ap.add_argument("--reuse", action="store_true", help="reuse finished runs of the same recipe and seed")
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()

    options = {"augment": not args.no_augment}
    rows, per_class = [], []
    for recipe in args.recipes.split(","):
        for protocol in args.protocols.split(","):
            run_dir, r, wall = run_or_reuse(
                "jaffe",
                args.data,
                recipe=recipe,
                protocol=protocol,
                seed=args.seed,
                project=args.project,
                name=f"jaffe-{recipe}-{protocol}",
                reuse=args.reuse,
                folds=args.folds,
                epochs=args.epochs,
                dataset_options=options,
            )
            rows.append(result_row(recipe, r, wall, run_dir))
            per_class.append((recipe, r))

    m = machine_info()
    cmd = (
        f"python bench/jaffe_cv.py --data {args.data} --recipes {args.recipes} --protocols {args.protocols}"
        + (f" --epochs {args.epochs}" if args.epochs else "")
        + (f" --folds {args.folds}" if args.folds != 10 else "")
        + (" --no-augment" if args.no_augment else "")
    )
    body = "\n".join(
        [
            "## JAFFE 10-fold cross-validation (`python bench/jaffe_cv.py`)",
            "",
            f"Command: `{cmd}`, {datetime.date.today()}, on {m['cpu']} ({m['cores']} cores, torch {m['torch']}, "
            f"{m['torch_threads']} threads), seed {args.seed}.",
            "",
            "183 photos of 10 women"
            + ("" if args.no_augment else ", each in 8 versions (§4.1) → 1464 images")
            + "; faces cropped by Viola-Jones. `random`: the paper's protocol (copies of one photo on both sides of "
            "a split); `subject`: leave one woman out (10 folds), so no copy of a test photo is in training. "
            f"Paper: {paper.ACCURACY['jaffe']:.2f} % (random folds).",
            "",
            *RESULT_HEADER,
            *rows,
            "",
            *per_class_table(per_class, ("paper (Fig. 5)", paper.PER_CLASS["jaffe"])),
        ]
    )
    update_section(args.out, "jaffe_cv", body)
    print(body)


if __name__ == "__main__":
    main()
