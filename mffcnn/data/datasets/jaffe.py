"""JAFFE (Lyons et al. 1998), paper §4.1 and §4.4.

Layout, as distributed: one flat folder of `<subject>.<EXPR><n>.<id>.tiff`, e.g. `KA.AN1.39.tiff`
(subject KA, anger, first take, photo 39); EXPR is AN DI FE HA NE SA SU. 213 photos of 10
women, 256×256 grey (some palette) TIFFs of the head and shoulders, so the face is found with
Viola-Jones (on by default).

The paper's selection: the 183 photos of the six basic expressions (neutral, 30 photos, on
request: `neutral=True`), each in 8 versions (`augment`, on by default as in the paper:
original, mirror, ±5°, ±10°, ±15°, see augment.py) → 1464 images. Subject = the woman; group =
the photo, shared by its 8 versions.
"""

from __future__ import annotations

import re
from pathlib import Path

from mffcnn.data.augment import PAPER
from mffcnn.data.datasets._layout import check_root
from mffcnn.data.faceset import UNLABELLED, FaceSet, PrepareSummary, Record, build_faceset
from mffcnn.data.images import is_image_file
from mffcnn.data.labels import BASIC6, NEUTRAL, ordered
from mffcnn.data.preprocess import Preprocessing
from mffcnn.errors import MffcnnError

PREPROCESSING = Preprocessing(detect_face=True)  # uncropped head-and-shoulder photos
CODES = {
    "AN": "anger",
    "DI": "disgust",
    "FE": "fear",
    "HA": "happy",
    "NE": "neutral",
    "SA": "sadness",
    "SU": "surprise",
}
# subject . expression code + take . photo id . tif(f); case-insensitive extension
_NAME = re.compile(r"^(?P<subject>[A-Za-z]+)\.(?P<code>[A-Za-z]{2})(?P<take>\d*)\.(?P<id>\d+)\.tiff?$", re.I)


def parse_name(name: str) -> tuple[str, str] | None:
    """(subject, expression code) of a JAFFE file name, or None if it is not one."""
    m = _NAME.match(name)
    return (m["subject"].upper(), m["code"].upper()) if m else None


def load(
    root: str | Path, *, neutral: bool = False, augment: bool = True, preprocessing: Preprocessing | None = None
) -> FaceSet:
    root = check_root(root, "jaffe")
    classes = ordered(BASIC6 + ([NEUTRAL] if neutral else []))
    summary = PrepareSummary()
    records, others, neutrals, named = [], [], 0, 0
    for path in sorted(p for p in root.iterdir() if p.is_file()):
        if path.name.startswith(".") or not is_image_file(path):
            others.append(path.name)  # README, .DS_Store: not part of the data
            continue
        parsed = parse_name(path.name)
        if parsed is None:
            summary.skip(
                UNLABELLED,
                "name is not SUBJECT.EXPRn.ID.tiff",
                f"{path}: name is not SUBJECT.EXPRn.ID.tiff (e.g. KA.AN1.39.tiff); skipped",
            )
            continue
        subject, code = parsed
        named += 1
        label = CODES.get(code)
        if label is None:
            why = f"{path}: unknown expression code {code!r} (known: {' '.join(CODES)}); skipped"
            summary.skip(UNLABELLED, "unknown expression code", why)
            continue
        if label == NEUTRAL and not neutral:
            neutrals += 1
            continue
        records.append(Record(path=str(path), label=label, subject=subject, group=str(path)))
    if not named:
        raise MffcnnError(f"jaffe: {root} does not look like JAFFE: expected files named like KA.AN1.39.tiff")
    if neutrals:
        summary.notes.append(f"{neutrals} neutral photos left out, as in the paper (--neutral adds them)")
    if others:
        summary.notes.append(
            f"{len(others)} files that are not images ignored ({', '.join(others[:3])}"
            f"{', …' if len(others) > 3 else ''})"
        )
    if augment:
        summary.notes.append(
            f"each photo in {PAPER.n_views} versions (§4.1: original, mirror, rotated ±5°, ±10°, ±15°); "
            "--no-augment for the photos alone"
        )
    return build_faceset(
        "jaffe",
        classes,
        records,
        preprocessing=preprocessing or PREPROCESSING,
        summary=summary,
        augmentation=PAPER if augment else None,
    )
