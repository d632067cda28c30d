"""The in-memory dataset every protocol runs on, and how loaders build it.

A dataset module (ckplus48.py, folder.py, …) knows its native layout and yields Records:
where an image is, its class, its subject, and the photo it came from. `build_faceset` reads
and crops them, warns about each file it cannot use, and counts everything per class, so
nothing is dropped without being counted.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from mffcnn.data.face import NoFaceError
from mffcnn.data.images import ImageError, read_grey
from mffcnn.data.preprocess import Preprocessing
from mffcnn.errors import MffcnnError, warn


@dataclass
class Record:
    path: str
    label: str  # class name
    subject: str  # the person: subject-independent folds never split one
    group: str | None = None  # the source photo (augmented copies share it); defaults to path
    image: np.ndarray | None = None  # an image already in memory (synthetic, csv datasets)


@dataclass
class ClassSummary:
    found: int = 0
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)  # reason → count
    whole_image: int = 0  # kept, but no face was found and the whole image stands in


@dataclass
class PrepareSummary:
    classes: dict[str, ClassSummary] = field(default_factory=lambda: defaultdict(ClassSummary))
    notes: list[str] = field(default_factory=list)  # dataset-level remarks (e.g. an empty class folder)

    def drop(self, label: str, reason: str) -> None:
        self.classes[label].found += 1
        self.classes[label].dropped[reason] += 1

    def keep(self, label: str) -> None:
        self.classes[label].found += 1
        self.classes[label].kept += 1

    @property
    def kept(self) -> int:
        return sum(c.kept for c in self.classes.values())

    @property
    def dropped(self) -> int:
        return sum(sum(c.dropped.values()) for c in self.classes.values())

    def table(self) -> str:
        """Per class: found, kept, dropped and why — what `prepare` and `cv` print."""
        width = max([len("class"), *map(len, self.classes)])
        lines = [f"{'class':<{width}}  found   kept  dropped"]
        for name, c in self.classes.items():
            why = ", ".join(f"{n} {reason}" for reason, n in c.dropped.most_common())
            if c.whole_image:
                why = ", ".join(filter(None, [why, f"{c.whole_image} kept as whole image (no face found)"]))
            lines.append(f"{name:<{width}}  {c.found:5d}  {c.kept:5d}  {sum(c.dropped.values()):7d}  {why}".rstrip())
        lines.append(f"{'total':<{width}}  {self.kept + self.dropped:5d}  {self.kept:5d}  {self.dropped:7d}")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "classes": {
                k: {"found": c.found, "kept": c.kept, "dropped": dict(c.dropped), "whole_image": c.whole_image}
                for k, c in self.classes.items()
            },
            "notes": list(self.notes),
        }


@dataclass
class FaceSet:
    name: str
    class_names: list[str]
    images: np.ndarray  # (n, 60, 60) uint8 faces
    labels: np.ndarray  # (n,) int64 indices into class_names
    subjects: np.ndarray  # (n,) str
    groups: np.ndarray  # (n,) str
    paths: list[str]
    preprocessing: Preprocessing
    synthetic: bool = False
    summary: PrepareSummary = field(default_factory=PrepareSummary)

    def __len__(self) -> int:
        return len(self.labels)

    def class_counts(self) -> dict[str, int]:
        counts = np.bincount(self.labels, minlength=len(self.class_names))
        return dict(zip(self.class_names, counts.tolist()))


def build_faceset(
    name: str,
    class_names: list[str],
    records: Iterable[Record],
    *,
    preprocessing: Preprocessing,
    summary: PrepareSummary | None = None,
    synthetic: bool = False,
) -> FaceSet:
    """Read, crop (Preprocessing.crop) and collect records; per-file problems become warnings and counts."""
    summary = summary or PrepareSummary()
    for c in class_names:
        summary.classes[c]  # every requested class shows in the table, even with nothing found
    faces, labels, subjects, groups, paths = [], [], [], [], []
    index = {c: i for i, c in enumerate(class_names)}
    for r in records:
        try:
            grey = r.image if r.image is not None else read_grey(r.path)
            face, found = preprocessing.crop_or_whole(grey)
        except NoFaceError:
            warn(f"{r.path}: no face found; skipped")
            summary.drop(r.label, "no face found")
            continue
        except ImageError as e:
            warn(f"{r.path}: {e}; skipped")
            summary.drop(r.label, "unreadable")
            continue
        summary.keep(r.label)
        if not found:
            summary.classes[r.label].whole_image += 1
        faces.append(face)
        labels.append(index[r.label])
        subjects.append(r.subject)
        groups.append(r.group or r.path)
        paths.append(r.path)

    empty = [c for c in class_names if summary.classes[c].kept == 0]
    for c in empty:
        summary.notes.append(f"class {c!r} has no usable images and is left out")
    kept_classes = [c for c in class_names if c not in empty]
    if len(kept_classes) < 2:
        raise MffcnnError(
            f"{name}: need images of at least 2 classes, found usable images for {len(kept_classes)}"
            + (f" ({', '.join(kept_classes)})" if kept_classes else "")
        )
    if empty:  # re-index labels onto the classes that remain
        remap = {index[c]: i for i, c in enumerate(kept_classes)}
        labels = [remap[l] for l in labels]
        for note in summary.notes[-len(empty):]:
            warn(note)
    size = preprocessing.size
    return FaceSet(
        name=name,
        class_names=kept_classes,
        images=np.stack(faces).astype(np.uint8) if faces else np.zeros((0, size, size), np.uint8),
        labels=np.asarray(labels, dtype=np.int64),
        subjects=np.asarray(subjects, dtype=str),
        groups=np.asarray(groups, dtype=str),
        paths=paths,
        preprocessing=preprocessing,
        synthetic=synthetic,
        summary=summary,
    )
