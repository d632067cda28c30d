"""JAFFE 10-fold cross-validation (paper §4.4): the paper's protocol and the subject-independent one.

    python bench/jaffe_cv.py --data ../shared/data/jaffe [--recipes paper,augmented] [--protocols random,subject]
                             [--reuse] [--out BENCHMARKS.md]

`random`: the paper's protocol — the 183 non-neutral photos, each in 8 versions (mirror and rotations of ±5°,
±10°, ±15°), stratified random 10-fold, 40 epochs. Copies of one photo fall on both sides of a split.
`subject`: leave one subject out — JAFFE has 10 women, so 10 folds hold one woman each; no photo of a test
woman, nor any copy of one, is in training.

Writes mean ± std over folds, per-class accuracy, wall time and machine to its section of BENCHMARKS.md; run
folders (results.json, report.md, confusion.png) stay under --project.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cv_table import RESULT_HEADER, CvBench, add_args, data_line, per_class_table, recipe_rows  # noqa: E402
from markdown import write_section  # noqa: E402

from mffcnn import paper  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="the JAFFE folder")
    add_args(ap)
    ap.add_argument("--epochs", type=int, help="default: the paper's 40")
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--no-augment", action="store_true", help="the 183 photos without the 8 versions")
    args = ap.parse_args()

    bench = CvBench(
        "jaffe", args.data, args, folds=args.folds, epochs=args.epochs, dataset_options={"augment": not args.no_augment}
    )
    rows, results = recipe_rows(bench, "jaffe")
    write_section(
        args.out,
        "jaffe_cv",
        "JAFFE 10-fold cross-validation",
        [
            data_line(results[0][1])
            + " Faces cropped by Viola-Jones"
            + ("" if args.no_augment else ", each photo in 8 versions (§4.1)")
            + ". `random`: the paper's protocol (copies of one photo on both "
            "sides of a split); `subject`: leave one woman out, so no copy of a test photo is in training. "
            f"Paper: {paper.ACCURACY['jaffe']:.2f} % (random folds).",
            "",
            *RESULT_HEADER,
            *rows,
            "",
            *per_class_table(results, ("paper (Fig. 5)", paper.PER_CLASS["jaffe"])),
        ],
        reused=bench.reused,
    )


if __name__ == "__main__":
    main()
