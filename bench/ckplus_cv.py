"""CK+48, 6 classes, 927 images: 10-fold CV under both protocols, for one or more recipes.

    python bench/ckplus_cv.py --data ../shared/data/ckplus48 [--recipes paper,improved] [--out BENCHMARKS.md]

Writes the mean ± std, per-class accuracy, wall time and machine of every (recipe, protocol)
to its section of BENCHMARKS.md; the run folders (with results.json) stay under --project.
With --check-determinism the first recipe's random protocol is run twice with the same seed
and the two results.json fold accuracies are compared.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from markdown import update_section  # noqa: E402

from mffcnn import cross_validate  # noqa: E402
from mffcnn.report import paper  # noqa: E402
from mffcnn.runs import machine_info  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="the CK+48 folder")
    ap.add_argument("--recipes", default="paper")
    ap.add_argument("--protocols", default="random,subject")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--project", default="runs/bench")
    ap.add_argument("--out", default="BENCHMARKS.md")
    ap.add_argument("--check-determinism", action="store_true")
    args = ap.parse_args()

    rows, per_class, runs = [], [], []
    for recipe in args.recipes.split(","):
        for protocol in args.protocols.split(","):
            start = time.perf_counter()
            run_dir, (r,) = cross_validate("ckplus48", args.data, protocol=protocol, recipe=recipe, seed=args.seed,
                                           project=args.project, name=f"ckplus48-{recipe}-{protocol}")
            wall = time.perf_counter() - start
            runs.append(run_dir)
            rows.append(f"| {recipe} | {protocol} | **{100 * r['mean_accuracy']:.2f}** ± {100 * r['std_accuracy']:.2f} "
                        f"| {100 * r['mean_per_class_accuracy']:.2f} | {r['epochs']} | {wall / 60:.1f} min | `{run_dir}` |")
            per_class.append(f"| {recipe} | {protocol} | " + " | ".join(
                f"{100 * v:.1f}" for v in r["per_class_accuracy"].values()) + " |")
            classes = r["class_names"]

    determinism = ""
    if args.check_determinism:
        recipe, protocol = args.recipes.split(",")[0], args.protocols.split(",")[0]
        _, (a,) = cross_validate("ckplus48", args.data, protocol=protocol, recipe=recipe, seed=args.seed,
                                 project=args.project, name="determinism-a", verbose=False)
        _, (b,) = cross_validate("ckplus48", args.data, protocol=protocol, recipe=recipe, seed=args.seed,
                                 project=args.project, name="determinism-b", verbose=False)
        same = [f["accuracy"] for f in a["folds"]] == [f["accuracy"] for f in b["folds"]]
        determinism = (f"\nSame seed twice ({recipe}, {protocol}, seed {args.seed}): fold accuracies "
                       f"{'identical' if same else 'DIFFERENT'} ({100 * a['mean_accuracy']:.2f} % and "
                       f"{100 * b['mean_accuracy']:.2f} %).\n")

    m = machine_info()
    body = "\n".join([
        "## CK+48 10-fold cross-validation (`python bench/ckplus_cv.py`)",
        "",
        f"Command: `python bench/ckplus_cv.py --data {args.data} --recipes {args.recipes}"
        f"{' --check-determinism' if args.check_determinism else ''}`, "
        f"{datetime.date.today()}, on {m['cpu']} ({m['cores']} cores, torch {m['torch']}, "
        f"{m['torch_threads']} threads).",
        "",
        "927 images (6 classes, no contempt), 106 subjects. `random`: stratified random folds, the paper's "
        "protocol (frames of one sequence fall on both sides). `subject`: no person in both train and test. "
        f"Paper: {paper.ACCURACY['ckplus48']:.2f} % (random folds).",
        "",
        "| recipe | protocol | mean accuracy % ± std over folds | mean of per-class % | epochs | wall time | run |",
        "|---|---|---:|---:|---:|---:|---|",
        *rows,
        "",
        "| recipe | protocol | " + " | ".join(classes) + " |",
        "|---|---|" + "---:|" * len(classes),
        *per_class,
        "| paper (Fig. 4) | random | " + " | ".join(f"{paper.PER_CLASS['ckplus'][c]:.1f}" for c in classes) + " |",
        determinism,
    ])
    update_section(args.out, "ckplus_cv", body)
    print(body)


if __name__ == "__main__":
    main()
