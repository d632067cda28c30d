"""`mffcnn train`: a final model on all of a dataset, saved as a self-describing checkpoint."""

from __future__ import annotations

from mffcnn.commands import common


def register(sub) -> None:
    p = sub.add_parser("train", help="train a final model on all of a dataset → runs/train/expN/model.safetensors")
    common.add_dataset_args(p, optional=True)  # optional only with --resume
    common.add_training_args(p)
    common.add_run_args(p)
    common.add_resume_arg(p, "training run")
    p.set_defaults(func=run)


def run(args) -> int:
    from mffcnn.studies.train import resume_train, train
    from mffcnn.train.distributed import is_main_process

    run_dir, ckpt = common.start_or_resume(args, "train", train, resume_train)
    if not is_main_process():
        return 0
    acc = ckpt.info["scores"]["train_accuracy"]
    print(
        f"trained on {ckpt.info['n_images']} images of {ckpt.info['dataset']} ({', '.join(ckpt.class_names)}); "
        f"training accuracy {100 * acc:.2f} %"
    )
    print(f"checkpoint: {run_dir / 'model.safetensors'}")
    return 0
