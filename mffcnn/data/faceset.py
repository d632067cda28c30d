"""The in-memory dataset every protocol runs on, and how loaders build it.

A dataset module (ckplus.py, jaffe.py, …) knows its native layout and yields Records: where
an image is, its class, its subject, and the photo it came from. `build_faceset` reads and
crops them (paper §4.1: Viola-Jones, 60×60), optionally augments them (§4.1, JAFFE), warns
about each file it cannot use, and counts everything per class, so nothing is dropped without
being counted.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from mffcnn.data.face import NoFaceError
from mffcnn.data.images import ImageError, read_grey
from mffcnn.data.preprocess import Preprocessing
from mffcnn.errors import MffcnnError, warn

if TYPE_CHECKING:
    from mffcnn.data.augment import Augmentation

# The summary row for files that carry no usable label (malformed names, unknown codes, …):
# they belong to no class, but they are counted, never silently lost.
UNLABELLED = "(no label)"

# A source image whose grey levels have a standard deviation below this is one flat colour:
# no face, no expression (SFEW 2.0 Val holds 12 all-black failed alignments, FER2013 a few
# blank frames). Real but very dark faces in SFEW have 1.4 and above, so they stay.
BLANK_STD = 1.0

# Per-file warnings of one kind printed before the rest are only counted (a broken 35,887-row
# FER2013 csv must not bury the terminal); the summary counts every one of them.
MAX_WARNINGS_PER_REASON = 25


@dataclass
class Record:
    path: str
    label: str  # class name
    subject: str  # the person: subject-independent folds never split one
    group: str | None = None  # the source photo or sequence (augmented copies share it); defaults to path
    image: np.ndarray | None = None  # an image already in memory (synthetic, csv datasets)
    target: np.ndarray | None = None  # a soft target over the dataset's classes (FER+ votes); None: one-hot


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
    warnings: list[str] = field(default_factory=list)  # every per-file warning, replayed on a cache hit
    views: int = 1  # images per kept photo (8 with the paper's JAFFE augmentation)

    def drop(self, label: str, reason: str) -> None:
        self.classes[label].found += 1
        self.classes[label].dropped[reason] += 1

    def skip(self, label: str, reason: str, message: str) -> None:
        """Drop one file: warn (`path: why; skipped`), remember the warning and count it under `reason`."""
        shown = sum(c.dropped[reason] for c in self.classes.values())
        self.drop(label, reason)
        self.warnings.append(message)
        if shown < MAX_WARNINGS_PER_REASON:
            warn(message)
        elif shown == MAX_WARNINGS_PER_REASON:
            warn(f"more files dropped as {reason!r}; the rest are counted in the summary, not shown")

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
        images = self.views > 1  # with augmentation, also the number of images the network sees
        head = f"{'class':<{width}}  found   kept" + ("  images" if images else "") + "  dropped"
        lines = [head]

        def row(name, found, kept, dropped, why=""):
            extra = f"  {kept * self.views:6d}" if images else ""
            return f"{name:<{width}}  {found:5d}  {kept:5d}{extra}  {dropped:7d}  {why}".rstrip()

        for name, c in self.classes.items():
            why = ", ".join(f"{n} {reason}" for reason, n in c.dropped.most_common())
            if c.whole_image:
                why = ", ".join(filter(None, [why, f"{c.whole_image} kept as whole image (no face found)"]))
            lines.append(row(name, c.found, c.kept, sum(c.dropped.values()), why))
        lines.append(row("total", self.kept + self.dropped, self.kept, self.dropped))
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "classes": {
                k: {"found": c.found, "kept": c.kept, "dropped": dict(c.dropped), "whole_image": c.whole_image}
                for k, c in self.classes.items()
            },
            "notes": list(self.notes),
            "warnings": list(self.warnings),
            "views": self.views,
        }

    @classmethod
    def from_dict(cls, d: dict) -> PrepareSummary:
        s = cls(notes=list(d.get("notes", [])), warnings=list(d.get("warnings", [])), views=d.get("views", 1))
        for k, c in d.get("classes", {}).items():
            s.classes[k] = ClassSummary(c["found"], c["kept"], Counter(c["dropped"]), c.get("whole_image", 0))
        return s


@dataclass
class FaceSet:
    name: str
    class_names: list[str]
    images: np.ndarray  # (n, 60, 60) uint8 faces
    labels: np.ndarray  # (n,) int64 indices into class_names
    subjects: np.ndarray  # (n,) str
    groups: np.ndarray  # (n,) str
    paths: list[str]  # source file of each face; an augmented copy is `file#flip`, `file#rot+5`, …
    preprocessing: Preprocessing
    synthetic: bool = False
    summary: PrepareSummary = field(default_factory=PrepareSummary)
    cache: str | None = None  # the cache file it was read from or written to (mffcnn.data.cache)
    from_cache: bool = False
    # (n, C) float32 soft targets, each row a distribution over class_names (FER+'s ten annotators'
    # votes, Barsoum et al. 2016); None: every face counts for its label alone. `labels` stays the
    # hard label (the top vote) that folds are stratified on and accuracy is measured against.
    targets: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def training_targets(self) -> np.ndarray:
        """(n,) int64 labels, or the (n, C) float32 soft targets when the dataset has them."""
        return self.labels if self.targets is None else self.targets

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
    augmentation: Augmentation | None = None,
) -> FaceSet:
    """Read, crop (Preprocessing.find_face / crop_at) and collect records; per-file problems become
    warnings and counts. With an augmentation every kept photo yields its versions (augment.py)."""
    from mffcnn.data.augment import augmented_crops

    summary = summary or PrepareSummary()
    for c in class_names:
        summary.classes[c]  # every requested class shows in the table, even with nothing found
    if augmentation is not None:
        summary.views = augmentation.n_views
    faces, labels, subjects, groups, paths, targets = [], [], [], [], [], []
    index = {c: i for i, c in enumerate(class_names)}
    for r in records:
        try:
            grey = r.image if r.image is not None else read_grey(r.path)
            if grey.std() < BLANK_STD:
                summary.skip(r.label, "blank image", f"{r.path}: blank image (one flat colour, no face); skipped")
                continue
            where, found = preprocessing.find_face(grey)
            if augmentation is None:
                views = [("", preprocessing.crop_at(grey, where))]
            else:
                views = augmented_crops(grey, where, preprocessing, augmentation)
        except NoFaceError:
            summary.skip(r.label, "no face found", f"{r.path}: no face found; skipped")
            continue
        except ImageError as e:
            summary.skip(r.label, "unreadable", f"{r.path}: {e}; skipped")
            continue
        summary.keep(r.label)
        if not found:
            summary.classes[r.label].whole_image += 1
        for tag, face in views:
            faces.append(face)
            labels.append(index[r.label])
            subjects.append(r.subject)
            groups.append(r.group or r.path)
            paths.append(f"{r.path}#{tag}" if tag else r.path)
            targets.append(r.target)

    empty = [c for c in class_names if summary.classes[c].kept == 0]
    for c in empty:
        summary.notes.append(f"class {c!r} has no usable images and is left out")
    kept_classes = [c for c in class_names if c not in empty]
    if len(kept_classes) < 2:
        raise MffcnnError(
            f"{name}: need images of at least 2 classes, found usable images for {len(kept_classes)}"
            + (f" ({', '.join(kept_classes)})" if kept_classes else "")
        )
    soft = None
    if any(t is not None for t in targets):
        one_hot = np.eye(len(class_names), dtype=np.float32)
        soft = np.stack(
            [one_hot[label] if t is None else np.asarray(t, np.float32) for t, label in zip(targets, labels)]
        )
    if empty:  # re-index labels onto the classes that remain
        remap = {index[c]: i for i, c in enumerate(kept_classes)}
        labels = [remap[label] for label in labels]
        if soft is not None:
            soft = soft[:, [index[c] for c in kept_classes]]
        for note in summary.notes[-len(empty) :]:
            warn(note)
    if soft is not None:
        soft = soft / soft.sum(1, keepdims=True)
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
        targets=soft,
    )
