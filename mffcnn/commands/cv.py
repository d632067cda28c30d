"""`mffcnn cv`: 10-fold cross-validation, the paper's experiment (§4), both protocols."""

from __future__ import annotations

from mffcnn.commands.common import add_dataset_args, add_run_args, add_training_args, command_line, dataset_options
from mffcnn.errors import MffcnnError


def register(sub) -> None:
    p = sub.add_parser("cv", help="10-fold cross-validation, the paper's experiment (§4)")
    add_dataset_args(p, optional=True)  # optional only with --resume
    p.add_argument("--protocol", choices=["random", "subject", "both"], default="both",
                   help="random folds (paper), subject-independent folds, or both (default)")
    p.add_argument("--folds", type=int, default=10)
    p.add_argument("--spread", choices=["batches", "folds"], default="batches",
                   help="under torchrun: split each batch over the processes (DDP), or give each process whole folds")
    add_training_args(p)
    add_run_args(p)
    p.add_argument("--resume", nargs="?", const="", metavar="RUN", help="finish an interrupted run (default: latest)")
    p.set_defaults(func=run)


def run(args) -> int:
    from mffcnn import experiment
    from mffcnn.report.report import pct

    if args.resume is not None:
        run_dir, results = experiment.resume(args.resume or None, project=args.project, verbose=not args.quiet)
    else:
        if args.dataset is None:
            raise MffcnnError("cv needs a dataset (e.g. mffcnn cv synthetic) or --resume")
        run_dir, results = experiment.cross_validate(
            args.dataset, args.root, protocol=args.protocol, folds=args.folds, recipe=args.recipe,
            epochs=args.epochs, lr=args.lr, seed=args.seed, dataset_options=dataset_options(args),
            device=args.device, amp=args.amp, spread=args.spread, init=args.init,
            project=args.project, name=args.name, verbose=not args.quiet, command=command_line(),
        )
    from mffcnn.train.distributed import is_main_process

    if not is_main_process():
        return 0
    for r in results:
        paper = f"   (paper: {pct(r['paper']['accuracy'])} %, random folds)" if r["paper"] else ""
        tag = " [synthetic]" if r["synthetic"] else ""
        print(f"{r['dataset']}{tag} {r['protocol']:>7}: {pct(r['mean_accuracy'])} % ± {pct(r['std_accuracy'])}"
              f" over {len(r['folds'])} folds{paper}")
    print(f"results: {run_dir}/report.md")
    return 0
