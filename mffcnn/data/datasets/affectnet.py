"""AffectNet (Mollahosseini et al. 2017), as the public 96×96 cut in class folders.

Layout, as distributed:

    ROOT/train/<class>/<name>.jpg        e.g. train/anger/image0000006.jpg, train/happy/ffhq_1042.jpg
    ROOT/valid/<class>/…

Classes anger, disgust, fear, happy, neutral, sadness, surprise (our seven names; contempt is not in the
cut). `split` picks "train" (the default), "valid" or "all"; a root that is one split's folder is used as it
is.

Two sources hide behind one layout, and the file name tells them apart: `image00NNNNN` faces come from
AffectNet itself (labelled by its annotators), `ffhq_N` faces were added by the cut's author from FFHQ, with
labels of unknown origin (about 29 % of train: most of its happy and half its neutral faces). `source`
chooses "all" (the default), "affectnet" (without the FFHQ part) or "ffhq" (that part alone), so every
result can be measured with and without them.

The faces are loose crops: the whole head with hair and background, not a Viola-Jones box. Face detection
is therefore on by default, as for the uncropped lab photos: the crop is cut where the detector frames the
face, the way predict cuts it; an image in which no face is found is used whole (counted as "kept as whole
image") rather than lost, since AffectNet's faces are there by construction and many are turned beyond what
a frontal detector finds. AffectNet has no person ids: every image is its own subject.
"""

from __future__ import annotations

import re
from pathlib import Path

from mffcnn.data.datasets._layout import check_root, class_tree_records, visible_dirs
from mffcnn.data.faceset import FaceSet, PrepareSummary, build_faceset
from mffcnn.data.labels import EXPRESSIONS7
from mffcnn.data.preprocess import Preprocessing
from mffcnn.errors import MffcnnError

PREPROCESSING = Preprocessing(detect_face=True, no_face="whole")
SPLITS = {"train": ["train"], "valid": ["valid"], "all": ["train", "valid"]}
SOURCES = ("all", "affectnet", "ffhq")
_FFHQ = re.compile(r"^ffhq_", re.IGNORECASE)


def source_of(path: str | Path) -> str:
    """Which collection a face of the cut comes from, by its file name: "ffhq" or "affectnet"."""
    return "ffhq" if _FFHQ.match(Path(path).name) else "affectnet"


def _split_folders(root: Path, split: str, summary: PrepareSummary) -> list[Path]:
    classes_here = {p.name for p in visible_dirs(root)} & set(EXPRESSIONS7)
    if classes_here:
        summary.notes.append(f"{root.name}/ holds the class folders itself: used as it is, --split ignored")
        return [root]
    folders = []
    for name in SPLITS[split]:
        folder = root / name
        if not folder.is_dir():
            raise MffcnnError(f"affectnet: no {name}/ folder under {root} (expected {name}/<class>/*.jpg)")
        if not {p.name for p in visible_dirs(folder)} & set(EXPRESSIONS7):
            raise MffcnnError(f"affectnet: {folder} holds none of the class folders {', '.join(EXPRESSIONS7)}")
        folders.append(folder)
    return folders


def load(
    root: str | Path, *, split: str = "train", source: str = "all", preprocessing: Preprocessing | None = None
) -> FaceSet:
    split = "valid" if split == "val" else split  # one split, two spellings (SFEW says "val")
    if split not in SPLITS:
        raise MffcnnError(f"affectnet: unknown split {split!r}; choose from {', '.join(SPLITS)}")
    if source not in SOURCES:
        raise MffcnnError(f"affectnet: unknown source {source!r}; choose from {', '.join(SOURCES)}")
    root = check_root(root, "affectnet")
    summary = PrepareSummary()
    records = []
    for folder in _split_folders(root, split, summary):
        records += class_tree_records(
            folder, list(EXPRESSIONS7), lambda p: p.stem, summary, no_subject_reason="unreachable"
        )
    if source != "all":
        left_out = [r for r in records if source_of(r.path) != source]
        for r in left_out:
            summary.drop(r.label, f"source is {source_of(r.path)} (--source {source})")
        records = [r for r in records if source_of(r.path) == source]
    summary.notes.append("no person ids: every image is its own subject")
    return build_faceset(
        "affectnet", list(EXPRESSIONS7), records, preprocessing=preprocessing or PREPROCESSING, summary=summary
    )
