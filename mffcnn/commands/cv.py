"""`mffcnn cv`: 10-fold cross-validation, the paper's experiment (§4), both protocols."""

from __future__ import annotations

from mffcnn.commands.common import (
    add_dataset_args,
    add_folds_args,
    add_run_args,
    add_training_args,
    dataset_options_from,
    study_options,
)
from mffcnn.errors import MffcnnError


def register(sub) -> None:
    p = sub.add_parser("cv", help="10-fold cross-validation, the paper's experiment (§4)")
    add_dataset_args(p, optional=True)  # optional only with --resume
    add_folds_args(p)
    p.add_argument(
        "--spread",
        choices=["batches", "folds"],
        default="batches",
        help="under torchrun: split each batch over the processes (DDP), or give each process whole folds",
    )
    add_training_args(p)
    add_run_args(p)
    p.add_argument("--resume", nargs="?", const="", metavar="RUN", help="finish an interrupted run (default: latest)")
    p.set_defaults(func=run)


def run(args) -> int:
    from mffcnn.report.text import pct
    from mffcnn.studies.cv import cross_validate, resume

    if args.resume is not None:
        run_dir, results = resume(args.resume or None, project=args.project, verbose=not args.quiet)
    else:
        if args.dataset is None:
            raise MffcnnError("cv needs a dataset (e.g. mffcnn cv synthetic) or --resume")
        run_dir, results = cross_validate(
            args.dataset,
            args.root,
            protocol=args.protocol,
            folds=args.folds,
            spread=args.spread,
            dataset_options=dataset_options_from(args),
            options=study_options(args),
        )
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
