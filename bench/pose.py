"""Accuracy by head turn: the held-out in-the-wild faces split by how far the head is turned (yaw).

    python bench/pose.py --data ../shared/data --model bundled=mffcnn/weights/default.safetensors \\
        [--model NAME=CHECKPOINT ...] [--sources affectnet_valid,sfew_val] [--section pose] [--title TITLE] \\
        [--out BENCHMARKS.md]

Why: the issue "A model for faces from anywhere" found lab photos of heads turned 45° the worst kind of face
(26.8 % against a peer's 60.8), and no set in ../shared/data is a turned-head lab set. AffectNet's cut has
every pose, so its validation faces split by turn show how the accuracy falls as the head turns, on faces the
model never trained on.

How the turn is measured: BlazeFace's landmarks of each face, found the way the suite cuts it (a loose crop:
data.preprocess.Preprocessing.find_face); with the eyes made level, the nose tip's horizontal offset from the
eyes' midpoint, in eye distances (`turn`: 0 for a frontal face). What angle a value means is estimated, not
measured: with a head's usual proportions (the nose tip about half an eye distance in front of the eyes) a
turn of 45° gives about 0.5 (sin 45° × 0.5 over the foreshortened eye distance, cos 45° × 1). Faces where
BlazeFace finds no face inside the crop (the suite then cuts the whole crop) are counted apart. Each model is
scored on its own crops (bench/cross_source.py's crop_options), with and without flip test-time averaging
(predict's default), on the sources' 7 classes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from cross_source import crop_options, probabilities, seen  # noqa: E402
from markdown import write_section  # noqa: E402
from sources import SOURCES, data_roots, load_sources, score  # noqa: E402

from mffcnn.checkpoint import load_checkpoint  # noqa: E402
from mffcnn.data.images import read_grey  # noqa: E402
from mffcnn.data.preprocess import Preprocessing  # noqa: E402

# Bins of `turn` (upper bounds). By the estimate turn ≈ 0.5 · tan(yaw): under about 11°, 11–27°, 27–42°,
# 42° and up.
BINS = ((0.1, "frontal (< 0.1)"), (0.25, "0.1–0.25"), (0.45, "0.25–0.45"), (np.inf, "≥ 0.45"))
NOT_FOUND = "no face found in the crop"
LOOSE = Preprocessing(detect_face=False, face_detector="blazeface", align="eyes")


def turn(landmarks: np.ndarray) -> float:
    """The nose tip's horizontal offset from the eyes' midpoint, in eye distances, with the eyes level."""
    eye_a, eye_b, nose = landmarks[0], landmarks[1], landmarks[2]
    d = eye_b - eye_a
    de = float(np.hypot(*d))
    if de < 1e-3:
        return float("inf")
    along = float(np.dot(nose - (eye_a + eye_b) / 2, d / de))  # the offset along the eye line
    return abs(along) / de


def turn_bins(paths: list[str]) -> list[str]:
    """The bin name of each face file (found as the suite finds it inside the loose crop)."""
    out = []
    for path in paths:
        face, found = LOOSE.find_face(read_grey(path.split("#")[0]))
        if not found or face is None or face.landmarks is None:
            out.append(NOT_FOUND)
            continue
        t = turn(face.landmarks)
        out.append(next(name for upper, name in BINS if t < upper))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="a folder laid out as ../shared/data")
    ap.add_argument("--model", action="append", required=True, help="NAME=CHECKPOINT, once per model")
    ap.add_argument("--sources", default="affectnet_valid,sfew_val")
    ap.add_argument("--section", default="pose")
    ap.add_argument("--title", default="Accuracy by head turn")
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()
    names = [s for s in args.sources.split(",") if s]
    unknown = [s for s in names if s not in SOURCES]
    if unknown:
        ap.error(f"unknown sources {unknown}; known: {list(SOURCES)}")
    models = [m.split("=", 1) for m in args.model]
    roots = data_roots(args.data, {SOURCES[s].dataset for s in names})

    order = [name for _, name in BINS] + [NOT_FOUND]
    header = "| model | source | flip | " + " | ".join(order) + " |"
    rows, counts, bins_of = [header, "|---|---|---|" + "---:|" * len(order)], {}, {}
    for label, path in models:
        ckpt = load_checkpoint(path)
        for source, fs in load_sources(roots, names, crop_options(ckpt.preprocessing, None)).items():
            if source in seen(ckpt.info):
                print(f"{label} was trained on {source}: left out", file=sys.stderr)
                continue
            key = tuple(fs.paths)  # models that cut faces differently may keep different faces
            if key not in bins_of:
                bins_of[key] = np.array(turn_bins(fs.paths))
            bins = bins_of[key]
            if source not in counts:  # the table of counts: the first model's faces of each source
                counts[source] = {b: int((bins == b).sum()) for b in order}
            for tta in (False, True):
                p = probabilities(ckpt, fs, tta)
                cells = []
                for b in order:
                    keep = np.flatnonzero(bins == b)
                    if len(keep) < 20:
                        cells.append(f"({len(keep)} faces)")
                        continue
                    s = score(p[keep], _subset(fs, keep))
                    cells.append(f"{100 * s['accuracy']:.1f} / {100 * s['mean_per_class']:.1f}")
                rows.append(
                    f"| `{label}` | {SOURCES[source].what} | {'yes' if tta else 'no'} | " + " | ".join(cells) + " |"
                )
    count_rows = ["| source | " + " | ".join(order) + " |", "|---|" + "---:|" * len(order)]
    for source, n in counts.items():
        count_rows.append(f"| {SOURCES[source].what} | " + " | ".join(f"{n[b]:,}" for b in order) + " |")
    write_section(
        args.out,
        args.section,
        args.title,
        [
            "Each face's turn: BlazeFace's nose tip offset from the eyes' midpoint along the levelled eye line, in eye "
            "distances (0: frontal; by a head's usual proportions, not measured here, a head turned 45° gives about 0.5). "
            "Faces per bin:",
            "",
            *count_rows,
            "",
            "Accuracy / mean per-class accuracy (%) in each bin (classes of the source; a bin under 20 faces is not "
            "scored; the mean per-class of a small bin rests on few faces of some classes):",
            "",
            *rows,
            "",
            "Models: " + "; ".join(f"`{label}`: `{path}`" for label, path in models) + ".",
        ],
    )


def _subset(fs, keep: np.ndarray):
    """The faces at `keep` of a FaceSet, as score() reads it (labels and class names)."""
    from dataclasses import replace  # noqa: PLC0415

    return replace(
        fs,
        images=fs.images[keep],
        labels=fs.labels[keep],
        subjects=fs.subjects[keep],
        groups=fs.groups[keep],
        paths=[fs.paths[i] for i in keep],
    )


if __name__ == "__main__":
    main()
