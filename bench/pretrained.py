"""Pretrain on FER+, fine-tune in every protocol: CK+48 and JAFFE subject-independent folds, SFEW 2.0 Val.

    python bench/pretrained.py --init runs/bench/ferplus/MODEL.safetensors \\
        --ckplus48 ../shared/data/ckplus48 --jaffe ../shared/data/jaffe --sfew ../shared/data/sfew2 \\
        [--ferplus ../shared/data/ferplus] [--recipes augmented] [--init-recipes finetune] [--reuse] \\
        [--out BENCHMARKS.md]

--init is a model trained on none of the lab sets: FER+ Train alone (bench/ferplus_sweep.py writes one per
variant), or FER+ ∪ AffectNet (bench/many_sources.py). Their faces come from the web and hold none of the lab
datasets' people, so every fold may start from it. Each row pairs with a from-scratch row on the same folds and
seed; `--recipes ''` leaves the scratch rows (and SFEW's start from the labs) out, for a second start model written
to its own `--section` beside the first:

* CK+48, 6 classes, 10 subject-independent folds (no person in train and test): `mffcnn cv ckplus48 DATA
  --protocol subject --init MODEL` (the 7-class FER+ head keeps its six rows by class name, drops neutral).
* JAFFE, leave one woman out (10 folds, each photo in the paper's 8 versions, none of a test woman's copies
  in training): `mffcnn cv jaffe DATA --protocol subject --init MODEL`.
* SFEW 2.0 Val (§4.6): fine-tuned 200 epochs on Train, starting (a) from the FER+ model, (b) with --ferplus,
  from 30 epochs of pretraining on FER+ ∪ CK+48 ∪ JAFFE (with JAFFE's neutral photos), (c) from 30 epochs on
  CK+48 ∪ JAFFE alone, as the paper does without Oulu-CASIA.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cv_table import CvBench, add_args  # noqa: E402
from markdown import write_section  # noqa: E402

from mffcnn import paper  # noqa: E402
from mffcnn.data.datasets import DatasetSpec  # noqa: E402
from mffcnn.runs import code_version, read_json  # noqa: E402
from mffcnn.studies.sfew import sfew_protocol  # noqa: E402


def cv_rows(bench: CvBench, init: str) -> list[str]:
    """From scratch with each --recipes, and from the FER+ model with each --init-recipes: subject-independent
    folds. A scratch run of the same name, options, code and data made by bench/ckplus_cv.py or jaffe_cv.py is
    reused with --reuse."""
    rows = []
    starts = [(r, None) for r in scratch_recipes(bench.args)] + [(r, init) for r in bench.args.init_recipes.split(",")]
    for recipe, start in starts:
        name = f"{bench.dataset}-{recipe}-subject" + (f"-{bench.args.tag}" if start else "")
        _, r, wall = bench.run(recipe, "subject", name, init=start, verbose=False)
        per_class = ", ".join(f"{c} {100 * a:.1f}" for c, a in r["per_class_accuracy"].items())
        rows.append(
            f"| {bench.dataset} | `{recipe}` | {bench.args.start if start else 'scratch'} | "
            f"**{100 * r['mean_accuracy']:.2f}** ± {100 * r['std_accuracy']:.2f} | "
            f"{100 * min(f['accuracy'] for f in r['folds']):.1f} | {per_class} | {wall / 60:.1f} min |"
        )
        print(rows[-1], flush=True)
    return rows


def scratch_recipes(args) -> list[str]:
    """The recipes of the rows from scratch (--recipes; "" for none: only the rows that depend on --init)."""
    return [r for r in args.recipes.split(",") if r]


def describe_start(init: str) -> tuple[str, str, str]:
    """(row label, run-name tag, what it was trained on) of the start model, from its own info."""
    from mffcnn.checkpoint import load_checkpoint  # noqa: PLC0415
    from mffcnn.train.warm_start import trained_on  # noqa: PLC0415

    names = sorted(trained_on(load_checkpoint(init).info) - {""}) or ["ferplus"]
    if names == ["ferplus"]:  # the rows of the first measurement keep their names
        return "FER+ model", "ferplus", "FER+ Train only"
    label = {"ferplus": "FER+", "affectnet": "AffectNet"}
    return " ∪ ".join(label.get(n, n) for n in names) + " model", "-".join(names), " ∪ ".join(names)


def sfew_rows(args, reused: list[str]) -> list[str]:
    labs = [DatasetSpec("ckplus48", args.ckplus48), DatasetSpec("jaffe", args.jaffe)]
    starts = [(f"{args.start} (--init)", dict(init=args.init), f"sfew-{args.tag}-init")]
    if args.ferplus:  # 30 epochs on 30,000 faces: the longest row, so only when asked for
        union = dict(pretrain=[DatasetSpec("ferplus", args.ferplus), *labs])
        starts.append(("FER+ ∪ CK+48 ∪ JAFFE, 30 epochs", union, "sfew-ferplus-labs"))
    if scratch_recipes(args):  # the paper's own start, the same whatever --init is
        starts.append(("CK+48 ∪ JAFFE, 30 epochs (the paper's, without Oulu-CASIA)", dict(pretrain=labs), "sfew-labs"))
    rows = []
    for label, how, name in starts:
        folder = Path(args.project) / "sfew" / name
        done = folder / "results.json"
        if args.reuse and done.exists() and read_json(folder / "options.json").get("code") == code_version():
            r, wall = read_json(done), None
            reused.append(name)
        else:
            shutil.rmtree(folder, ignore_errors=True)
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
        cells = " | ".join(f"{100 * r['per_class_accuracy'].get(c, 0):.1f}" for c in r["class_names"])
        took = f"{wall / 60:.1f} min" if wall else "reused"
        rows.append(
            f"| {label} | `{r['recipe']['name']}` | **{100 * r['accuracy']:.2f}** | "
            f"{100 * r['mean_per_class_accuracy']:.2f} | {cells} | {took} |"
        )
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--init", required=True, help="a model trained on none of the lab sets (FER+ Train, AffectNet)")
    for name in ("ckplus48", "jaffe", "sfew"):
        ap.add_argument(f"--{name}", help=f"the {name} folder (its rows are left out without it)")
    ap.add_argument("--ferplus", help="FER+ data: adds the SFEW row that pretrains 30 epochs on FER+ ∪ CK+48 ∪ JAFFE")
    ap.add_argument("--sfew-recipe", default="finetune")
    add_args(ap, recipes="augmented")
    ap.add_argument("--init-recipes", default="finetune", help="recipes of the rows that start from --init")
    ap.add_argument("--section", default="pretrained", help="the section of --out (another start: another one)")
    ap.add_argument("--title", default="Pretrained on FER+, fine-tuned")
    args = ap.parse_args()
    args.start, args.tag, trained = describe_start(args.init)

    cv, reused = [], []
    for dataset, data in (("ckplus48", args.ckplus48), ("jaffe", args.jaffe)):
        if data:
            bench = CvBench(
                dataset, data, args, **({"dataset_options": {"augment": True}} if dataset == "jaffe" else {})
            )
            cv += cv_rows(bench, args.init)
            reused += bench.reused
    sfew = sfew_rows(args, reused) if args.sfew and args.ckplus48 and args.jaffe else []
    sfew_table = (
        [
            "SFEW 2.0 (§4.6): 200 epochs on Train from each start, tested on Val. Paper: "
            f"{paper.ACCURACY['sfew']:.2f} %.",
            "",
            "| start | recipe | Val accuracy % | mean per-class % | anger | disgust | fear | happy | neutral | "
            "sadness | surprise | wall time |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            *sfew,
        ]
        if sfew
        else []
    )
    write_section(
        args.out,
        args.section,
        args.title,
        [
            f"Start model: `{args.init}` ({trained}: no CK+, JAFFE or SFEW face); seed {args.seed}. Subject-"
            "independent 10-fold cross-validation: no person in both train and test (JAFFE: leave one woman out, her 8 "
            "versions of each photo included). Same folds and seeds for the scratch and pretrained rows"
            + ("." if scratch_recipes(args) else " (no rows from scratch here: --recipes '')."),
            "",
            "| dataset | recipe | start | mean accuracy % ± std | worst fold % | per class % | wall time |",
            "|---|---|---|---:|---:|---|---:|",
            *cv,
            "",
            *sfew_table,
        ],
        reused=reused,
    )


if __name__ == "__main__":
    main()
