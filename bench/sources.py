"""The sources of the cross-source validation suite, and how one model is scored on each.

Shared by bench/cross_source.py (one checkpoint, one table) and bench/many_sources.py (the learning curves of
the recipe sweep). A source is a held-out set of faces from one collection:

| source | faces | classes |
|---|---|---|
| `ferplus_valid` | FER+ Valid, majority labels (web crops, grey 48×48) | 7 |
| `affectnet_valid` | the AffectNet cut's valid split (in the wild, every pose, 96×96) | 7 |
| `sfew_val` | SFEW 2.0 Val (film frames, aligned) | 7 |
| `ckplus48` | CK+48, every labelled frame (posed, a lab in Pittsburgh) | 6 |
| `jaffe` | JAFFE's 213 photos, neutral included (posed, Japanese women, a lab in Kyoto) | 7 |

A model is scored on the classes the source has: on CK+48, which has no neutral faces, the argmax runs over the
6 basic expressions (the usual rule of cross-dataset tests when label sets differ). What counts is the mean
per-class accuracy (every class's recall weighs alike), not accuracy, which rewards the majority class; the
**worst source** is the source with the lowest mean per-class accuracy among those the model was not trained
on. The lab sets are whole datasets, so a model that never saw them is tested on people and a lab it has never
seen (leave-one-lab-out).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mffcnn.data import load_dataset
from mffcnn.data.labels import EXPRESSIONS7, relabel
from mffcnn.report.metrics import confusion_counts, per_class_accuracy


@dataclass(frozen=True)
class Source:
    name: str
    dataset: str  # the loader
    options: dict
    what: str


SOURCES = {
    "ferplus_valid": Source("ferplus_valid", "ferplus", {"split": "valid", "labels": "majority"}, "FER+ Valid"),
    "affectnet_valid": Source("affectnet_valid", "affectnet", {"split": "valid"}, "AffectNet Valid"),
    "sfew_val": Source("sfew_val", "sfew", {"split": "val"}, "SFEW 2.0 Val"),
    "ckplus48": Source("ckplus48", "ckplus48", {}, "CK+48"),
    "jaffe": Source("jaffe", "jaffe", {"neutral": True, "augment": False}, "JAFFE"),
}
# Datasets that come as face crops, whole faces with little around them: aligned, each is a loose crop.
LOOSE_CROPS = {"ferplus", "affectnet", "sfew", "ckplus48"}
# The dataset folder each source reads, under the data root of ../shared/data's layout.
FOLDERS = {"ferplus": "ferplus", "affectnet": "affectnet", "sfew": "sfew2", "ckplus48": "ckplus48", "jaffe": "jaffe"}


def load_sources(roots: dict[str, str], names=None, face_options: dict | None = None) -> dict:
    """name → FaceSet in the 7-class label space, for every source whose dataset has a root.

    face_options: how every source's faces are cut instead of each dataset's own default, e.g.
    {"face_detector": "blazeface", "align": "eyes"} to score a model trained on aligned crops on aligned crops.
    With alignment the datasets that come as face crops (FER+, AffectNet, SFEW, CK+48) are treated as loose
    crops (the face is found inside each, then aligned) and the photos (JAFFE) as photos."""
    out = {}
    for name in names or SOURCES:
        s = SOURCES[name]
        if s.dataset not in roots:
            continue
        options = {**s.options, **(face_options or {})}
        if options.get("align") == "eyes" and s.dataset in LOOSE_CROPS:
            options["detect_face"] = False
        out[name] = relabel(load_dataset(s.dataset, roots[s.dataset], **options), list(EXPRESSIONS7))
    return out


def score(proba: np.ndarray, faceset) -> dict:
    """Accuracy, mean per-class accuracy and every class's recall of (n, 7) probabilities on a source, the
    argmax taken over the classes the source has."""
    present = np.flatnonzero(np.bincount(faceset.labels, minlength=len(faceset.class_names)))
    pred = present[proba[:, present].argmax(1)]
    counts = confusion_counts(faceset.labels, pred, len(faceset.class_names))
    recall = per_class_accuracy(counts)
    per_class = {faceset.class_names[c]: float(recall[c]) for c in present}
    return {
        "n": len(faceset),
        "accuracy": float((pred == faceset.labels).mean()),
        "mean_per_class": float(np.mean(list(per_class.values()))),
        "per_class": per_class,
        "confusion_matrix": counts.tolist(),
    }


def worst(scores: dict, trained_on=()) -> tuple[str, float] | None:
    """(source, mean per-class accuracy) of the worst source the model was not trained on."""
    held_out = {k: v for k, v in scores.items() if k not in trained_on}
    if not held_out:
        return None
    name = min(held_out, key=lambda k: held_out[k]["mean_per_class"])
    return name, held_out[name]["mean_per_class"]


def data_roots(data: str, only=None) -> dict[str, str]:
    """dataset → folder under a data root laid out as ../shared/data (missing folders are left out)."""
    from pathlib import Path

    root = Path(data)
    return {d: str(root / f) for d, f in FOLDERS.items() if (root / f).is_dir() and (only is None or d in only)}
