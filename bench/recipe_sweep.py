"""Which recipe trains MFF-CNN best for faces it has not seen: variants on CK+48's subject-independent folds.

    python bench/recipe_sweep.py --data ../shared/data/ckplus48 [--reuse] [--out BENCHMARKS.md]

Every variant changes the default recipe (`augmented`, mffcnn/train/recipes.py) in one or two
ways; all run the same 10 subject-independent folds with the same seed, so their fold accuracies
pair up. This is the evidence behind the default recipe's choices (about 35 min on 2 cores).
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cv_table import run_or_reuse  # noqa: E402
from markdown import update_section  # noqa: E402

from mffcnn.runs import machine_info  # noqa: E402
from mffcnn.train.recipes import get_recipe  # noqa: E402

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
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--project", default="runs/bench")
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()

    base = get_recipe("augmented")
    rows, reference = [], None
    for name in args.variants.split(","):
        changes, what = VARIANTS[name]
        recipe = base.replace(name=name, **changes)
        # The two named recipes share their run folders with bench/ckplus_cv.py (reused with --reuse).
        folder = f"ckplus48-{name}-subject" if name in ("augmented", "paper") else f"sweep-{name}"
        run_dir, r, wall = run_or_reuse(
            "ckplus48",
            args.data,
            recipe=recipe,
            protocol="subject",
            seed=args.seed,
            project=args.project,
            name=folder,
            reuse=args.reuse,
            verbose=False,
        )
        accs = [f["accuracy"] for f in r["folds"]]
        reference = reference or accs
        better = sum(a > b for a, b in zip(accs, reference))
        worse = sum(a < b for a, b in zip(accs, reference))
        collapsed = sum(a < 0.35 for a in accs)
        rows.append(
            f"| `{name}` | {what} | **{100 * r['mean_accuracy']:.2f}** ± {100 * r['std_accuracy']:.2f} | "
            f"{min(accs) * 100:.1f} | {collapsed} | {better}/{worse} | {r['epochs']} | {wall / 60:.1f} min |"
        )
        print(rows[-1], flush=True)

    m = machine_info()
    body = "\n".join(
        [
            "## Recipe sweep: CK+48 subject-independent folds (`python bench/recipe_sweep.py`)",
            "",
            f"Command: `python bench/recipe_sweep.py --data {args.data}`, {datetime.date.today()}, on {m['cpu']} "
            f"({m['cores']} cores, torch {m['torch']}), seed {args.seed}. Same 10 folds for every row; "
            "'folds at chance' counts folds under 35 % (the network died: every ReLU at zero); 'folds better/worse' "
            f"compares each fold with the first row's.",
            "",
            "| recipe | what changes | mean accuracy % ± std | worst fold % | folds at chance | folds better/worse "
            "| epochs | wall time |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
            *rows,
        ]
    )
    update_section(args.out, "recipe_sweep", body)
    print(body)


if __name__ == "__main__":
    main()
