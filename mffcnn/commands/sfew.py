"""`mffcnn sfew`: the SFEW 2.0 protocol (§4.6): pretrain, fine-tune on Train, test on Val.

Example: mffcnn sfew data/sfew2 --pretrain ckplus48:data/ckplus48 --pretrain jaffe:data/jaffe
"""

from __future__ import annotations

from mffcnn.commands import common, values
from mffcnn.errors import MffcnnError

HELP = "SFEW 2.0 (§4.6): pretrain on lab datasets (or FER+), fine-tune on SFEW Train, test on Val"


def register(sub) -> None:
    from mffcnn import paper

    p = sub.add_parser("sfew", help=HELP, description=__doc__)
    p.add_argument("root", help="the SFEW 2.0 folder (holding Train/ and Val/)")
    p.add_argument(
        "--pretrain",
        action="append",
        default=[],
        metavar="DATASET:PATH[:key=value,…]",
        help="a pretraining dataset (repeat it): ckplus, ckplus48, jaffe, oulu, ferplus, folder, … "
        "mapped into the 7 classes, with its loader's options after a colon (e.g. "
        "ferplus:data/ferplus:labels=votes); the paper used CK+, JAFFE and Oulu-CASIA",
    )
    p.add_argument(
        "--no-neutral",
        dest="neutral",
        action="store_false",
        help="do not add the pretraining datasets' neutral images (JAFFE's 30, CK+'s first frames)",
    )
    p.add_argument(
        "--pretrain-epochs",
        type=values.COUNT,
        default=paper.SFEW_PRETRAIN_EPOCHS,
        help=f"(default {paper.SFEW_PRETRAIN_EPOCHS}, §4.6)",
    )
    p.add_argument("--baseline", action="store_true", help="also train from scratch on SFEW Train, for comparison")
    common.add_training_args(
        p,
        epochs_help=f"on SFEW Train (default {paper.SFEW_FINETUNE_EPOCHS}, §4.6)",
        init_help="start from this checkpoint instead of pretraining (any classes: rows by class "
        "name), e.g. a FER+ model or an earlier run's pretrained.safetensors",
    )
    common.add_face_args(p)  # they apply to SFEW; pretraining datasets keep their own defaults
    common.add_run_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from mffcnn.errors import warn
    from mffcnn.studies.sfew import sfew_protocol

    check_pretrain(args.pretrain)
    if not args.pretrain and not args.init:
        warn("no --pretrain datasets and no --init: training on SFEW Train from scratch, unlike the paper")
    run_dir, r = sfew_protocol(
        args.root,
        pretrain=args.pretrain,
        neutral=args.neutral,
        pretrain_epochs=args.pretrain_epochs,
        baseline=args.baseline,
        sfew_options=common.face_options(args),
        options=common.study_options(args),
    )
    print(
        f"SFEW 2.0 Val: {100 * r['accuracy']:.2f} % on {r['n_val']} images (paper: {100 * r['paper']['accuracy']:.2f} %)"
    )
    for c, a in r["per_class_accuracy"].items():
        print(f"  {c:<9} {100 * a:6.2f} %   (paper {100 * r['paper']['per_class_accuracy'][c]:.2f} %)")
    if "baseline" in r:
        print(f"from scratch, no pretraining: {100 * r['baseline']['accuracy']:.2f} %")
    print(f"results: {run_dir}/report.md")
    return 0


def check_pretrain(specs: list[str]) -> None:
    """Every --pretrain names a known dataset and a folder that exists: checked before SFEW or any pretraining
    set is read (they load one after the other, and a typo in the last should not cost the first's time)."""
    from pathlib import Path

    from mffcnn.data.datasets import DatasetSpec, _check_name, needs_root

    for text in specs:
        spec = DatasetSpec.parse(text)
        _check_name(spec.dataset)
        if spec.root is not None and not Path(spec.root).expanduser().exists():
            raise MffcnnError(f"--pretrain {text!r}: {spec.root!r} does not exist")
        if spec.root is None and needs_root(spec.dataset):
            raise MffcnnError(f"--pretrain {text!r}: {spec.dataset} needs its folder (DATASET:PATH)")
