"""`mffcnn train`: a final model on all of a dataset, saved as a self-describing checkpoint."""

from __future__ import annotations

from mffcnn.commands.common import (
    add_dataset_args,
    add_run_args,
    add_training_args,
    dataset_options_from,
    study_options,
)


def register(sub) -> None:
    p = sub.add_parser("train", help="train a final model on all of a dataset → runs/train/expN/model.safetensors")
    add_dataset_args(p, optional=True)  # optional only with --resume
    add_training_args(p)
    add_run_args(p)
    p.add_argument("--resume", nargs="?", const="", metavar="RUN", help="continue an interrupted run (default: latest)")
    p.set_defaults(func=run)


def run(args) -> int:
    from mffcnn.errors import MffcnnError
    from mffcnn.studies.train import resume_train, train
    from mffcnn.train.distributed import is_main_process

    if args.resume is not None:
        run_dir, ckpt = resume_train(args.resume or None, project=args.project, verbose=not args.quiet)
    elif args.dataset is None:
        raise MffcnnError("train needs a dataset (e.g. mffcnn train synthetic) or --resume")
    else:
        run_dir, ckpt = train(
            args.dataset, args.root, dataset_options=dataset_options_from(args), options=study_options(args)
        )
    if not is_main_process():
        return 0
    acc = ckpt.info["scores"]["train_accuracy"]
    print(
        f"trained on {ckpt.info['n_images']} images of {ckpt.info['dataset']} ({', '.join(ckpt.class_names)}); "
        f"training accuracy {100 * acc:.2f} %"
    )
    print(f"checkpoint: {run_dir / 'model.safetensors'}")
    return 0
