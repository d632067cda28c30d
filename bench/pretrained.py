"""Pretrain on FER+, fine-tune in every protocol: CK+48 and JAFFE subject-independent folds, SFEW 2.0 Val.

    python bench/pretrained.py --init runs/bench/ferplus/votes-cosine-40.safetensors \\
        --ckplus48 ../shared/data/ckplus48 --jaffe ../shared/data/jaffe --sfew ../shared/data/sfew2 \\
        --ferplus ../shared/data/ferplus [--recipes augmented,finetune] [--reuse] [--out BENCHMARKS.md]

--init is a model trained on FER+ Train alone (bench/ferplus_sweep.py writes one per variant): FER2013's faces
come from the web and hold none of the lab datasets' people, so every fold may start from it. Each row pairs
with a from-scratch row on the same folds and seed:

* CK+48, 6 classes, 10 subject-independent folds (no person in train and test): `mffcnn cv ckplus48 DATA
  --protocol subject --init MODEL` (the 7-class FER+ head keeps its six rows by class name, drops neutral).
* JAFFE, leave one woman out (10 folds, each photo in the paper's 8 versions, none of a test woman's copies
  in training): `mffcnn cv jaffe DATA --protocol subject --init MODEL`.
* SFEW 2.0 Val (§4.6): fine-tuned 200 epochs on Train, starting (a) from the FER+ model, (b) from 30 epochs of
  pretraining on FER+ ∪ CK+48 ∪ JAFFE (with JAFFE's neutral photos), (c) from 30 epochs on CK+48 ∪ JAFFE
  alone, as the paper does without Oulu-CASIA.
"""

from __future__ import annotations

import argparse
import datetime
import shlex
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cv_table import run_or_reuse  # noqa: E402
from markdown import update_section  # noqa: E402

from mffcnn import paper  # noqa: E402
from mffcnn.data.datasets import DatasetSpec
from mffcnn.runs import machine_info, read_json  # noqa: E402
from mffcnn.studies.sfew import sfew_protocol  # noqa: E402


def cv_rows(dataset: str, data: str, init: str, recipes: list[str], args) -> list[str]:
    rows = []
    options = {"dataset_options": {"augment": True}} if dataset == "jaffe" else {}
    for recipe in recipes:
        for start in (None, init):
            name = f"{dataset}-{recipe}-subject" if start is None else f"{dataset}-{recipe}-subject-ferplus"
            run_dir, r, wall = run_or_reuse(
                dataset,
                data,
                recipe=recipe,
                protocol="subject",
                seed=args.seed,
                project=args.project,
                name=name,
                reuse=args.reuse,
                init=start,
                verbose=False,
                **options,
            )
            pc = r["per_class_accuracy"]
            rows.append(
                f"| {dataset} | `{recipe}` | {'FER+ model' if start else 'scratch'} | "
                f"**{100 * r['mean_accuracy']:.2f}** ± {100 * r['std_accuracy']:.2f} | "
                f"{100 * min(f['accuracy'] for f in r['folds']):.1f} | "
                + ", ".join(f"{c} {100 * a:.1f}" for c, a in pc.items())
                + f" | {wall / 60:.1f} min |"
            )
            print(rows[-1], flush=True)
    return rows


def sfew_rows(args) -> list[str]:
    labs = [DatasetSpec("ckplus48", args.ckplus48), DatasetSpec("jaffe", args.jaffe)]
    runs = [
        ("FER+ model (--init)", dict(init=args.init), "sfew-ferplus-init"),
        (
            "FER+ ∪ CK+48 ∪ JAFFE, 30 epochs",
            dict(pretrain=[DatasetSpec("ferplus", args.ferplus)] + labs),
            "sfew-ferplus-labs",
        ),
        ("CK+48 ∪ JAFFE, 30 epochs (the paper's, without Oulu-CASIA)", dict(pretrain=labs), "sfew-labs"),
    ]
    rows = []
    for label, how, name in runs:
        folder = Path(args.project) / "sfew" / name
        if args.reuse and (folder / "results.json").exists():
            r, wall = read_json(folder / "results.json"), None
        else:
            if folder.exists():
                import shutil

                shutil.rmtree(folder)
            start = time.perf_counter()
            _, r = sfew_protocol(
                args.sfew,
                recipe=args.sfew_recipe,
                seed=args.seed,
                project=args.project,
                name=name,
                verbose=False,
                **how,
            )
            wall = time.perf_counter() - start
        pc = r["per_class_accuracy"]
        rows.append(
            f"| {label} | `{r['recipe']['name']}` | **{100 * r['accuracy']:.2f}** | "
            f"{100 * r['mean_per_class_accuracy']:.2f} | "
            + " | ".join(f"{100 * pc.get(c, 0):.1f}" for c in r["class_names"])
            + (f" | {wall / 60:.1f} min |" if wall else " | reused |")
        )
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--init", required=True, help="a model trained on FER+ Train alone")
    ap.add_argument("--ckplus48")
    ap.add_argument("--jaffe")
    ap.add_argument("--sfew")
    ap.add_argument("--ferplus", help="FER+ data, for the SFEW row that pretrains on FER+ ∪ CK+48 ∪ JAFFE")
    ap.add_argument("--recipes", default="augmented,finetune", help="recipes of the cv rows")
    ap.add_argument("--sfew-recipe", default="finetune")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--project", default="runs/bench")
    ap.add_argument("--reuse", action="store_true", help="reuse finished runs of the same data, options and code")
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()

    recipes = args.recipes.split(",")
    cv = []
    if args.ckplus48:
        cv += cv_rows("ckplus48", args.ckplus48, args.init, recipes, args)
    if args.jaffe:
        cv += cv_rows("jaffe", args.jaffe, args.init, recipes, args)
    sfew = sfew_rows(args) if args.sfew and args.ckplus48 and args.jaffe and args.ferplus else []

    m = machine_info()
    command = shlex.join(["python", "bench/pretrained.py", *sys.argv[1:]])
    body = "\n".join(
        [
            "## Pretrained on FER+, fine-tuned (`python bench/pretrained.py`)",
            "",
            f"Command: `{command}`, {datetime.date.today()}, on {m['cpu']} ({m['cores']} cores, torch {m['torch']}), "
            f"seed {args.seed}. Start model: `{args.init}` (FER+ Train only: no CK+, JAFFE or SFEW face).",
            "",
            "Subject-independent 10-fold cross-validation: no person in both train and test (JAFFE: leave one woman "
            "out, her 8 versions of each photo included). Same folds and seeds for the scratch and FER+ rows.",
            "",
            "| dataset | recipe | start | mean accuracy % ± std | worst fold % | per class % | wall time |",
            "|---|---|---|---:|---:|---|---:|",
            *cv,
            "",
            *(
                [
                    "SFEW 2.0 (§4.6): 200 epochs on Train from each start, tested on Val (419 faces). Paper: "
                    f"{paper.ACCURACY['sfew']:.2f} %.",
                    "",
                    "| start | recipe | Val accuracy % | mean per-class % | anger | disgust | fear | happy | neutral | "
                    "sadness | surprise | wall time |",
                    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
                    *sfew,
                ]
                if sfew
                else []
            ),
        ]
    )
    update_section(args.out, "pretrained", body)
    print(body)


if __name__ == "__main__":
    main()
