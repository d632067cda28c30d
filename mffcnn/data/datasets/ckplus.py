"""CK+ in its original layout (Lucey et al. 2010), paper §4.1 and §4.3.

Layout, as distributed:

    ROOT/cohn-kanade-images/S005/001/S005_001_00000011.png   the frames of sequence 001 of subject S005
    ROOT/Emotion/S005/001/S005_001_00000011_emotion.txt      its label, e.g. "   3.0000000e+00"

Codes: 0 neutral, 1 anger, 2 contempt, 3 disgust, 4 fear, 5 happy, 6 sadness, 7 surprise. Only
327 of the 593 sequences carry a label file. The paper's selection: the last 3 frames (the
peak) of every sequence labelled with one of the six basic expressions — 309 sequences, 927
images (Table 1). Contempt on request (`contempt`); `neutral` adds the first frame of each
selected sequence (every CK+ sequence starts neutral) as the neutral class, for the 7-class
space of SFEW pretraining. Frames are 640×490 (some 640×480 colour) with the whole head, so
Viola-Jones is on by default. Subject = S005; group = the sequence (its frames are near copies).
"""

from __future__ import annotations

from pathlib import Path

from mffcnn.data.datasets._layout import check_frames, check_root, visible_dirs
from mffcnn.data.faceset import UNLABELLED, FaceSet, PrepareSummary, Record, build_faceset
from mffcnn.data.images import is_image_file
from mffcnn.data.labels import BASIC6, CONTEMPT, NEUTRAL, ordered
from mffcnn.data.preprocess import Preprocessing
from mffcnn.errors import MffcnnError

PREPROCESSING = Preprocessing(detect_face=True)  # uncropped 640×490 frames
CODES = {0: "neutral", 1: "anger", 2: "contempt", 3: "disgust", 4: "fear", 5: "happy", 6: "sadness", 7: "surprise"}
IMAGES, LABELS = "cohn-kanade-images", "Emotion"


def find_layout(root: Path) -> tuple[Path, Path]:
    """(images folder, labels folder) under root or one folder below it (e.g. ROOT/CK+/…)."""
    for base in [root, *sorted(p for p in root.iterdir() if p.is_dir())]:
        images = base / IMAGES
        if images.is_dir():
            for labels in (base / LABELS, base / "Emotion_labels" / LABELS):
                if labels.is_dir():
                    return images, labels
            raise MffcnnError(
                f"ckplus: {images} has no {LABELS}/ folder of label files beside it "
                f"(Emotion/S005/001/S005_001_00000011_emotion.txt)"
            )
    raise MffcnnError(
        f"ckplus: {root} does not look like CK+: expected {IMAGES}/S005/001/*.png and "
        f"{LABELS}/S005/001/*_emotion.txt (for the 48×48 cut use the dataset ckplus48)"
    )


def read_code(path: Path) -> int:
    """The expression code in a CK+ label file (a float such as 3.0000000e+00); ValueError if none."""
    text = path.read_text(errors="replace").split()
    if len(text) != 1:
        raise ValueError(f"expected one number, found {len(text)} words")
    value = float(text[0])
    if value != int(value):
        raise ValueError(f"code {text[0]} is not a whole number")
    return int(value)


def load(
    root: str | Path,
    *,
    contempt: bool = False,
    neutral: bool = False,
    frames: int = 3,
    preprocessing: Preprocessing | None = None,
) -> FaceSet:
    root = check_root(root, "ckplus")
    check_frames(frames, "ckplus")
    images_dir, labels_dir = find_layout(root)
    wanted = set(BASIC6) | ({CONTEMPT} if contempt else set())
    classes = ordered(wanted | ({NEUTRAL} if neutral else set()))
    summary = PrepareSummary()
    records: list[Record] = []
    unlabelled, left_out, short = 0, {}, 0
    for subject_dir in visible_dirs(images_dir):
        for seq_dir in visible_dirs(subject_dir):
            seq = f"{subject_dir.name}/{seq_dir.name}"
            label_files = sorted(p for p in (labels_dir / seq).glob("*_emotion.txt") if not p.name.startswith("."))
            if not label_files:
                unlabelled += 1  # as in the release: 266 of 593 sequences have no label
                continue
            label_file = label_files[-1]
            try:
                code = read_code(label_file)
            except (OSError, ValueError) as e:
                summary.skip(
                    UNLABELLED, "unreadable label file", f"{label_file}: unreadable label ({e}); sequence skipped"
                )
                continue
            label = CODES.get(code)
            if label is None:
                why = f"{label_file}: unknown expression code {code} (CK+ has 0–7); sequence skipped"
                summary.skip(UNLABELLED, "unknown expression code", why)
                continue
            if label not in wanted:
                left_out[label] = left_out.get(label, 0) + 1
                continue
            frame_files = sorted(
                p for p in seq_dir.iterdir() if p.is_file() and not p.name.startswith(".") and is_image_file(p)
            )
            if not frame_files:
                summary.skip(
                    label, "sequence without frames", f"{seq_dir}: labelled {label} but holds no images; skipped"
                )
                continue
            if len(frame_files) < frames:
                short += 1
            for path in frame_files[-frames:]:
                records.append(Record(path=str(path), label=label, subject=subject_dir.name, group=seq))
            if neutral:
                records.append(Record(path=str(frame_files[0]), label=NEUTRAL, subject=subject_dir.name, group=seq))
    if not records and not summary.dropped:
        raise MffcnnError(f"ckplus: no labelled sequences under {images_dir} (labels looked for in {labels_dir})")
    summary.notes.append(
        f"last {frames} frames of each sequence labelled with one of the "
        f"{len(wanted)} expressions" + (", and its first frame as neutral" if neutral else "")
    )
    if unlabelled:
        summary.notes.append(f"{unlabelled} sequences have no emotion label file (as in the release) and are not used")
    for label, n in sorted(left_out.items()):
        hint = " (--contempt adds them)" if label == CONTEMPT else ""
        summary.notes.append(f"{n} sequences labelled {label} left out{hint}")
    if short:
        summary.notes.append(f"{short} sequences have fewer than {frames} frames: all their frames are used")
    return build_faceset("ckplus", classes, records, preprocessing=preprocessing or PREPROCESSING, summary=summary)
