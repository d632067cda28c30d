"""The library behind `mffcnn cv`, `train` and `evaluate`: one function each.

Each makes a numbered run folder (runs/<mode>/expN) holding its resolved options, and can be
resumed: `cross_validate` skips finished folds and continues the one in progress, `train`
continues from its last epoch. Under torchrun they train with DDP; only rank 0 writes files.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from mffcnn.data import load_dataset
from mffcnn.data.preprocess import Preprocessing, for_predict
from mffcnn.errors import MffcnnError
from mffcnn.model import MFFCNNConfig
from mffcnn.report.report import cv_results, write_protocol_report, write_run_report
from mffcnn.runs import code_version, latest_run, machine_info, new_run_dir, read_json, write_json
from mffcnn.train import distributed
from mffcnn.train.cv import PROTOCOLS, dataset_fingerprint, n_params, run_cv
from mffcnn.train.loop import fit, predict_proba, resolve_device
from mffcnn.train.recipes import DEFAULT_RECIPE, Recipe, epochs_for, get_recipe

if TYPE_CHECKING:
    from mffcnn.train.checkpoint import Checkpoint

SPREADS = ("batches", "folds")


def _setup(dataset, root, dataset_options, recipe, lr, epochs, model_config, device, verbose):
    """What cv and train share: the dataset, the recipe, the model config, the device and the ranks."""
    device = resolve_device(device)
    dist = distributed.from_env(device)
    if dist.active and device.type == "cuda":
        device = torch.device("cuda", dist.local_rank)
    recipe = (get_recipe(recipe) if isinstance(recipe, str) else recipe).with_(lr=lr)
    faceset = load_dataset(dataset, root, **(dataset_options or {}))
    if verbose and dist.is_main:
        print(faceset.summary.table(), file=sys.stderr)
    epochs = epochs or epochs_for(recipe, faceset.name)
    model_config = recipe.model_config((model_config or MFFCNNConfig()).replace(num_classes=len(faceset.class_names)))
    return device, dist, recipe, faceset, epochs, model_config


def _new_run(project, mode: str, name: str, dist) -> Path:
    """Rank 0 makes the numbered folder; every rank gets its path."""
    return Path(distributed.broadcast_object(str(new_run_dir(project, mode, name)) if dist.is_main else None, dist))


def cross_validate(
    dataset: str,
    root: str | Path | None = None,
    *,
    protocol: str = "both",
    folds: int = 10,
    recipe: str | Recipe = DEFAULT_RECIPE,
    epochs: int | None = None,
    lr: float | None = None,
    seed: int = 0,
    dataset_options: dict | None = None,
    model_config: MFFCNNConfig | None = None,
    device: str = "auto",
    amp: bool = False,
    spread: str = "batches",
    init: str | Path | None = None,
    project: str | Path = "runs",
    name: str = "exp",
    verbose: bool = True,
    command: str | None = None,
) -> tuple[Path, list[dict]]:
    """Run 10-fold CV of MFF-CNN on a dataset; returns the run folder and one result per protocol.

    init: a checkpoint every fold starts from (pretrain → fine-tune; mffcnn.train.warm_start), which
    must not have been trained on the dataset's people."""
    protocols = list(PROTOCOLS) if protocol == "both" else [protocol]
    if any(p not in PROTOCOLS for p in protocols):
        raise MffcnnError(f"unknown protocol {protocol!r}; choose from random, subject, both")
    if folds < 2:
        raise MffcnnError("--folds must be at least 2")
    if spread not in SPREADS:
        raise MffcnnError(f"unknown spread {spread!r}; choose from {', '.join(SPREADS)}")
    device_, dist, recipe, faceset, epochs, model_config = _setup(
        dataset, root, dataset_options, recipe, lr, epochs, model_config, device, verbose)
    init_report = _init_report(init, model_config, faceset, tested=True, verbose=verbose and dist.is_main)
    run_dir = _new_run(project, "cv", name, dist)
    options = {
        "command": command or f"mffcnn.cross_validate({dataset!r}, {str(root) if root else None!r}, ...)",
        "dataset": dataset,
        "root": str(root) if root is not None else None,
        "dataset_options": dataset_options or {},
        "protocols": protocols,
        "folds": folds,
        "recipe": recipe.to_dict(),
        "epochs": epochs,
        "seed": seed,
        "device": device,
        "amp": amp,
        "spread": spread,
        "init": str(init) if init else None,
        "init_report": init_report,
        "world_size": dist.world,
        "model": model_config.to_dict(),
        "preprocessing": faceset.preprocessing.to_dict(),
        "fingerprint": dataset_fingerprint(faceset),
        "class_names": faceset.class_names,
        "prepare_summary": faceset.summary.to_dict(),
        "code": code_version(),
        "machine": machine_info(),
    }
    if dist.is_main:
        write_json(run_dir / "options.json", options)
    return run_dir, _run_cv(run_dir, faceset, options, device_, dist, verbose=verbose)


def resume(run_dir: str | Path | None = None, *, project: str | Path = "runs", verbose: bool = True):
    """Finish an interrupted cross-validation (the latest under project/cv when run_dir is None)."""
    run_dir = Path(run_dir) if run_dir else latest_run(project, "cv")
    if run_dir is None or not (run_dir / "options.json").exists():
        raise MffcnnError(f"no run to resume{' at ' + str(run_dir) if run_dir else ' under ' + str(project) + '/cv'}")
    options = read_json(run_dir / "options.json")
    device = resolve_device(options.get("device", "auto"))
    dist = distributed.from_env(device)
    faceset = load_dataset(options["dataset"], options["root"],
                           preprocessing=Preprocessing.from_dict(options["preprocessing"]),
                           **options["dataset_options"])
    if dataset_fingerprint(faceset) != options["fingerprint"]:
        raise MffcnnError(f"the dataset at {options['root']} changed since {run_dir} started; start a new run")
    if verbose and dist.is_main:
        print(f"resuming {run_dir}", file=sys.stderr)
    return run_dir, _run_cv(run_dir, faceset, options, device, dist, verbose=verbose)


def _init_report(init, model_config: MFFCNNConfig, faceset, *, tested: bool, verbose: bool) -> dict | None:
    """Check a --init checkpoint before any run folder exists, and say what it loads."""
    if not init:
        return None
    from mffcnn.train.warm_start import initialiser

    _, report = initialiser(init, model_config, faceset.class_names, tested_on=faceset.name if tested else None)
    if verbose:
        print(report.line(), file=sys.stderr)
    return report.to_dict()


def _init(options: dict, model_config: MFFCNNConfig, class_names: list[str]):
    """The model factory of a run's --init (None without one)."""
    if not options.get("init"):
        return None
    from mffcnn.train.warm_start import initialiser

    return initialiser(options["init"], model_config, class_names)[0]


def _run_cv(run_dir: Path, faceset, options: dict, device, dist, *, verbose: bool) -> list[dict]:
    model_config = MFFCNNConfig.from_dict(options["model"])
    recipe = Recipe(**options["recipe"])
    init = _init(options, model_config, faceset.class_names)
    params = n_params(model_config)
    all_results = []
    for protocol in options["protocols"]:
        out = run_dir / protocol
        start = time.perf_counter()
        folds = run_cv(faceset, out, protocol=protocol, n_folds=options["folds"], model_config=model_config,
                       recipe=recipe, epochs=options["epochs"], seed=options["seed"], verbose=verbose,
                       device=device, amp=options.get("amp", False), dist=dist,
                       spread=options.get("spread", "batches"), init=init)
        results = cv_results(faceset, folds, protocol=protocol, params=params, extra={
            "recipe": recipe.name, "epochs": options["epochs"], "seed": options["seed"],
            "init": options.get("init"), "world_size": dist.world, "device": str(device),
            "wall_seconds_this_session": round(time.perf_counter() - start, 2), "machine": options["machine"],
        })
        if dist.is_main:
            write_protocol_report(out, results)
        all_results.append(results)
    if dist.is_main:
        write_run_report(run_dir, all_results, options)
    return all_results


def train(
    dataset: str,
    root: str | Path | None = None,
    *,
    recipe: str | Recipe = DEFAULT_RECIPE,
    epochs: int | None = None,
    lr: float | None = None,
    seed: int = 0,
    dataset_options: dict | None = None,
    model_config: MFFCNNConfig | None = None,
    device: str = "auto",
    amp: bool = False,
    project: str | Path = "runs",
    name: str = "exp",
    run_dir: str | Path | None = None,
    init: str | Path | None = None,
    verbose: bool = True,
    command: str | None = None,
) -> tuple[Path, "Checkpoint"]:
    """Train a final model on all of a dataset (starting from the checkpoint `init`, if given)
    → run_dir/model.safetensors.

    The training state is saved after every epoch (run_dir/state.pt); `resume_train(run_dir)`
    continues an interrupted run to the same result as an uninterrupted one."""
    from tqdm import tqdm

    from mffcnn.train.checkpoint import Checkpoint, save_checkpoint

    device_, dist, recipe, faceset, epochs, model_config = _setup(
        dataset, root, dataset_options, recipe, lr, epochs, model_config, device, verbose)
    init_report = _init_report(init, model_config, faceset, tested=False, verbose=verbose and dist.is_main)
    run_dir = Path(run_dir) if run_dir else _new_run(project, "train", name, dist)
    options = {
        "command": command,
        "dataset": dataset,
        "root": str(root) if root is not None else None,
        "dataset_options": dataset_options or {},
        "recipe": recipe.to_dict(),
        "epochs": epochs,
        "seed": seed,
        "device": device,
        "amp": amp,
        "model": model_config.to_dict(),
        "init": str(init) if init else None,
        "init_report": init_report,
    }
    if dist.is_main:
        write_json(run_dir / "options.json", options)
    x = faceset.preprocessing.faces(faceset.images)
    y = torch.from_numpy(faceset.training_targets())
    start = time.perf_counter()
    state = run_dir / "state.pt"
    with tqdm(total=epochs, desc=f"train {faceset.name}", unit="epoch", disable=not (verbose and dist.is_main)) as bar:
        if state.exists():
            bar.write(f"resuming {run_dir} from its last saved epoch")
        model = fit(x, y, model_config=model_config, recipe=recipe, epochs=epochs, seed=seed, device=device_,
                    amp=amp, dist=dist, state_path=state, init=_init(options, model_config, faceset.class_names),
                    on_epoch=lambda e, loss: (bar.update(e + 1 - bar.n), bar.set_postfix(loss=f"{loss:.3f}")))
    train_acc = float((predict_proba(model, x).argmax(1) == faceset.labels).mean())
    info = {
        **options,
        "dataset": faceset.name,
        "synthetic": faceset.synthetic,
        "n_images": len(faceset),
        "class_counts": faceset.class_counts(),
        "scores": {"train_accuracy": train_acc},
        "seconds": round(time.perf_counter() - start, 1),
        "world_size": dist.world,
        "machine": machine_info(),
    }
    ckpt = Checkpoint(model=model.cpu(), class_names=faceset.class_names,
                      preprocessing=for_predict(faceset.preprocessing), info=info)
    if dist.is_main:
        save_checkpoint(run_dir / "model.safetensors", ckpt)
        write_json(run_dir / "options.json", info)
        state.unlink(missing_ok=True)
    return run_dir, ckpt


def resume_train(run_dir: str | Path | None = None, *, project: str | Path = "runs", verbose: bool = True):
    """Continue an interrupted `train` (the latest under project/train when run_dir is None)."""
    run_dir = Path(run_dir) if run_dir else latest_run(project, "train")
    if run_dir is None or not (run_dir / "options.json").exists():
        raise MffcnnError(f"no training run to resume{' at ' + str(run_dir) if run_dir else ''}")
    if (run_dir / "model.safetensors").exists():
        raise MffcnnError(f"{run_dir} has finished (model.safetensors exists); nothing to resume")
    o = read_json(run_dir / "options.json")
    return train(o["dataset"], o["root"], recipe=Recipe(**o["recipe"]), epochs=o["epochs"], seed=o["seed"],
                 dataset_options=o["dataset_options"], model_config=MFFCNNConfig.from_dict(o["model"]),
                 device=o["device"], amp=o["amp"], run_dir=run_dir, init=o.get("init"), verbose=verbose,
                 command=o["command"])


def evaluate(
    checkpoint: str | Path,
    dataset: str,
    root: str | Path | None = None,
    *,
    dataset_options: dict | None = None,
    project: str | Path = "runs",
    name: str = "exp",
    verbose: bool = True,
) -> tuple[Path, dict]:
    """Accuracy, per-class accuracy and confusion matrix of a checkpoint on a dataset.

    The dataset's class names must be among the checkpoint's. Faces are cut as the checkpoint's
    preprocessing says (size, margin, detector settings, normalisation), but whether a face must
    be found first is the dataset's matter: a model trained on CK+48's aligned crops still needs
    Viola-Jones on JAFFE's whole photos (a detect_face dataset option overrides it)."""
    import numpy as np

    from mffcnn.data import default_preprocessing
    from mffcnn.report.figures import plot_confusion
    from mffcnn.report.metrics import confusion_counts, per_class_accuracy
    from mffcnn.train.checkpoint import load_checkpoint

    ckpt = load_checkpoint(checkpoint)
    preprocessing = ckpt.preprocessing.replace(detect_face=default_preprocessing(dataset).detect_face)
    faceset = load_dataset(dataset, root, preprocessing=preprocessing, **(dataset_options or {}))
    if verbose:
        print(faceset.summary.table(), file=sys.stderr)
    unknown = [c for c in faceset.class_names if c not in ckpt.class_names]
    if unknown:
        raise MffcnnError(f"the model does not know the class(es) {', '.join(unknown)}; it has {', '.join(ckpt.class_names)}")
    to_model = np.array([ckpt.class_names.index(c) for c in faceset.class_names])
    y_true = to_model[faceset.labels]
    y_pred = predict_proba(ckpt.model, ckpt.preprocessing.faces(faceset.images)).argmax(1)
    counts = confusion_counts(y_true, y_pred, len(ckpt.class_names))
    present = sorted(set(y_true.tolist()))
    per_class = per_class_accuracy(counts)
    results = {
        "checkpoint": str(checkpoint),
        "dataset": faceset.name,
        "synthetic": faceset.synthetic,
        "class_names": ckpt.class_names,
        "n_images": len(faceset),
        "accuracy": float((y_true == y_pred).mean()),
        "per_class_accuracy": {ckpt.class_names[i]: float(per_class[i]) for i in present},
        "confusion_matrix": counts.tolist(),
    }
    run_dir = new_run_dir(project, "evaluate", name)
    write_json(run_dir / "results.json", results)
    plot_confusion(counts, ckpt.class_names, title=f"{Path(checkpoint).name} on {faceset.name}: "
                   f"{100 * results['accuracy']:.2f} %", path=run_dir / "confusion.png")
    return run_dir, results
