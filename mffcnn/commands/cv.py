"""`mffcnn cv`: k-fold cross-validation (10 folds by default, as the paper's experiment, §4), both protocols."""

from __future__ import annotations

from functools import partial

from mffcnn.commands import common

SPREAD_HELP = "under torchrun: split each batch over the processes (DDP), or give each process whole folds"


def register(sub) -> None:
    p = sub.add_parser("cv", help="k-fold cross-validation (10 folds by default: the paper's experiment, §4)")
    common.add_dataset_args(p, optional=True)  # optional only with --resume
    common.add_folds_args(p)
    p.add_argument("--spread", choices=["batches", "folds"], default="batches", help=SPREAD_HELP)
    common.add_training_args(p)
    common.add_run_args(p)
    common.add_resume_arg(p, "run")
    p.set_defaults(func=run)


def run(args) -> int:
    from mffcnn.report.text import pct
    from mffcnn.studies.cv import cross_validate, resume

    start = partial(cross_validate, protocol=args.protocol, folds=args.folds, spread=args.spread)
    run_dir, results = common.start_or_resume(args, "cv", start, resume)
    from mffcnn.train.distributed import is_main_process

    if not is_main_process():
        return 0
    for r in results:
        paper = f"   (paper: {pct(r['paper']['accuracy'])} %)" if r["paper"] else ""
        tag = " [synthetic]" if r["synthetic"] else ""
        print(
            f"{r['dataset']}{tag} {r['protocol']:>7}: {pct(r['mean_accuracy'])} % ± {pct(r['std_accuracy'])}"
            f" over {len(r['folds'])} folds{paper}"
        )
    print(f"results: {run_dir}/report.md")
    return 0
