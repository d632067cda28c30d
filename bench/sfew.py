"""SFEW 2.0 (paper §4.6): pretrain on lab datasets, fine-tune on SFEW Train, test on Val.

    python bench/sfew.py --sfew ../shared/data/sfew2 --ckplus48 ../shared/data/ckplus48 \\
        --jaffe ../shared/data/jaffe [--oulu PATH] [--baseline] [--out BENCHMARKS.md]

The paper pretrains 30 epochs on CK+ ∪ JAFFE ∪ Oulu-CASIA, then trains 200 epochs on SFEW Train
and reports 40.83 % on Val. Oulu-CASIA is not available here, so the default pretraining set is
CK+48 ∪ JAFFE (with JAFFE's 30 neutral photos ×8, the only neutral faces among them). With
--baseline the same 200 epochs are also run from scratch, to show what pretraining adds.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from markdown import write_section  # noqa: E402

from mffcnn import paper  # noqa: E402
from mffcnn.data.datasets import DatasetSpec  # noqa: E402
from mffcnn.studies.sfew import sfew_protocol  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sfew", required=True, help="the SFEW 2.0 folder (Train/, Val/)")
    for name in ("ckplus48", "ckplus", "jaffe", "oulu"):
        ap.add_argument(f"--{name}", help=f"pretrain on this {name} folder")
    ap.add_argument("--no-neutral", action="store_true", help="leave JAFFE's neutral photos out of pretraining")
    ap.add_argument("--pretrain-epochs", type=int, default=paper.SFEW_PRETRAIN_EPOCHS)
    ap.add_argument("--epochs", type=int, default=paper.SFEW_FINETUNE_EPOCHS)
    ap.add_argument("--baseline", action="store_true", help="also train from scratch, for comparison")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--project", default="runs/bench")
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()

    sources = [DatasetSpec(n, getattr(args, n)) for n in ("ckplus48", "ckplus", "jaffe", "oulu") if getattr(args, n)]
    start = time.perf_counter()
    run_dir, r = sfew_protocol(
        args.sfew,
        pretrain=sources,
        neutral=not args.no_neutral,
        pretrain_epochs=args.pretrain_epochs,
        epochs=args.epochs,
        baseline=args.baseline,
        seed=args.seed,
        project=args.project,
        name="sfew",
    )
    wall = time.perf_counter() - start

    pre = r["pretraining"]
    classes = r["class_names"]
    base = r.get("baseline")
    write_section(
        args.out,
        "sfew",
        "SFEW 2.0 after pretraining",
        [
            f"Wall time {wall / 60:.1f} min. Run: `{run_dir}`.",
            "",
            (
                f"Pretrained {pre['epochs']} epochs on {' ∪ '.join(d['dataset'] for d in pre['datasets'])} "
                f"({pre['n_images']} images: " + ", ".join(f"{c} {n}" for c, n in pre["class_counts"].items()) + ")"
                if pre
                else "No pretraining"
            )
            + f", then {r['epochs']} epochs on SFEW Train ({r['n_train']} images); tested on Val ({r['n_val']} images, "
            f"{r['val_dropped']} blank failed alignments dropped). The paper also pretrained on Oulu-CASIA, "
            "which is not available here.",
            "",
            f"**Val accuracy {100 * r['accuracy']:.2f} %** (paper {paper.ACCURACY['sfew']:.2f} %); mean of per-class "
            f"{100 * r['mean_per_class_accuracy']:.2f} %"
            + (f"; from scratch without pretraining {100 * base['accuracy']:.2f} %." if base else "."),
            "",
            "| | " + " | ".join(classes) + " | all |",
            "|---|" + "---:|" * (len(classes) + 1),
            "| ours | "
            + " | ".join(f"{100 * r['per_class_accuracy'].get(c, 0):.1f}" for c in classes)
            + f" | {100 * r['accuracy']:.2f} |",
            *(
                [
                    (
                        "| from scratch | "
                        + " | ".join(f"{100 * base['per_class_accuracy'].get(c, 0):.1f}" for c in classes)
                        + f" | {100 * base['accuracy']:.2f} |"
                    )
                ]
                if base
                else []
            ),
            "| paper (Fig. 7) | "
            + " | ".join(f"{paper.PER_CLASS['sfew'][c]:.1f}" for c in classes)
            + f" | {paper.ACCURACY['sfew']:.2f} |",
            "",
        ],
    )


if __name__ == "__main__":
    main()
