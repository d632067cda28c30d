"""`mffcnn sfew`: the SFEW 2.0 protocol (§4.6): pretrain, fine-tune on Train, test on Val."""

from __future__ import annotations

from mffcnn.commands.common import add_face_args, add_run_args, command_line, face_options


def register(sub) -> None:
    from mffcnn.train.recipes import DEFAULT_RECIPE, RECIPES
    from mffcnn.transfer import FINETUNE_EPOCHS, PRETRAIN_EPOCHS

    p = sub.add_parser(
        "sfew", help="SFEW 2.0 (§4.6): pretrain on lab datasets, fine-tune on SFEW Train, test on Val",
        description="Example: mffcnn sfew data/sfew2 --pretrain ckplus48:data/ckplus48 --pretrain jaffe:data/jaffe",
    )
    p.add_argument("root", help="the SFEW 2.0 folder (holding Train/ and Val/)")
    p.add_argument("--pretrain", action="append", default=[], metavar="DATASET:PATH",
                   help="a pretraining dataset (repeat it): ckplus, ckplus48, jaffe, oulu, folder, … "
                        "mapped into the 7 classes; the paper used CK+, JAFFE and Oulu-CASIA")
    p.add_argument("--init", metavar="CHECKPOINT",
                   help="start from this 7-class checkpoint instead of pretraining (e.g. pretrained.safetensors "
                        "of an earlier run)")
    p.add_argument("--no-neutral", dest="neutral", action="store_false",
                   help="do not add the pretraining datasets' neutral images (JAFFE's 30, CK+'s first frames)")
    p.add_argument("--pretrain-epochs", type=int, default=PRETRAIN_EPOCHS, help=f"(default {PRETRAIN_EPOCHS}, §4.6)")
    p.add_argument("--epochs", type=int, default=FINETUNE_EPOCHS, help=f"on SFEW Train (default {FINETUNE_EPOCHS})")
    p.add_argument("--baseline", action="store_true", help="also train from scratch on SFEW Train, for comparison")
    p.add_argument("--recipe", choices=list(RECIPES), default=DEFAULT_RECIPE)
    p.add_argument("--lr", type=float, help="initial learning rate of both stages")
    p.add_argument("--seed", type=int, default=0)
    add_face_args(p)  # they apply to SFEW; pretraining datasets keep their own defaults
    add_run_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from mffcnn.errors import warn
    from mffcnn.transfer import sfew_protocol

    if not args.pretrain and not args.init:
        warn("no --pretrain datasets and no --init: training on SFEW Train from scratch, unlike the paper")
    opts = face_options(args)
    run_dir, r = sfew_protocol(
        args.root, pretrain=args.pretrain, init=args.init, neutral=args.neutral, pretrain_epochs=args.pretrain_epochs,
        epochs=args.epochs, recipe=args.recipe, lr=args.lr, seed=args.seed, baseline=args.baseline,
        sfew_options=opts, project=args.project, name=args.name, verbose=not args.quiet, command=command_line(),
    )
    print(f"SFEW 2.0 Val: {100 * r['accuracy']:.2f} % on {r['n_val']} images (paper: {100 * r['paper']['accuracy']:.2f} %)")
    for c, a in r["per_class_accuracy"].items():
        print(f"  {c:<9} {100 * a:6.2f} %   (paper {100 * r['paper']['per_class_accuracy'][c]:.2f} %)")
    if "baseline" in r:
        print(f"from scratch, no pretraining: {100 * r['baseline']['accuracy']:.2f} %")
    print(f"results: {run_dir}/report.md")
    return 0
