"""`mffcnn evaluate`: a checkpoint's accuracy on a dataset, per class, with its confusion matrix."""

from __future__ import annotations

from mffcnn.commands import common


def register(sub) -> None:
    p = sub.add_parser("evaluate", help="accuracy of a checkpoint on a dataset")
    p.add_argument("checkpoint", help="a model.safetensors written by mffcnn train")
    common.add_dataset_args(p)
    common.add_run_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from mffcnn.studies.evaluate import evaluate

    run_dir, r = evaluate(
        args.checkpoint,
        args.dataset,
        args.root,
        dataset_options=common.dataset_options_from(args),
        project=args.project,
        name=args.name,
        verbose=not args.quiet,
    )
    seen = " (the model was trained on these people: not a test score)" if r["seen_in_training"] else ""
    print(f"{r['dataset']}: accuracy {100 * r['accuracy']:.2f} % on {r['n_images']} images{seen}")
    for c, a in r["per_class_accuracy"].items():
        print(f"  {c:<10} {100 * a:6.2f} %")
    print(f"results: {run_dir}/results.json")
    return 0
