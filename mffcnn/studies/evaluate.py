"""`mffcnn evaluate`: a checkpoint's accuracy, per class and as a confusion matrix, on a dataset."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from mffcnn.checkpoint import load_checkpoint
from mffcnn.data import default_preprocessing, load_dataset
from mffcnn.report.figures import plot_confusion
from mffcnn.report.metrics import confusion_counts, per_class_accuracy
from mffcnn.runs import new_run_dir, write_json
from mffcnn.train.loop import predict_proba


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
    """Accuracy, per-class accuracy and confusion matrix of a checkpoint on a dataset → runs/evaluate/expN.

    The dataset's class names must be among the checkpoint's. Faces are cut as the checkpoint's
    preprocessing says (size, margin, detector settings, normalisation), but whether a face must
    be found first is the dataset's matter: a model trained on CK+48's aligned crops still needs
    Viola-Jones on JAFFE's whole photos (a detect_face dataset option overrides it)."""
    ckpt = load_checkpoint(checkpoint)
    preprocessing = ckpt.preprocessing.replace(detect_face=default_preprocessing(dataset).detect_face)
    faceset = load_dataset(dataset, root, preprocessing=preprocessing, **(dataset_options or {}))
    if verbose:
        print(faceset.summary.table(), file=sys.stderr)
    ckpt.require_classes(faceset.class_names)
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
    plot_confusion(
        counts,
        ckpt.class_names,
        title=f"{Path(checkpoint).name} on {faceset.name}: {100 * results['accuracy']:.2f} %",
        path=run_dir / "confusion.png",
    )
    return run_dir, results
