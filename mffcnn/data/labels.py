"""One label space for every dataset: the 6 basic expressions and neutral (paper §4).

The paper's datasets name the same expressions differently (CK+ codes, JAFFE's AN/DI/…,
Oulu-CASIA's Happiness, SFEW's Angry/Sad, FER2013's codes). Every loader maps its names onto
our lower-case names, so datasets can be unioned into the 7-class space of SFEW 2.0 (§4.6:
pretraining on CK+ ∪ JAFFE ∪ Oulu-CASIA, then fine-tuning on SFEW). Class lists are kept in
alphabetical order, which is also the order of the paper's confusion matrices (Figs. 4–7).
"""

from __future__ import annotations

import numpy as np

from mffcnn.data.faceset import FaceSet, PrepareSummary
from mffcnn.errors import MffcnnError

BASIC6 = ["anger", "disgust", "fear", "happy", "sadness", "surprise"]  # §4: the six basic expressions
NEUTRAL = "neutral"
CONTEMPT = "contempt"  # CK+ only; not one of SFEW's seven
EXPRESSIONS7 = ["anger", "disgust", "fear", "happy", "neutral", "sadness", "surprise"]  # SFEW 2.0, Fig. 7

# Every spelling the paper's datasets (and common exports of them) use → our name.
ALIASES = {
    "anger": "anger",
    "angry": "anger",
    "an": "anger",
    "disgust": "disgust",
    "disgusted": "disgust",
    "di": "disgust",
    "fear": "fear",
    "fearful": "fear",
    "afraid": "fear",
    "scared": "fear",
    "fe": "fear",
    "happy": "happy",
    "happiness": "happy",
    "joy": "happy",
    "ha": "happy",
    "sadness": "sadness",
    "sad": "sadness",
    "sa": "sadness",
    "surprise": "surprise",
    "surprised": "surprise",
    "su": "surprise",
    "neutral": "neutral",
    "ne": "neutral",
    "contempt": "contempt",
}


def canonical(name: str) -> str | None:
    """Our name for an expression as a dataset spells it ('Angry' → 'anger'), or None."""
    return ALIASES.get(name.strip().lower())


def ordered(classes) -> list[str]:
    """Class names in our order (alphabetical, as the paper's figures)."""
    return sorted(set(classes))


def relabel(faceset: FaceSet, classes: list[str] = EXPRESSIONS7) -> FaceSet:
    """The faceset in another label space: its images of classes outside `classes` are left out
    (and said so in its notes); labels index into `classes`, even those it has no images of."""
    missing = [c for c in faceset.class_names if c not in classes]
    keep = np.isin(np.asarray(faceset.class_names)[faceset.labels], classes)
    to_new = np.array([classes.index(c) if c in classes else -1 for c in faceset.class_names])
    summary = PrepareSummary.from_dict(faceset.summary.to_dict())
    if missing:
        summary.notes.append(
            f"{int((~keep).sum())} images of {', '.join(missing)} left out: not in the label space {', '.join(classes)}"
        )
    idx = np.flatnonzero(keep)
    return FaceSet(
        name=faceset.name,
        class_names=list(classes),
        images=faceset.images[idx],
        labels=to_new[faceset.labels[idx]],
        subjects=faceset.subjects[idx],
        groups=faceset.groups[idx],
        paths=[faceset.paths[i] for i in idx],
        preprocessing=faceset.preprocessing,
        synthetic=faceset.synthetic,
        summary=summary,
        targets=None if faceset.targets is None else _map_targets(faceset.targets[idx], to_new, len(classes)),
    )


def _map_targets(targets: np.ndarray, to_new: np.ndarray, n_classes: int) -> np.ndarray:
    """Soft targets (n, C_old) → (n, C_new): each old column moves to its class's new place; mass on classes
    outside the new space (FER+'s contempt votes in the 7 classes) is dropped and each row renormalised."""
    out = np.zeros((len(targets), n_classes), np.float32)
    for old, new in enumerate(to_new):
        if new >= 0:
            out[:, new] += targets[:, old]
    return out / np.maximum(out.sum(1, keepdims=True), np.finfo(np.float32).tiny)


def union(facesets: list[FaceSet], classes: list[str] = EXPRESSIONS7, *, name: str | None = None) -> FaceSet:
    """Several datasets as one, in one label space. Subjects and groups are prefixed with the
    dataset's name, so two datasets' "S005" stay two people. The union keeps the first dataset's
    preprocessing record; all must share the face size and normalisation (each may crop its own way)."""
    if not facesets:
        raise MffcnnError("nothing to unite: no datasets given")
    first = facesets[0].preprocessing
    for fs in facesets[1:]:
        p = fs.preprocessing
        if (p.size, p.normalisation) != (first.size, first.normalisation):
            raise MffcnnError(
                f"{fs.name} is prepared at {p.size}×{p.size}/{p.normalisation}, "
                f"{facesets[0].name} at {first.size}×{first.size}/{first.normalisation}; they cannot be united"
            )
    parts = [relabel(fs, classes) for fs in facesets]
    summary = PrepareSummary()
    for c in classes:
        summary.classes[c]
    for fs in parts:
        counts = np.bincount(fs.labels, minlength=len(classes))
        for c, n in zip(classes, counts):
            summary.classes[c].found += int(n)
            summary.classes[c].kept += int(n)
        summary.notes += [f"{fs.name}: {n}" for n in fs.summary.notes]
        summary.notes.append(
            f"{fs.name}: {len(fs)} images ({', '.join(f'{c} {n}' for c, n in zip(classes, counts) if n)})"
        )
    soft = None
    if any(fs.targets is not None for fs in parts):  # one-hot rows for the datasets without soft targets
        eye = np.eye(len(classes), dtype=np.float32)
        soft = np.concatenate([eye[fs.labels] if fs.targets is None else fs.targets for fs in parts])
    return FaceSet(
        name=name or "+".join(fs.name for fs in facesets),
        class_names=list(classes),
        images=np.concatenate([fs.images for fs in parts]),
        labels=np.concatenate([fs.labels for fs in parts]),
        subjects=np.concatenate([np.char.add(f"{fs.name}/", fs.subjects.astype(str)) for fs in parts]),
        groups=np.concatenate([np.char.add(f"{fs.name}/", fs.groups.astype(str)) for fs in parts]),
        paths=[p for fs in parts for p in fs.paths],
        preprocessing=first,
        synthetic=any(fs.synthetic for fs in facesets),
        summary=summary,
        targets=soft,
    )
