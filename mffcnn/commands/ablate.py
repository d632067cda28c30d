"""`mffcnn ablate`: the Table 6 ablations (§4.8) under the same folds and seeds, both protocols."""

from __future__ import annotations

from mffcnn.commands.common import add_dataset_args, add_run_args, add_training_args, command_line, dataset_options
from mffcnn.errors import MffcnnError


def register(sub) -> None:
    from mffcnn.model import ABLATIONS

    p = sub.add_parser("ablate", help="the Table 6 ablations: full, no mid-level, no joint tuning, no selection")
    add_dataset_args(p, optional=True)  # optional only with --resume
    p.add_argument("--protocol", choices=["random", "subject", "both"], default="both",
                   help="random folds (paper), subject-independent folds, or both (default)")
    p.add_argument("--folds", type=int, default=10)
    p.add_argument("--ablations", default=",".join(ABLATIONS),
                   help=f"comma-separated subset of {','.join(ABLATIONS)} (default: all four)")
    add_training_args(p)
    add_run_args(p)
    p.add_argument("--resume", nargs="?", const="", metavar="RUN",
                   help="finish an interrupted ablation run (default: the latest under PROJECT/ablate)")
    p.set_defaults(func=run)


def run(args) -> int:
    from mffcnn.ablate import TITLES, ablate, resume_ablation, verdicts
    from mffcnn.report import paper
    from mffcnn.report.report import pct

    if args.resume is not None:
        run_dir, results = resume_ablation(args.resume or None, project=args.project, verbose=not args.quiet)
    else:
        if args.dataset is None:
            raise MffcnnError("ablate needs a dataset (e.g. mffcnn ablate synthetic) or --resume")
        run_dir, results = ablate(
            args.dataset, args.root, ablations=[a.strip() for a in args.ablations.split(",") if a.strip()],
            protocol=args.protocol, folds=args.folds, recipe=args.recipe, epochs=args.epochs, lr=args.lr,
            seed=args.seed, dataset_options=dataset_options(args), device=args.device, amp=args.amp, init=args.init,
            project=args.project, name=args.name,
            verbose=not args.quiet, command=command_line(),
        )
    tag = " [synthetic]" if results["synthetic"] else ""
    for protocol in results["protocols"]:
        print(f"{results['dataset']}{tag}, {protocol} folds:")
        for a, r in results["results"][protocol].items():
            print(f"  {TITLES[a]:<46} {r['params']:>10,} params  {pct(r['mean_accuracy']):>6} % ± "
                  f"{pct(r['std_accuracy']):<5}  (paper: {paper.TABLE6[a]['mean']:.2f} %)")
        for v in verdicts(results, protocol):
            print("  - " + v.replace("**", ""))
    print(f"results: {run_dir}/report.md")
    return 0
