"""FER2013 (Goodfellow et al. 2013): 35,887 aligned 48×48 grey faces, 7 classes.

Two layouts, as people have it:

* the original `fer2013.csv` (ROOT is the file, or a folder holding it): columns
  `emotion,pixels,Usage`; emotion 0 Angry, 1 Disgust, 2 Fear, 3 Happy, 4 Sad, 5 Surprise,
  6 Neutral; pixels = 2304 space-separated grey levels; Usage = Training (28,709),
  PublicTest (3,589) or PrivateTest (3,589). The variant `icml_face_data.csv` (columns
  `emotion, Usage, pixels`) and Kaggle's `train.csv` (no Usage: all Training) read the same.
* the common folder export `ROOT/train|test/<emotion>/*.jpg` (angry, disgust, fear, happy,
  neutral, sad, surprise; its test = PublicTest + PrivateTest).

`split`: "train" (the default: Training), "val" (PublicTest), "test" (PrivateTest; in the
folder export, test/) or "all". The faces come aligned: no face detection by default.

FER2013 has no person ids. Every image is its own subject, so subject-independent folds are
random folds here (the summary says so); the honest protocol is its own split: train on
"train", evaluate on "test".
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from mffcnn.data.datasets._layout import check_root, emotion_folder_files
from mffcnn.data.faceset import UNLABELLED, FaceSet, PrepareSummary, Record, build_faceset
from mffcnn.data.labels import EXPRESSIONS7
from mffcnn.data.preprocess import Preprocessing
from mffcnn.errors import MffcnnError

PREPROCESSING = Preprocessing(detect_face=False)  # aligned 48×48 faces
CODES = {0: "anger", 1: "disgust", 2: "fear", 3: "happy", 4: "sadness", 5: "surprise", 6: "neutral"}
USAGE = {
    "train": {"Training"},
    "val": {"PublicTest"},
    "test": {"PrivateTest"},
    "all": {"Training", "PublicTest", "PrivateTest"},
}
FOLDER_SPLITS = {"train": ["train"], "test": ["test"], "all": ["train", "test"]}
CSV_NAMES = ("fer2013.csv", "icml_face_data.csv", "fer2013/fer2013.csv", "train.csv")
NOTE = "FER2013 has no person ids: every image is its own subject (subject folds = random folds)"


def find_csv(root: Path) -> Path | None:
    if root.is_file():
        return root
    for name in CSV_NAMES:
        if (root / name).is_file():
            return root / name
    return None


def parse_row(row: dict) -> tuple[str, np.ndarray]:
    """(label, H×W uint8 image) of one csv row; ValueError saying what is wrong."""
    try:
        code = int(row["emotion"].strip())
    except (TypeError, ValueError, AttributeError):
        raise ValueError(f"emotion {row.get('emotion')!r} is not a number") from None
    if code not in CODES:
        raise LookupError(f"unknown emotion code {code} (FER2013 has 0–6)")
    text = row.get("pixels")
    if not text or not text.strip():
        raise ValueError("no pixels")
    try:
        pixels = np.array(text.split(), dtype=np.int64)
    except ValueError:
        raise ValueError("pixels are not all whole numbers") from None
    side = math.isqrt(len(pixels))
    if side * side != len(pixels) or side < 8:
        raise ValueError(f"{len(pixels)} pixels do not make a square image (48×48 = 2304)")
    if pixels.min() < 0 or pixels.max() > 255:
        raise ValueError("pixel values outside 0–255")
    return CODES[code], pixels.reshape(side, side).astype(np.uint8)  # (2304,) → (48, 48)


def _csv_records(path: Path, split: str, summary: PrepareSummary) -> list[Record]:
    records = []
    try:
        f = path.open(newline="", encoding="utf-8", errors="replace")
    except OSError as e:
        raise MffcnnError(f"fer2013: cannot read {path}: {e.strerror or e}") from None
    with f:
        reader = csv.DictReader((line.replace("\0", "") for line in f), skipinitialspace=True)
        if reader.fieldnames is None:
            raise MffcnnError(f"fer2013: {path} is empty")
        reader.fieldnames = [n.strip() for n in reader.fieldnames]
        if not {"emotion", "pixels"} <= set(reader.fieldnames):
            raise MffcnnError(
                f"fer2013: {path} is not the FER2013 csv: expected the columns emotion, pixels, Usage; "
                f"found {', '.join(reader.fieldnames)}"
            )
        has_usage = "Usage" in reader.fieldnames
        if not has_usage:
            if split in ("val", "test"):
                raise MffcnnError(f"fer2013: {path} has no Usage column, so no {split} split")
            summary.notes.append(f"{path.name} has no Usage column: every row is taken as Training")
        wanted, other = USAGE[split], 0
        for line_no, row in enumerate(reader, start=2):
            where = f"{path}:{line_no}"
            usage = (row.get("Usage") or "").strip() if has_usage else "Training"
            if usage not in USAGE["all"]:
                summary.skip(UNLABELLED, "malformed row", f"{where}: unknown Usage {usage!r}; skipped")
                continue
            if usage not in wanted:
                other += 1
                continue
            try:
                label, image = parse_row(row)
            except LookupError as e:
                summary.skip(UNLABELLED, "unknown emotion code", f"{where}: {e}; skipped")
                continue
            except ValueError as e:
                code = CODES.get(_int_or_none(row.get("emotion")))
                summary.skip(code or UNLABELLED, "malformed row", f"{where}: {e}; skipped")
                continue
            records.append(Record(path=where, label=label, subject=where, image=image))
        if other:
            summary.notes.append(
                f"{other} rows of other splits left out (split {split!r}: {', '.join(sorted(wanted))})"
            )
    return records


def _int_or_none(value) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _folder_records(root: Path, split: str, summary: PrepareSummary) -> list[Record]:
    if split not in FOLDER_SPLITS:
        raise MffcnnError("fer2013: the folder export has only train/ and test/; choose --split train, test or all")
    records = []
    for name in FOLDER_SPLITS[split]:
        folder = root / name
        if not folder.is_dir():
            raise MffcnnError(f"fer2013: no {name}/ folder under {root}")
        for path, label in emotion_folder_files(
            folder, EXPRESSIONS7, summary, known="FER2013's seven emotions", root=root
        ):
            records.append(Record(path=str(path), label=label, subject=str(path)))
    return records


def load(root: str | Path, *, split: str = "train", preprocessing: Preprocessing | None = None) -> FaceSet:
    split = "val" if split == "valid" else split  # one split, two spellings (FER+ says "valid")
    root = Path(root).expanduser()
    if not root.exists():
        raise MffcnnError(f"fer2013: dataset root {str(root)!r} does not exist")
    if split not in USAGE:
        raise MffcnnError(f"fer2013: unknown split {split!r}; choose from {', '.join(USAGE)}")
    summary = PrepareSummary()
    csv_path = find_csv(root)
    if csv_path is not None:
        records = _csv_records(csv_path, split, summary)
    else:
        root = check_root(root, "fer2013")
        if not any((root / s).is_dir() for s in ("train", "test")):
            raise MffcnnError(f"fer2013: {root} holds neither fer2013.csv nor the folders train/ and test/")
        records = _folder_records(root, split, summary)
    summary.notes.append(NOTE)
    return build_faceset(
        "fer2013", list(EXPRESSIONS7), records, preprocessing=preprocessing or PREPROCESSING, summary=summary
    )
