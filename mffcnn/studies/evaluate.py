"""`mffcnn evaluate`: a checkpoint's accuracy, per class and as a confusion matrix, on a dataset."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from mffcnn.checkpoint import load_checkpoint
from mffcnn.data import default_preprocessing, load_dataset
from mffcnn.errors import warn
from mffcnn.report.figures import plot_confusion
from mffcnn.report.metrics import confusion_counts, per_class_accuracy
from mffcnn.runs import new_run_dir, write_json
from mffcnn.train.loop import predict_proba
from mffcnn.train.warm_start import shared_people


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
    seen = shared_people(ckpt, dataset)
    if seen:  # not refused (measuring a model on its own training data is a fair question), but said loudly
        warn(
            f"{checkpoint} was trained on {', '.join(seen)}, which holds the people of {dataset}: this accuracy is "
            "on faces (or people) the model has seen, not a test; results.json says so (seen_in_training)"
        )
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
        # The checkpoint's training data holds these people (train.warm_start.shared_people): not a test score.
        "seen_in_training": bool(seen),
        "trained_on": seen,
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
