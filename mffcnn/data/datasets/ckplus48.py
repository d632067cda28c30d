"""CK+48: the widely shared 48×48 cut of CK+ (Lucey et al. 2010), paper §4.1.

Layout: `ROOT/<class>/S<subject>_<sequence>_<frame>.png`, classes anger, contempt, disgust,
fear, happy, sadness, surprise. It already holds the last 3 frames of each labelled sequence,
face-cropped, so no detection is needed: without contempt it is exactly the paper's 927
images (Table 1). Subject = `S<subject>`; group (source photo) = the file.
"""

from __future__ import annotations

import re
from pathlib import Path

from mffcnn.data.datasets._layout import check_root, class_tree_records
from mffcnn.data.faceset import FaceSet, PrepareSummary, build_faceset
from mffcnn.data.preprocess import Preprocessing
from mffcnn.errors import MffcnnError

BASIC = ["anger", "disgust", "fear", "happy", "sadness", "surprise"]  # the paper's 6, its order
CONTEMPT = "contempt"
PREPROCESSING = Preprocessing(detect_face=False)  # already face-cropped
_NAME = re.compile(r"^(S\d+)_(\d+)_(\d+)$")


def subject_of(path: Path) -> str | None:
    m = _NAME.match(path.stem)
    return m.group(1) if m else None


def load(root: str | Path, *, contempt: bool = False, preprocessing: Preprocessing | None = None) -> FaceSet:
    root = check_root(root, "ckplus48")
    classes = BASIC[:1] + [CONTEMPT] + BASIC[1:] if contempt else list(BASIC)
    if not any((root / c).is_dir() for c in classes):
        raise MffcnnError(
            f"ckplus48: {root} does not look like CK+48: expected class folders "
            f"{', '.join(c + '/' for c in classes)} holding S<subject>_<sequence>_<frame>.png"
        )
    summary = PrepareSummary()
    records = class_tree_records(
        root, classes, subject_of, summary, no_subject_reason="name is not S<subject>_<sequence>_<frame>"
    )
    if not contempt and (root / CONTEMPT).is_dir():
        n = sum(1 for p in (root / CONTEMPT).iterdir() if p.is_file() and not p.name.startswith("."))
        summary.notes.append(f"{n} contempt images left out, as in the paper (--contempt adds them)")
    return build_faceset("ckplus48", classes, records, preprocessing=preprocessing or PREPROCESSING, summary=summary)
