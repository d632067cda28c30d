"""`mffcnn ablate`: the Table 6 ablations (§4.8) under the same folds and seeds, both protocols."""

from __future__ import annotations

from functools import partial

from mffcnn.commands import common

ABLATIONS_HELP = "full,no_mid_level,no_joint_tuning,no_feature_selection (default: all four)"


def register(sub) -> None:
    from mffcnn.model import ABLATIONS

    p = sub.add_parser("ablate", help="the Table 6 ablations: full, no mid-level, no joint tuning, no selection")
    common.add_dataset_args(p, optional=True)  # optional only with --resume
    common.add_folds_args(p)
    p.add_argument("--ablations", default=",".join(ABLATIONS), help=f"a comma-separated subset of {ABLATIONS_HELP}")
    common.add_training_args(p)
    common.add_run_args(p)
    common.add_resume_arg(p, "ablation run")
    p.set_defaults(func=run)


def run(args) -> int:
    from mffcnn import paper
    from mffcnn.report.ablation import TITLES, verdicts
    from mffcnn.report.text import pct
    from mffcnn.studies.ablate import ablate, resume_ablation

    ablations = [a.strip() for a in args.ablations.split(",") if a.strip()]
    start = partial(ablate, ablations=ablations, protocol=args.protocol, folds=args.folds)
    run_dir, results = common.start_or_resume(args, "ablate", start, resume_ablation)
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
