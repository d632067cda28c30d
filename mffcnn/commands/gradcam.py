"""`mffcnn gradcam`: Grad-CAM of a checkpoint's four Fig. 8 feature maps (§4.7), as figures.

Grad-CAM figures like the paper's Fig. 8. Either image files/folders, e.g. `mffcnn gradcam model.safetensors face.png`, or faces of a dataset, e.g. `mffcnn gradcam model.safetensors --dataset ckplus48 PATH --per-class`.
"""

from __future__ import annotations

from mffcnn.commands import common, values
from mffcnn.errors import MffcnnError


def register(sub) -> None:
    from mffcnn.gradcam import SCORES
    from mffcnn.report.gradcam import STYLES

    p = sub.add_parser(
        "gradcam",
        help="Grad-CAM of the mid-level, high-level and patch maps (Fig. 8) for images or a dataset",
        description=__doc__,
    )
    p.add_argument("checkpoint", help="a model.safetensors written by mffcnn train")
    p.add_argument("images", nargs="*", metavar="IMAGE", help="image files or folders (cropped as in training)")
    p.add_argument(
        "--dataset",
        nargs="+",
        metavar=("NAME", "ROOT"),
        help="take faces from a dataset (its name, and its folder unless it is synthetic)",
    )
    p.add_argument(
        "--per-class", action="store_true", help="one random face per class of --dataset (the default with --dataset)"
    )
    p.add_argument("--index", type=values.INDEX, nargs="+", metavar="I", help="these faces of --dataset (0-based)")
    p.add_argument("--target", help="explain this class (name or index) instead of the predicted one")
    p.add_argument(
        "--score",
        choices=SCORES,
        default="logit",
        help="logit: each branch's class logit (default, Grad-CAM's choice); output: the model's "
        "output log-probability",
    )
    p.add_argument(
        "--style",
        choices=STYLES,
        default="overlay",
        help="overlay: heat map over the face (default); multiply: heat map times the face (the paper)",
    )
    p.add_argument("--seed", type=values.SEED, default=0, help="which random face per class")
    g = p.add_argument_group("dataset options")
    g.add_argument("--contempt", action="store_true", default=None, help="ckplus48: add the contempt class (7)")
    g.add_argument("--subject-regex", help="folder: regex whose group 'subject' (or 1) is the person in a file name")
    g.add_argument("--subjects", type=values.COUNT, help="synthetic: number of people (30)")
    g.add_argument("--data-seed", type=values.SEED, help="synthetic: seed of the generated faces (0)")
    common.add_run_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from mffcnn.studies.gradcam import gradcam

    dataset = root = None
    if args.dataset:
        if len(args.dataset) > 2:
            raise MffcnnError("--dataset takes a name and at most one folder; put image files before --dataset")
        dataset, root = args.dataset[0], (args.dataset[1] if len(args.dataset) == 2 else None)
    options = {
        "contempt": args.contempt,
        "subject_regex": args.subject_regex,
        "subjects": args.subjects,
        "seed": args.data_seed,
    }
    run_dir, r = gradcam(
        args.checkpoint,
        args.images,
        dataset=dataset,
        root=root,
        dataset_options=options,
        per_class=args.per_class,
        indices=args.index,
        target=args.target,
        score=args.score,
        style=args.style,
        options=common.study_options(args, ("seed", "project", "name")),
    )
    for s in r["samples"]:
        truth = f"true {s['label']}, " if s["label"] else ""
        print(
            f"{s['source']}: {truth}predicted {s['predicted']} ({100 * s['probabilities'][s['predicted']]:.1f} %), "
            f"target {s['target']}; {s['kept_vectors']} vectors kept, {s['discarded_vectors']} discarded "
            f"(max |weight| of discarded: {s['max_abs_weight_discarded']:g})"
        )
    if r["skipped"]:
        print(f"{r['skipped']} input(s) skipped (see warnings)")
    print(f"figures: {', '.join(str(run_dir / f) for f in r['figures'])}")
    return 0
