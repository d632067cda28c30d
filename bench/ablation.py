"""The Table 6 ablation study (paper §4.8) on a real dataset, both protocols, beside the paper.

    python bench/ablation.py --data ../shared/data/ckplus48 [--dataset ckplus48] [--out BENCHMARKS.md]
    python bench/ablation.py --resume runs/bench/ablate/ablation-ckplus48   # finish an interrupted run

Trains and tests the four Table 6 models (full, no mid-level, no joint tuning, no feature selection)
on the same 10 folds with the same seeds, under random and subject-independent folds, and writes
to its section of BENCHMARKS.md: the table beside Table 6, each component's paired difference to
the full model (mean ± std over folds, paired t-test, sign test) and whether it exceeds the
fold-to-fold spread, the wall time and the machine. The run folder keeps every fold, results.json,
report.md and ablation.png. Check it with tiny settings (--folds 2 --epochs 1) before a full run.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from markdown import write_section  # noqa: E402

from mffcnn import paper  # noqa: E402
from mffcnn.report.text import PROTOCOL_TITLES  # noqa: E402
from mffcnn.studies.ablate import ablate, comparison_rows, resume_ablation, table_rows, verdicts  # noqa: E402


def md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *["| " + " | ".join(r) + " |" for r in rows]]


def parse_options(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        try:
            out[key.replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            out[key.replace("-", "_")] = value
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", help="the dataset folder (e.g. ../shared/data/ckplus48)")
    ap.add_argument("--dataset", default="ckplus48", help="its layout (ckplus48, jaffe, …; default ckplus48)")
    ap.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a dataset option, e.g. --option contempt=true",
    )
    ap.add_argument("--protocols", default="random,subject")
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--epochs", type=int, help="default: the paper's for the dataset (25 for CK+, 40 for JAFFE)")
    ap.add_argument("--recipe", default="augmented")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--project", default="runs/bench")
    ap.add_argument("--resume", metavar="RUN", help="finish this interrupted ablation run instead of starting one")
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()
    command = "python " + shlex.join(["bench/ablation.py", *sys.argv[1:]])

    start = time.perf_counter()
    if args.resume:
        run_dir, r = resume_ablation(args.resume)
    else:
        if not args.data and args.dataset != "synthetic":
            ap.error("--data is required (or --resume RUN)")
        protocols = args.protocols.split(",")
        run_dir, r = ablate(
            args.dataset,
            args.data,
            protocol=protocols[0] if len(protocols) == 1 else "both",
            folds=args.folds,
            recipe=args.recipe,
            epochs=args.epochs,
            seed=args.seed,
            dataset_options=parse_options(args.option),
            project=args.project,
            name=f"ablation-{args.dataset}",
            command=command,
        )
    wall = time.perf_counter() - start
    trained = sum(row["seconds"] for rows in r["results"].values() for row in rows.values())

    name = r["dataset"].split(":")[0]
    lines = [
        f"Run folder: `{run_dir}` (every fold, results.json, report.md, ablation.png)"
        + (f"; resumed from the run started by `{r['command']}`" if args.resume else "")
        + ".",
        "",
        f"{r['n_images']} images, {r['n_subjects']} subjects, {r['folds']} folds, recipe `{r['recipe']}`, "
        f"{r['epochs']} epochs, seed {r['seed']}. The four models are trained and tested on the same folds with the "
        "same seeds, so each comparison with the full model is paired fold by fold. The paper's rows are its Table 6, "
        "measured on Oulu-CASIA (random folds, no spread given); Oulu-CASIA is not available to us.",
        "",
    ]
    for protocol in r["protocols"]:
        header, rows = table_rows(r, protocol)
        lines += [f"### {PROTOCOL_TITLES.get(protocol, protocol)}", "", *md_table(header, rows), ""]
        if r["comparisons"].get(protocol):
            header, rows = comparison_rows(r, protocol)
            lines += [
                "Paired over the folds (Δ = ablated − full; fold spread σ = the larger of the two models' std "
                f"over folds; verdict: helps / hurts when the paired t-test gives p < {r['alpha']}, else no "
                "clear effect):",
                "",
                *md_table(header, rows),
                "",
                *[f"- {v}" for v in verdicts(r, protocol)],
                "",
            ]
    lines += [
        f"Training and testing: {trained / 3600:.2f} h of compute in all; this session's wall time "
        f"{wall / 3600:.2f} h{' (resumed)' if args.resume else ''}.",
        "",
    ]
    if name not in ("oulu",):
        lines += [
            f"The paper's Table 6 is on Oulu-CASIA; on {name} the paper reports only the full model "
            f"({paper.ACCURACY.get(name, float('nan')):.2f} %, random folds)."
            if name in paper.ACCURACY
            else "",
            "",
        ]
    title = f"Ablation, Table 6 on {r['dataset']}{' (synthetic)' if r['synthetic'] else ''}"
    write_section(args.out, f"ablation_{name}", title, lines)


if __name__ == "__main__":
    main()
