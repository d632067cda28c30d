"""`mffcnn train`: a final model on all of a dataset, saved as a self-describing checkpoint."""

from __future__ import annotations

from mffcnn.commands.common import add_dataset_args, add_run_args, add_training_args, command_line, dataset_options


def register(sub) -> None:
    p = sub.add_parser("train", help="train a final model on all of a dataset → runs/train/expN/model.safetensors")
    add_dataset_args(p)
    add_training_args(p)
    add_run_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from mffcnn import experiment

    run_dir, ckpt = experiment.train(
        args.dataset, args.root, recipe=args.recipe, epochs=args.epochs, lr=args.lr, seed=args.seed,
        dataset_options=dataset_options(args), project=args.project, name=args.name, verbose=not args.quiet,
        command=command_line(),
    )
    acc = ckpt.info["scores"]["train_accuracy"]
    print(f"trained on {ckpt.info['n_images']} images of {ckpt.info['dataset']} ({', '.join(ckpt.class_names)}); "
          f"training accuracy {100 * acc:.2f} %")
    print(f"checkpoint: {run_dir / 'model.safetensors'}")
    return 0
