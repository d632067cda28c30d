"""`mffcnn ablate`: the Table 6 ablations (§4.8) under the same folds and seeds, both protocols."""

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
    from mffcnn.model import ABLATIONS

    p = sub.add_parser("ablate", help="the Table 6 ablations: full, no mid-level, no joint tuning, no selection")
    add_dataset_args(p, optional=True)  # optional only with --resume
    add_folds_args(p)
    p.add_argument(
        "--ablations",
        default=",".join(ABLATIONS),
        help=f"comma-separated subset of {','.join(ABLATIONS)} (default: all four)",
    )
    add_training_args(p)
    add_run_args(p)
    p.add_argument(
        "--resume",
        nargs="?",
        const="",
        metavar="RUN",
        help="finish an interrupted ablation run (default: the latest under PROJECT/ablate)",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from mffcnn import paper
    from mffcnn.report.ablation import TITLES, verdicts
    from mffcnn.report.text import pct
    from mffcnn.studies.ablate import ablate, resume_ablation

    if args.resume is not None:
        run_dir, results = resume_ablation(args.resume or None, project=args.project, verbose=not args.quiet)
    else:
        if args.dataset is None:
            raise MffcnnError("ablate needs a dataset (e.g. mffcnn ablate synthetic) or --resume")
        run_dir, results = ablate(
            args.dataset,
            args.root,
            ablations=[a.strip() for a in args.ablations.split(",") if a.strip()],
            protocol=args.protocol,
            folds=args.folds,
            dataset_options=dataset_options_from(args),
            options=study_options(args),
        )
    tag = " [synthetic]" if results["synthetic"] else ""
    for protocol in results["protocols"]:
        print(f"{results['dataset']}{tag}, {protocol} folds:")
        for a, r in results["results"][protocol].items():
            print(
                f"  {TITLES[a]:<46} {r['params']:>10,} params  {pct(r['mean_accuracy']):>6} % ± "
                f"{pct(r['std_accuracy']):<5}  (paper: {paper.TABLE6[a]['mean']:.2f} %)"
            )
        for v in verdicts(results, protocol):
            print("  - " + v.replace("**", ""))
    print(f"results: {run_dir}/report.md")
    return 0
