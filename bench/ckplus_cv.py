"""CK+48, 6 classes: 10-fold CV under both protocols, for one or more recipes.

    python bench/ckplus_cv.py --data ../shared/data/ckplus48 [--recipes paper,augmented] [--reuse]
                              [--check-determinism] [--out BENCHMARKS.md]

Writes the mean ± std, per-class accuracy, wall time and machine of every (recipe, protocol) to its section of
BENCHMARKS.md; the run folders (with results.json) stay under --project. --reuse reads a finished run of the same
options, made by the same code from the same data, instead of training it again (the section says which). With
--check-determinism the first recipe's first protocol is run twice more with the same seed and the fold
accuracies compared.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cv_table import RESULT_HEADER, CvBench, add_args, data_line, per_class_table, recipe_rows  # noqa: E402
from markdown import write_section  # noqa: E402

from mffcnn import paper  # noqa: E402


def determinism(bench: CvBench) -> str:
    """Two more runs of the first recipe and protocol with the same seed: are their fold accuracies the same?"""
    recipe, protocol = bench.args.recipes.split(",")[0], bench.args.protocols.split(",")[0]
    runs = [bench.run(recipe, protocol, f"determinism-{k}", verbose=False)[1] for k in "ab"]
    same = [f["accuracy"] for f in runs[0]["folds"]] == [f["accuracy"] for f in runs[1]["folds"]]
    return (
        f"Same seed twice ({recipe}, {protocol}, seed {bench.args.seed}, two more runs): fold accuracies "
        f"{'identical' if same else 'DIFFERENT'} ({100 * runs[0]['mean_accuracy']:.2f} % and "
        f"{100 * runs[1]['mean_accuracy']:.2f} %)."
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="the CK+48 folder")
    add_args(ap)
    ap.add_argument("--check-determinism", action="store_true")
    args = ap.parse_args()

    bench = CvBench("ckplus48", args.data, args)
    rows, results = recipe_rows(bench, "ckplus48")
    twice = determinism(bench) if args.check_determinism else ""
    write_section(
        args.out,
        "ckplus_cv",
        "CK+48 10-fold cross-validation",
        [
            data_line(results[0][1]) + " `random`: stratified random folds, the paper's protocol (the 3 frames of a "
            "sequence fall on both sides of a split). `subject`: no person in both train and test. Paper: "
            f"{paper.ACCURACY['ckplus48']:.2f} % (random folds). Recipes: mffcnn/train/recipes.py (`paper` is §4.2).",
            "",
            *RESULT_HEADER,
            *rows,
            "",
            *per_class_table(results, ("paper (Fig. 4)", paper.PER_CLASS["ckplus"])),
            "",
            twice,
        ],
        reused=bench.reused,
    )


if __name__ == "__main__":
    main()
