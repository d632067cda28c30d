"""JAFFE 10-fold cross-validation (paper §4.4): the paper's protocol and the subject-independent one.

    python bench/jaffe_cv.py --data ../shared/data/jaffe [--protocols random,subject] [--out BENCHMARKS.md]

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
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from markdown import update_section  # noqa: E402

from mffcnn import cross_validate  # noqa: E402
from mffcnn.report import paper  # noqa: E402
from mffcnn.runs import machine_info  # noqa: E402



def title(protocol: str, folds: int) -> str:
    if protocol == "random":
        return f"random, {folds} folds (the paper's protocol)"
    return f"subject-independent, {folds} folds" + (" = leave one subject out" if folds == 10 else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="the JAFFE folder")
    ap.add_argument("--protocols", default="random,subject")
    ap.add_argument("--recipe", default="paper")
    ap.add_argument("--epochs", type=int, help="default: the paper's 40")
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--no-augment", action="store_true", help="the 183 photos without the 8 versions")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--project", default="runs/bench")
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()

    options = {"augment": not args.no_augment}
    rows, per_class, classes = [], [], []
    for protocol in args.protocols.split(","):
        start = time.perf_counter()
        run_dir, (r,) = cross_validate("jaffe", args.data, protocol=protocol, folds=args.folds, recipe=args.recipe,
                                       epochs=args.epochs, seed=args.seed, dataset_options=options,
                                       project=args.project, name=f"jaffe-{protocol}")
        wall = time.perf_counter() - start
        classes = r["class_names"]
        rows.append(f"| {title(protocol, args.folds)} | {r['n_images']} | **{100 * r['mean_accuracy']:.2f}** ± "
                    f"{100 * r['std_accuracy']:.2f} | {100 * r['mean_per_class_accuracy']:.2f} | {r['epochs']} | "
                    f"{wall / 60:.1f} min | `{run_dir}` |")
        per_class.append(f"| {protocol} | " + " | ".join(f"{100 * v:.1f}" for v in r["per_class_accuracy"].values())
                         + " |")

    m = machine_info()
    cmd = (f"python bench/jaffe_cv.py --data {args.data} --protocols {args.protocols}"
           + (f" --epochs {args.epochs}" if args.epochs else "") + (f" --folds {args.folds}" if args.folds != 10 else "")
           + (" --no-augment" if args.no_augment else ""))
    body = "\n".join([
        "## JAFFE 10-fold cross-validation (`python bench/jaffe_cv.py`)",
        "",
        f"Command: `{cmd}`, {datetime.date.today()}, on {m['cpu']} ({m['cores']} cores, torch {m['torch']}, "
        f"{m['torch_threads']} threads). Recipe `{args.recipe}`, seed {args.seed}.",
        "",
        "183 photos of 10 women" + ("" if args.no_augment else ", each in 8 versions (§4.1) → 1464 images")
        + "; faces cropped by Viola-Jones. `random`: the paper's protocol (copies of one photo on both sides of "
        "a split); `subject`: no woman, and so no copy of a test photo, in both train and test. "
        f"Paper: {paper.ACCURACY['jaffe']:.2f} % (random folds).",
        "",
        "| protocol | images | mean accuracy % ± std over folds | mean of per-class % | epochs | wall time | run |",
        "|---|---:|---:|---:|---:|---:|---|",
        *rows,
        "",
        "| protocol | " + " | ".join(classes) + " |",
        "|---|" + "---:|" * len(classes),
        *per_class,
        "| paper (Fig. 5) | " + " | ".join(f"{paper.PER_CLASS['jaffe'][c]:.1f}" for c in classes) + " |",
        "",
    ])
    update_section(args.out, "jaffe_cv", body)
    print(body)


if __name__ == "__main__":
    main()
