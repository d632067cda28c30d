"""CK+48, 6 classes, 927 images: 10-fold CV under both protocols, for one or more recipes.

    python bench/ckplus_cv.py --data ../shared/data/ckplus48 [--recipes paper,augmented] [--reuse]
                              [--check-determinism] [--out BENCHMARKS.md]

Writes the mean ± std, per-class accuracy, wall time and machine of every (recipe, protocol) to its
section of BENCHMARKS.md; the run folders (with results.json) stay under --project. --reuse reads a
finished run of the same recipe and seed instead of training it again. With --check-determinism the
first recipe's random protocol is run twice more with the same seed and the fold accuracies compared.
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
    ap.add_argument("--data", required=True, help="the CK+48 folder")
    ap.add_argument("--recipes", default="paper,augmented")
    ap.add_argument("--protocols", default="random,subject")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--project", default="runs/bench")
    ap.add_argument("--out", default="BENCHMARKS.md")
    ap.add_argument("--reuse", action="store_true", help="reuse finished runs of the same recipe and seed")
    ap.add_argument("--check-determinism", action="store_true")
    args = ap.parse_args()

    rows, per_class = [], []
    for recipe in args.recipes.split(","):
        for protocol in args.protocols.split(","):
            run_dir, r, wall = run_or_reuse(
                "ckplus48",
                args.data,
                recipe=recipe,
                protocol=protocol,
                seed=args.seed,
                project=args.project,
                name=f"ckplus48-{recipe}-{protocol}",
                reuse=args.reuse,
            )
            rows.append(result_row(recipe, r, wall, run_dir))
            per_class.append((recipe, r))

    determinism = ""
    if args.check_determinism:
        recipe, protocol = args.recipes.split(",")[0], args.protocols.split(",")[0]
        runs = [
            run_or_reuse(
                "ckplus48",
                args.data,
                recipe=recipe,
                protocol=protocol,
                seed=args.seed,
                project=args.project,
                name=f"determinism-{k}",
                reuse=args.reuse,
                verbose=False,
            )[1]
            for k in "ab"
        ]
        same = [f["accuracy"] for f in runs[0]["folds"]] == [f["accuracy"] for f in runs[1]["folds"]]
        determinism = (
            f"Same seed twice ({recipe}, {protocol}, seed {args.seed}, two more runs): fold accuracies "
            f"{'identical' if same else 'DIFFERENT'} ({100 * runs[0]['mean_accuracy']:.2f} % and "
            f"{100 * runs[1]['mean_accuracy']:.2f} %)."
        )

    m = machine_info()
    body = "\n".join(
        [
            "## CK+48 10-fold cross-validation (`python bench/ckplus_cv.py`)",
            "",
            f"Command: `python bench/ckplus_cv.py --data {args.data} --recipes {args.recipes}"
            f"{' --check-determinism' if args.check_determinism else ''}`, "
            f"{datetime.date.today()}, on {m['cpu']} ({m['cores']} cores, torch {m['torch']}, "
            f"{m['torch_threads']} threads).",
            "",
            "927 images (6 classes, no contempt), 106 subjects. `random`: stratified random folds, the paper's "
            "protocol (the 3 frames of a sequence fall on both sides of a split). `subject`: no person in both "
            f"train and test. Paper: {paper.ACCURACY['ckplus48']:.2f} % (random folds). Recipes: `paper` is §4.2 to "
            "the letter; `augmented` (the default) starts at lr 0.003 after a 2-epoch warm-up and adds on-the-fly "
            "augmentation (mffcnn/train/recipes.py).",
            "",
            *RESULT_HEADER,
            *rows,
            "",
            *per_class_table(per_class, ("paper (Fig. 4)", paper.PER_CLASS["ckplus"])),
            "",
            determinism,
        ]
    )
    update_section(args.out, "ckplus_cv", body)
    print(body)


if __name__ == "__main__":
    main()
