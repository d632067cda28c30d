"""`mffcnn train`: a final model on all of a dataset, saved as a self-describing checkpoint; resumable."""

from __future__ import annotations

import time
from pathlib import Path

import torch

from mffcnn.checkpoint import Checkpoint, save_checkpoint
from mffcnn.data.preprocess import for_predict
from mffcnn.errors import MffcnnError
from mffcnn.model import MFFCNNConfig
from mffcnn.progress import progress
from mffcnn.runs import machine_info, write_json
from mffcnn.studies._run import StudyOptions, find_run, init_factory, init_report, new_run, setup
from mffcnn.train.loop import fit, predict_proba
from mffcnn.train.recipes import Recipe


def train(
    dataset: str,
    root: str | Path | None = None,
    *,
    dataset_options: dict | None = None,
    model_config: MFFCNNConfig | None = None,
    run_dir: str | Path | None = None,
    options: StudyOptions | None = None,
    **option_values,
) -> tuple[Path, Checkpoint]:
    """Train a final model on all of a dataset (from the checkpoint options.init, if given)
    → run_dir/model.safetensors. options, or the same names as keywords: StudyOptions.

    The training state is saved after every epoch (run_dir/state.pt); `resume_train(run_dir)` continues an
    interrupted run to the same result as an uninterrupted one. The checkpoint carries the training crops'
    preprocessing with predict's detector (data.preprocess.for_predict): BlazeFace, unless the dataset
    option face_detector (--detector) names one."""
    options = StudyOptions.of(options, **option_values)
    s = setup(dataset, root, dataset_options, options)
    config = s.model_config(model_config)
    report = init_report(options.init, config, s.faceset, tested=False, verbose=options.verbose and s.dist.is_main)
    run_dir = Path(run_dir) if run_dir else new_run(options.project, "train", options.name, s.dist)
    recorded = {
        "command": options.command,
        "dataset": dataset,
        "root": str(root) if root is not None else None,
        "dataset_options": dataset_options or {},
        **options.to_dict(),
        "epochs": s.epochs,
        "model": config.to_dict(),
        "init_report": report,
    }
    if s.dist.is_main:
        write_json(run_dir / "options.json", recorded)
    faceset = s.faceset
    x = faceset.preprocessing.faces(faceset.images)
    y = torch.from_numpy(faceset.training_targets())
    start = time.perf_counter()
    state = run_dir / "state.pt"
    with progress(
        s.epochs, desc=f"train {faceset.name}", unit="epoch", disable=not (options.verbose and s.dist.is_main)
    ) as bar:
        if state.exists():
            bar.write(f"resuming {run_dir} from its last saved epoch")
        model = fit(
            x,
            y,
            s.training(config, options),
            state_path=state,
            init=init_factory(options.init, config, faceset.class_names),
            on_epoch=lambda e, loss: (bar.update(e + 1 - bar.n), bar.set_postfix(loss=f"{loss:.3f}")),
        )
    train_acc = float((predict_proba(model, x).argmax(1) == faceset.labels).mean())
    info = {
        **recorded,
        "dataset": faceset.name,
        "synthetic": faceset.synthetic,
        "n_images": len(faceset),
        "class_counts": faceset.class_counts(),
        "scores": {"train_accuracy": train_acc},
        "seconds": round(time.perf_counter() - start, 1),
        "world_size": s.dist.world,
        "machine": machine_info(),
    }
    ckpt = Checkpoint(
        model=model.cpu(),
        class_names=faceset.class_names,
        preprocessing=for_predict(faceset.preprocessing, (dataset_options or {}).get("face_detector") or "blazeface"),
        info=info,
    )
    if s.dist.is_main:
        save_checkpoint(run_dir / "model.safetensors", ckpt)
        write_json(run_dir / "options.json", info)
        state.unlink(missing_ok=True)
    return run_dir, ckpt


def resume_train(run_dir: str | Path | None = None, *, project: str | Path = "runs", verbose: bool = True):
    """Continue an interrupted `train` (the latest under project/train when run_dir is None)."""
    run_dir, o = find_run(run_dir, project, "train", "training run")
    if (run_dir / "model.safetensors").exists():
        raise MffcnnError(f"{run_dir} has finished (model.safetensors exists); nothing to resume")
    options = StudyOptions(
        recipe=Recipe(**o["recipe"]),
        epochs=o["epochs"],
        seed=o["seed"],
        device=o["device"],
        amp=o["amp"],
        init=o.get("init"),
        verbose=verbose,
        command=o["command"],
    )
    return train(
        o["dataset"],
        o["root"],
        dataset_options=o["dataset_options"],
        model_config=MFFCNNConfig.from_dict(o["model"]),
        run_dir=run_dir,
        options=options,
    )
