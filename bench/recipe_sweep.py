"""Which recipe trains MFF-CNN best for faces it has not seen: variants on CK+48's subject-independent folds.

    python bench/recipe_sweep.py --data ../shared/data/ckplus48 [--reuse] [--out BENCHMARKS.md]

Every variant changes the default recipe (`augmented`, mffcnn/train/recipes.py) in one or two
ways; all run the same 10 subject-independent folds with the same seed, so their fold accuracies
pair up. This is the evidence behind the default recipe's choices (about 35 min on 2 cores).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cv_table import CvBench, add_args  # noqa: E402
from markdown import write_section  # noqa: E402

from mffcnn.train.recipes import get_recipe  # noqa: E402

CHANCE_LINE = 0.35  # a fold under this (6 classes: chance is 1/6) has collapsed
NO_AUGMENTATION = dict(flip=False, rotate=0.0, scale=0.0, shift=0.0)
VARIANTS = {  # name → (changes to the default recipe, what it tests)
    "augmented": ({}, "the default: lr 0.003 with a 2-epoch warm-up, flip, ±10°, ±10 % zoom, ±4 px"),
    "paper": (
        dict(lr=0.01, warmup_epochs=0, **NO_AUGMENTATION),
        "§4.2 exactly: lr 0.01 from the first step, no augmentation",
    ),
    "lr-0.01": (dict(lr=0.01), "the paper's learning rate, with the warm-up and augmentation"),
    "no-augmentation": (NO_AUGMENTATION, "the warm-up and lower learning rate alone"),
    "no-warmup": (dict(warmup_epochs=0), "no warm-up"),
    "lr-0.001": (dict(lr=0.001), "a 3× lower learning rate still"),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="the CK+48 folder")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    add_args(ap)
    args = ap.parse_args()

    bench = CvBench("ckplus48", args.data, args, verbose=False)
    rows, reference = [], None
    for name in args.variants.split(","):
        changes, what = VARIANTS[name]
        recipe = get_recipe("augmented").replace(name=name, **changes)
        # The two named recipes share their run folders with bench/ckplus_cv.py (reused with --reuse).
        folder = f"ckplus48-{name}-subject" if name in ("augmented", "paper") else f"sweep-{name}"
        run_dir, r, wall = bench.run(recipe, "subject", folder)
        accs = [f["accuracy"] for f in r["folds"]]
        reference = reference or accs
        better, worse = sum(a > b for a, b in zip(accs, reference)), sum(a < b for a, b in zip(accs, reference))
        dead = sum(a < CHANCE_LINE for a in accs)
        rows.append(
            f"| `{name}` | {what} | **{100 * r['mean_accuracy']:.2f}** ± {100 * r['std_accuracy']:.2f} | "
            f"{min(accs) * 100:.1f} | {dead} | {better}/{worse} | {r['epochs']} | {wall / 60:.1f} min |"
        )
        print(rows[-1], flush=True)
    write_section(
        args.out,
        "recipe_sweep",
        "Recipe sweep: CK+48 subject-independent folds",
        [
            f"Same folds for every row, seed {args.seed}; 'folds at chance' counts folds under {100 * CHANCE_LINE:.0f} % "
            "(the network died: every ReLU at zero); 'folds better/worse' compares each fold with the first row's.",
            "",
            "| recipe | what changes | mean accuracy % ± std | worst fold % | folds at chance | folds better/worse "
            "| epochs | wall time |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
            *rows,
        ],
        reused=bench.reused,
    )


if __name__ == "__main__":
    main()
