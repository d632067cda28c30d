"""FER+ (Barsoum et al. 2016): FER2013's faces relabelled by 10 annotators each.

Layout, as the FERPlus tools write it: `ROOT/FER2013Train|FER2013Valid|FER2013Test/` each holding
`label.csv` and the 48×48 grey crops `ferNNNNNNN.png`. A label.csv row is the file name, the face
box `"(0, 0, 48, 48)"`, then ten vote counts in the order neutral, happiness, surprise, sadness,
anger, disgust, fear, contempt, unknown, not-a-face.

`split`: train (FER2013Train, the default), valid (FER2013Valid; `val` is the same), test
(FER2013Test) or all three.

`labels`, Barsoum et al.'s two main modes:
* `majority`: a face gets its top vote when that vote is unique and one of the chosen classes; a
  tie at the top, or a top vote of unknown, not-a-face or an unchosen class (contempt), drops the
  face, counted per reason. These are the counts of ../shared/data/README.md (Train 26,775 and
  Valid 3,370 faces in 7 classes).
* `votes`: the vote distribution over the chosen classes as a soft target (their "probability"
  mode). Faces whose top vote is unknown or not-a-face (alone or tied) are dropped, counted; ties
  between expressions are kept, since the soft target says what the annotators said. The hard
  label, which folds are stratified on and accuracy is measured against, is the top vote (a tie
  goes to the class first in our order): measure accuracy on a `majority` set.

Classes: the 6 basic expressions and neutral (7, as SFEW 2.0); `contempt` adds the eighth.
FER+ has no person ids: every face is its own subject, so subject-independent folds are random
folds here; its own split (train on Train, test on Valid) is the honest protocol. The crops come
aligned: no face detection by default. How they frame a face compared with a Viola-Jones box is
measured by bench/crop_geometry.py (FRAMING_MARGIN below).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from mffcnn.data.datasets._layout import check_root
from mffcnn.data.faceset import UNLABELLED, FaceSet, PrepareSummary, Record, build_faceset
from mffcnn.data.labels import CONTEMPT, EXPRESSIONS7, ordered
from mffcnn.data.preprocess import Preprocessing
from mffcnn.errors import MffcnnError

# A FER+ crop frames a face as a Viola-Jones box does, to within a few per cent of its side
# (bench/crop_geometry.py: box / crop side 0.96 by the detector on the crops, and the mean FER+ face
# matches the mean JAFFE Viola-Jones crop best at margin 0). So the crops are used whole and a model
# trained on them crops photos at the detector's box, margin 0.
FRAMING_MARGIN = 0.0
PREPROCESSING = Preprocessing(detect_face=False, margin=FRAMING_MARGIN)

FOLDERS = {"train": "FER2013Train", "valid": "FER2013Valid", "test": "FER2013Test"}
SPLITS = ("train", "valid", "test", "all")
LABEL_MODES = ("majority", "votes")
# The ten vote columns of label.csv, in their order, by our names (None: not an expression).
VOTE_COLUMNS = ["neutral", "happy", "surprise", "sadness", "anger", "disgust", "fear", "contempt", None, None]
UNKNOWN, NOT_A_FACE = 8, 9
NOTE = "FER+ has no person ids: every face is its own subject (subject folds = random folds)"


def _split_folders(root: Path, split: str) -> list[Path]:
    split = "valid" if split == "val" else split
    if split not in SPLITS:
        raise MffcnnError(f"ferplus: unknown split {split!r}; choose from {', '.join(SPLITS)}")
    names = list(FOLDERS.values()) if split == "all" else [FOLDERS[split]]
    folders = [root / n for n in names if (root / n / "label.csv").is_file()]
    if not folders:
        want = " or ".join(f"{n}/label.csv" for n in names)
        raise MffcnnError(
            f"ferplus: {root} has no {want} (expected ROOT/FER2013Train|FER2013Valid/label.csv and the PNGs beside it)"
        )
    return folders


def parse_votes(row: list[str]) -> np.ndarray:
    """The ten vote counts of a label.csv row; ValueError when they are not ten whole numbers ≥ 0."""
    if len(row) < 12:
        raise ValueError(f"{len(row)} fields, expected 12 (file, box, 10 vote counts)")
    try:
        votes = np.array([float(v) for v in row[2:12]])
    except ValueError:
        raise ValueError("vote counts are not numbers") from None
    if (votes < 0).any() or not np.isfinite(votes).all():
        raise ValueError("negative or non-finite vote counts")
    return votes


def choose(votes: np.ndarray, classes: list[str], mode: str) -> tuple[str | None, np.ndarray | None, str | None]:
    """(label, soft target over classes, None) for a kept face, (None, None, why) for a dropped one."""
    top = votes.max()
    if top <= 0:
        return None, None, "no votes"
    winners = np.flatnonzero(votes == top)
    if mode == "majority":
        if len(winners) > 1:
            return None, None, "tie between top votes"
        name = VOTE_COLUMNS[winners[0]]
    else:
        if UNKNOWN in winners or NOT_A_FACE in winners:
            name = None
        else:
            cols = [VOTE_COLUMNS.index(c) for c in classes]
            chosen = votes[cols]
            if chosen.max() <= 0:
                return None, None, "no votes for the chosen classes"
            return classes[int(chosen.argmax())], (chosen / chosen.sum()).astype(np.float32), None
    if name is None:
        return None, None, "top vote unknown" if winners[0] == UNKNOWN else "top vote not a face"
    if name not in classes:
        return None, None, f"top vote {name} (not among the classes)"
    return name, None, None


def _records(folder: Path, classes: list[str], mode: str, summary: PrepareSummary) -> list[Record]:
    records, listed = [], set()
    with (folder / "label.csv").open(newline="", encoding="utf-8", errors="replace") as f:
        for n, row in enumerate(csv.reader(f), start=1):
            if not row or (n == 1 and not row[0].lower().endswith(".png")):
                continue  # a blank line, or a header
            path = folder / row[0].strip()
            listed.add(path.name)
            try:
                votes = parse_votes(row)
            except ValueError as e:
                summary.skip(UNLABELLED, "bad label row", f"{folder / 'label.csv'}:{n}: {e}; skipped")
                continue
            label, target, why = choose(votes, classes, mode)
            if label is None:
                summary.drop(UNLABELLED, why)  # a choice of the labels, not a problem with the file
                continue
            records.append(Record(path=str(path), label=label, subject=path.stem, target=target))
    unlisted = sum(1 for p in folder.glob("*.png") if p.name not in listed)
    if unlisted:
        summary.notes.append(f"{folder.name}: {unlisted} PNGs have no row in label.csv and are not used")
    return records


def load(
    root: str | Path,
    *,
    split: str = "train",
    labels: str = "majority",
    contempt: bool = False,
    preprocessing: Preprocessing | None = None,
) -> FaceSet:
    root = check_root(root, "ferplus")
    if labels not in LABEL_MODES:
        raise MffcnnError(f"ferplus: unknown label mode {labels!r}; choose from {', '.join(LABEL_MODES)}")
    classes = ordered(EXPRESSIONS7 + [CONTEMPT]) if contempt else list(EXPRESSIONS7)
    summary = PrepareSummary()
    for c in classes:
        summary.classes[c]  # the classes first in the table, then the row of dropped faces
    records = []
    for folder in _split_folders(root, split):
        records += _records(folder, classes, labels, summary)
    summary.notes.append(NOTE)
    return build_faceset("ferplus", classes, records, preprocessing=preprocessing or PREPROCESSING, summary=summary)
