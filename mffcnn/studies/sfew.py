"""The SFEW 2.0 protocol (paper §4.6): pretrain on lab datasets, fine-tune on SFEW Train, test on Val.

"we first used all the samples collected from the CK+, JAFFE and Oulu-CASIA datasets to
pretrain our model. The training epoch was set to 30. Then, we trained our model with the
samples from the training set of the SFEW2.0 dataset for 200 epochs. Other experiment settings
remained the same as those in Section 4.2." Reported on the validation set: 40.83 % (Table 5),
per class in Fig. 7.

Choices where the paper is silent, and why:

* One 7-class label space (anger disgust fear happy neutral sadness surprise, labels.py) for
  both stages, so the pretrained network is fine-tuned whole, head included. The lab datasets
  are six-class; neutral comes from JAFFE's 30 neutral photos (and from CK+'s first frames
  when the original CK+ is given), which is why `neutral` is on by default: without it the
  pretrained head has never seen SFEW's largest and best-recognised class. Contempt (CK+) is
  not one of the seven and is left out.
* Each pretraining dataset is prepared as in its own experiment (JAFFE augmented ×8, faces
  found by Viola-Jones where the dataset needs it); SFEW's aligned faces are used whole.
* The fine-tuning stage restarts the recipe's schedule (§4.2: the learning rate decays 0.93 every
  3 epochs from its initial value).
* Oulu-CASIA is not available here: pretrain on what you have and the report says which.
* Pretraining may also come from FER+ (a --pretrain dataset, or a FER+ model as options.init): the
  paper's lab sets hold 2,400 faces, FER+ 28,000. SFEW itself may not pretrain: its Val faces would be
  seen before the test.
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from mffcnn import paper
from mffcnn.checkpoint import Checkpoint, save_checkpoint
from mffcnn.data import load_dataset
from mffcnn.data.datasets import DatasetSpec, option_names
from mffcnn.data.faceset import FaceSet
from mffcnn.data.labels import EXPRESSIONS7, relabel, union
from mffcnn.data.preprocess import for_predict
from mffcnn.errors import MffcnnError
from mffcnn.model import MFFCNN, MFFCNNConfig
from mffcnn.progress import progress
from mffcnn.report.figures import plot_confusion
from mffcnn.report.metrics import confusion_counts, per_class_accuracy
from mffcnn.report.sfew import report_markdown
from mffcnn.runs import code_version, machine_info, write_json
from mffcnn.studies._run import StudyOptions, init_report, new_run
from mffcnn.train.loop import Training, fit, predict_proba, resolve_device
from mffcnn.train.warm_start import PEOPLE, initialiser


def load_pretraining(sources: list[DatasetSpec], *, neutral: bool = True, cache=None, verbose: bool = True) -> FaceSet:
    """The union of the pretraining datasets in the 7-class space (with neutral where a dataset has it)."""
    facesets = []
    for s in sources:
        options = {"cache": cache, **s.options}
        if neutral and "neutral" in option_names(s.dataset):
            options.setdefault("neutral", True)
        fs = load_dataset(s.dataset, s.root, **options)
        if verbose:
            print(f"pretraining set {fs.name} ({s.root}):\n{fs.summary.table()}", file=sys.stderr)
        facesets.append(fs)
    return union(facesets, EXPRESSIONS7, name="+".join(s.dataset for s in sources))


def _fit(fs: FaceSet, training: Training, *, options: StudyOptions, init: MFFCNN | None = None, desc: str) -> MFFCNN:
    with progress(training.epochs, desc=desc, unit="epoch", disable=not options.verbose) as bar:
        return fit(
            fs.preprocessing.faces(fs.images),
            torch.from_numpy(fs.training_targets()),
            training,
            init=init,
            on_epoch=lambda e, loss: (bar.update(1), bar.set_postfix(loss=f"{loss:.3f}")),
        )


def _scores(model: MFFCNN, val: FaceSet) -> dict:
    pred = predict_proba(model, val.preprocessing.faces(val.images)).argmax(1)
    counts = confusion_counts(val.labels, pred, len(val.class_names))
    per_class = per_class_accuracy(counts)
    present = np.bincount(val.labels, minlength=len(val.class_names)) > 0
    return {
        "accuracy": float((pred == val.labels).mean()),
        "per_class_accuracy": {c: float(a) for c, a, p in zip(val.class_names, per_class, present) if p},
        "mean_per_class_accuracy": float(per_class[present].mean()),
        "confusion_matrix": counts.tolist(),
    }


def sfew_protocol(
    sfew_root: str | Path,
    *,
    pretrain: list[DatasetSpec | str] = (),
    neutral: bool = True,
    pretrain_epochs: int = paper.SFEW_PRETRAIN_EPOCHS,
    sfew_options: dict | None = None,
    baseline: bool = False,
    options: StudyOptions | None = None,
    **option_values,
) -> tuple[Path, dict]:
    """Pretrain on the union of `pretrain` (30 epochs), fine-tune on SFEW Train (200), test on Val.

    pretrain: DatasetSpecs or 'NAME:PATH[:key=value,…]' strings; none (and no init) trains on SFEW from scratch.
    options, or the same names as keywords (StudyOptions): epochs are the fine-tuning epochs (the paper's 200
    unless given); init is a checkpoint to start from instead of pretraining (any classes: rows by name).
    sfew_options: options for the SFEW loader (face options, cache); `split` is set by the protocol.
    baseline: also train from scratch on SFEW Train, to show what pretraining adds (doubles the time).
    Writes runs/sfew/expN/{options.json, results.json, report.md, confusion.png, model.safetensors}."""
    options = StudyOptions.of(options, **option_values)
    epochs = options.epochs if options.epochs is not None else paper.SFEW_FINETUNE_EPOCHS
    sources = [s if isinstance(s, DatasetSpec) else DatasetSpec.parse(s) for s in pretrain]
    if options.init is not None and sources:
        raise MffcnnError("give either pretraining datasets or a checkpoint to start from, not both")
    if epochs < 1 or pretrain_epochs < 1:
        raise MffcnnError("--epochs and --pretrain-epochs must be at least 1")
    recipe, seed, verbose = options.resolved_recipe(), options.seed, options.verbose
    for s in sources:
        option_names(s.dataset)  # an unknown name fails now, not after loading SFEW
        if PEOPLE.get(s.dataset) == PEOPLE["sfew"]:
            raise MffcnnError("SFEW cannot be in its own pretraining: Val's faces would be seen before the test")
    sfew_options = {k: v for k, v in (sfew_options or {}).items() if v is not None and k != "split"}
    train_fs = relabel(load_dataset("sfew", sfew_root, split="train", **sfew_options), EXPRESSIONS7)
    val_fs = relabel(load_dataset("sfew", sfew_root, split="val", **sfew_options), EXPRESSIONS7)
    if verbose:
        print(f"SFEW Train:\n{train_fs.summary.table()}\nSFEW Val:\n{val_fs.summary.table()}", file=sys.stderr)
    cfg = recipe.model_config(MFFCNNConfig(num_classes=len(EXPRESSIONS7)))

    def save(path: Path, model: MFFCNN, info: dict) -> None:  # a 7-class model as predict will use it
        save_checkpoint(path, Checkpoint(model, list(EXPRESSIONS7), for_predict(train_fs.preprocessing), info))

    training = Training(
        model_config=cfg,
        recipe=recipe,
        epochs=epochs,
        seed=seed,
        device=resolve_device(options.device),
        amp=options.amp,
    )
    timings: dict[str, float] = {}

    pre_fs, start_model = None, None
    if sources:
        pre_fs = load_pretraining(sources, neutral=neutral, cache=sfew_options.get("cache"), verbose=verbose)
        p, q = pre_fs.preprocessing, train_fs.preprocessing
        if (p.size, p.normalisation) != (q.size, q.normalisation):
            raise MffcnnError("the pretraining datasets and SFEW are prepared at different sizes or normalisations")
    elif options.init is not None:
        init_report(options.init, cfg, train_fs, tested=True, verbose=verbose)
        start_model = initialiser(options.init, cfg, list(EXPRESSIONS7))[0]()
    run_dir = new_run(options.project, "sfew", options.name)  # only once every input has loaded
    if pre_fs is not None:
        start = time.perf_counter()
        start_model = _fit(
            pre_fs, training.replace(epochs=pretrain_epochs), options=options, desc=f"pretrain {pre_fs.name}"
        )
        timings["pretrain_seconds"] = round(time.perf_counter() - start, 1)
        pretrained = {
            "stage": "pretrained (§4.6)",
            "datasets": [asdict(s) for s in sources],
            "seed": seed,
            "epochs": pretrain_epochs,
            "n_images": len(pre_fs),
            "class_counts": pre_fs.class_counts(),
        }
        save(run_dir / "pretrained.safetensors", start_model, pretrained)

    start = time.perf_counter()
    finetune = training.replace(seed=seed + 1)
    model = _fit(
        train_fs,
        finetune,
        options=options,
        init=start_model,
        desc="fine-tune on SFEW Train" if start_model else "SFEW Train",
    )
    timings["finetune_seconds"] = round(time.perf_counter() - start, 1)
    scores = _scores(model, val_fs)

    results = {
        "dataset": "sfew",
        "protocol": "pretrain → fine-tune on Train → test on Val (§4.6)",
        "class_names": list(EXPRESSIONS7),
        "pretraining": None
        if pre_fs is None
        else {
            "datasets": [asdict(s) for s in sources],
            "n_images": len(pre_fs),
            "class_counts": pre_fs.class_counts(),
            "epochs": pretrain_epochs,
            "neutral": neutral,
        },
        "init": str(options.init) if options.init else None,
        "n_train": len(train_fs),
        "n_val": len(val_fs),
        "train_class_counts": train_fs.class_counts(),
        "val_class_counts": val_fs.class_counts(),
        "val_dropped": val_fs.summary.dropped,
        **scores,
        "epochs": epochs,
        "recipe": recipe.to_dict(),
        "seed": seed,
        **timings,
        "paper": {
            "accuracy": paper.ACCURACY["sfew"] / 100,
            "per_class_accuracy": {k: v / 100 for k, v in paper.PER_CLASS["sfew"].items()},
        },
        "command": options.command,
        "machine": machine_info(),
    }
    if baseline:
        start = time.perf_counter()
        scratch = _fit(train_fs, finetune, options=options, desc="baseline: SFEW Train from scratch")
        results["baseline"] = {**_scores(scratch, val_fs), "seconds": round(time.perf_counter() - start, 1)}

    finetuned = {
        "dataset": "sfew",
        "stage": "fine-tuned on SFEW Train (§4.6)",
        "root": str(sfew_root),
        "pretrained_on": [s.dataset for s in sources],
        "init": results["init"],
        "n_images": len(train_fs),
        "epochs": epochs,
        "seed": seed,
        "scores": {"val_accuracy": scores["accuracy"]},
        "command": options.command,
        "machine": results["machine"],
    }
    save(run_dir / "model.safetensors", model, finetuned)
    write_json(
        run_dir / "options.json",
        {
            "command": options.command,
            "sfew_root": str(sfew_root),
            "sfew_options": sfew_options,
            "pretrain": [asdict(s) for s in sources],
            **options.to_dict(),
            "neutral": neutral,
            "pretrain_epochs": pretrain_epochs,
            "epochs": epochs,
            "model": cfg.to_dict(),
            "preprocessing": train_fs.preprocessing.to_dict(),
            "code": code_version(),
            "prepare_summary": {
                "train": train_fs.summary.to_dict(),
                "val": val_fs.summary.to_dict(),
                **({"pretrain": pre_fs.summary.to_dict()} if pre_fs is not None else {}),
            },
        },
    )
    write_json(run_dir / "results.json", results)
    plot_confusion(
        np.asarray(scores["confusion_matrix"]),
        list(EXPRESSIONS7),
        title=f"SFEW 2.0 Val: {100 * scores['accuracy']:.2f} % (paper {paper.ACCURACY['sfew']:.2f} %)",
        path=run_dir / "confusion.png",
    )
    (run_dir / "report.md").write_text(report_markdown(results))
    return run_dir, results


__all__ = ["load_pretraining", "sfew_protocol"]
