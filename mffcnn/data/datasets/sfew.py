"""SFEW 2.0 aligned faces (Dhall et al. 2015), paper §4.6.

Layout, as distributed:

    ROOT/Train/<Emotion>/<Movie>_<timestamp>_<frame>.png     e.g. Train/Angry/Airheads_000519240_00000005.png
    ROOT/Val/<Emotion>/…

Emotions Angry Disgust Fear Happy Neutral Sad Surprise → our seven names (labels.py). The
release's own nesting (`Train/Train_Aligned_Faces/Angry/…`) and a root that is one split's
folder are accepted too. `split` picks "train" (the default: the paper fine-tunes on it),
"val" (the paper reports on it) or "all".

The faces come aligned (143×181 crops from forehead to chin), so face detection is off by
default, and each is resized to 60×60 whole. (The paper ran RetinaFace on the original
frames, which are not distributed.) Some alignments failed and are all black (12 in Val):
they are dropped as "blank image" and counted, since a black square carries no expression —
scoring them would only add coin flips. SFEW has no person ids: subject = the movie, so
subject-independent folds keep a film (and so its actors, mostly) on one side; group = the
clip (movie and timestamp).
"""

from __future__ import annotations

import re
from pathlib import Path

from mffcnn.data.datasets._layout import check_root, emotion_folder_files
from mffcnn.data.faceset import FaceSet, PrepareSummary, Record, build_faceset
from mffcnn.data.labels import EXPRESSIONS7, canonical
from mffcnn.data.preprocess import Preprocessing
from mffcnn.errors import MffcnnError

PREPROCESSING = Preprocessing(detect_face=False)  # aligned faces
SPLITS = {"train": ["Train"], "val": ["Val"], "all": ["Train", "Val"]}
# Movie_timestamp_frame; the release also has `OceansTwelve-001817760_00000010` and `IAmSam_013827920__00000055`.
_NAME = re.compile(r"^(?P<movie>.+?)[_-](?P<time>\d+)_+(?P<frame>\d+)$")


# The emotion folders as SFEW 2.0 spells them. Three differ from our class names (and CK+48's): Angry, Sad and
# Neutral. A tree with anger/ or sadness/ and none of those three is another dataset (a CK+48 or folder tree),
# refused rather than read as SFEW with classes missing; a stray folder in a real SFEW tree (Contempt/) is
# only counted, as any unknown emotion folder.
SFEW_FOLDERS = ("Angry", "Disgust", "Fear", "Happy", "Neutral", "Sad", "Surprise")
SFEW_OWN = {"angry", "sad", "neutral"}
OTHERS_OWN = {"anger", "sadness"}


def _emotion_dirs(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.is_dir() and canonical(p.name) is not None]


def check_spelling(folder: Path, root: Path) -> None:
    """Class folders spelt as another dataset spells them, none as SFEW does: one clear layout error."""
    names = {p.name.lower(): p.name for p in _emotion_dirs(folder)}
    other = sorted(names[n] for n in OTHERS_OWN & names.keys())
    if other and not SFEW_OWN & names.keys():
        raise MffcnnError(
            f"sfew: {root} is not SFEW 2.0's layout (Train/Angry/…, Val/…): it has {', '.join(o + '/' for o in other)} "
            f"where SFEW has Angry/, Sad/ (its folders: {', '.join(SFEW_FOLDERS)}); a CK+48 tree is read with "
            "`ckplus48`, any other folder-per-class tree with `folder`"
        )


def split_folder(root: Path, split: str) -> Path:
    """The folder whose sub-folders are the emotions, for one split name (Train/Val)."""
    for name in (split, split.lower(), split.upper()):
        folder = root / name
        if folder.is_dir():
            if _emotion_dirs(folder):
                return folder
            nested = [p for p in folder.iterdir() if p.is_dir() and _emotion_dirs(p)]  # Train/Train_Aligned_Faces/
            if len(nested) == 1:
                return nested[0]
            raise MffcnnError(f"sfew: {folder} holds no emotion folders (Angry/, Disgust/, …)")
    raise MffcnnError(f"sfew: no {split}/ folder under {root} (expected {split}/Angry/*.png …)")


def load(root: str | Path, *, split: str = "train", preprocessing: Preprocessing | None = None) -> FaceSet:
    split = "val" if split == "valid" else split  # one split, two spellings (FER+ says "valid")
    root = check_root(root, "sfew")
    if split not in SPLITS:
        raise MffcnnError(f"sfew: unknown split {split!r}; choose from {', '.join(SPLITS)}")
    summary = PrepareSummary()
    if _emotion_dirs(root) and not any((root / s).is_dir() for s in ("Train", "Val")):
        folders = [root]  # the user pointed at one split's folder
        summary.notes.append(f"{root.name}/ holds the emotion folders itself: used as it is, --split ignored")
    else:
        folders = [split_folder(root, s) for s in SPLITS[split]]
    for folder in folders:
        check_spelling(folder, root)
    records: list[Record] = []
    no_movie = 0
    for folder in folders:
        for path, label in emotion_folder_files(
            folder, EXPRESSIONS7, summary, known="SFEW's seven emotions", root=root
        ):
            m = _NAME.match(path.stem)
            if m is None:
                no_movie += 1
            subject = m["movie"] if m else path.stem
            group = f"{m['movie']}_{m['time']}" if m else str(path)
            records.append(Record(path=str(path), label=label, subject=subject, group=group))
    if no_movie:
        summary.notes.append(f"{no_movie} file names are not <Movie>_<timestamp>_<frame>: each is its own subject")
    summary.notes.append("subject = the movie (SFEW has no person ids)")
    return build_faceset(
        "sfew", list(EXPRESSIONS7), records, preprocessing=preprocessing or PREPROCESSING, summary=summary
    )
