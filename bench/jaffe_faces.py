"""Viola-Jones on JAFFE (paper §4.1): faces found out of 213, and a contact sheet of the crops.

    python bench/jaffe_faces.py --data ../shared/data/jaffe --sheet runs/jaffe_faces.png [--out BENCHMARKS.md]

The sheet holds crops of a research-only dataset: write it under runs/ (git-ignored), never
into the repository. Also reports how many photos had more than one detection (the largest,
the face, is taken) and the spread of face-box sizes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from markdown import write_section  # noqa: E402

from mffcnn.data.datasets import jaffe  # noqa: E402
from mffcnn.data.face import detect_faces  # noqa: E402
from mffcnn.data.images import read_grey  # noqa: E402
from mffcnn.data.sheet import faceset_sheet  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="the JAFFE folder")
    ap.add_argument("--sheet", default="runs/jaffe_faces.png", help="contact sheet PNG (keep it out of git)")
    ap.add_argument("--margin", type=float, default=None, help="face margin (default: the package's)")
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()
    repo = Path(__file__).resolve().parent.parent
    sheet_path = Path(args.sheet).resolve()
    if sheet_path.is_relative_to(repo) and not sheet_path.is_relative_to(repo / "runs"):
        sys.exit("bench/jaffe_faces.py: the sheet shows JAFFE faces; write it under runs/ or outside the repository")

    pre = jaffe.PREPROCESSING if args.margin is None else jaffe.PREPROCESSING.replace(margin=args.margin)
    start = time.perf_counter()
    photos = sorted(p for p in Path(args.data).iterdir() if jaffe.parse_name(p.name))
    found, several, sides, centres = 0, [], [], {}
    for p in photos:
        boxes = detect_faces(read_grey(p), pre.detector)  # largest first
        found += bool(boxes)
        if boxes:
            sides.append(boxes[0].w)
            centres[p.name] = np.array([(b.x + b.w / 2, b.y + b.h / 2) for b in boxes])
        if len(boxes) > 1:
            several.append(p.name)
    seconds = time.perf_counter() - start
    # JAFFE's women sit at the same place in front of the same camera: the median centre of the largest
    # boxes is where a face is. A photo with several detections keeps its largest box; it is the face when
    # it lies closer to that place than every other box of the photo.
    face_at = np.median([c[0] for c in centres.values()], axis=0) if centres else np.zeros(2)
    largest_is_face = [n for n in several if np.linalg.norm(centres[n] - face_at, axis=1).argmin() == 0]
    fs = jaffe.load(args.data, neutral=True, augment=False, preprocessing=pre)
    sheet = faceset_sheet(fs, args.sheet, columns=16)

    write_section(
        args.out,
        "jaffe_faces",
        "Viola-Jones on JAFFE",
        [
            f"OpenCV Haar cascade `{pre.detector.cascade}` (scale factor {pre.detector.scale_factor}, "
            f"min neighbours {pre.detector.min_neighbors}, min size {pre.detector.min_size:g} of the shorter side), "
            f"the largest detection, margin {pre.margin:g}:",
            "",
            f"- **faces found: {found} of {len(photos)}** (paper: Viola-Jones on every sample; target {len(photos)})",
            f"- photos with more than one detection: {len(several)} ({', '.join(several) or 'none'}); in "
            f"{len(largest_is_face)} of them the largest box, which is kept, is also the one nearest the median "
            f"face position ({face_at[0]:.0f}, {face_at[1]:.0f})",
            f"- face box side: {min(sides, default=0)}–{max(sides, default=0)} px (median {int(np.median(sides or [0]))}) "
            "of 256",
            f"- detection time: {1000 * seconds / max(len(photos), 1):.1f} ms per photo",
            f"- contact sheet of the {len(fs)} crops (60×60, as the network receives them): `{args.sheet}` "
            "(not committed: JAFFE's licence forbids redistribution)",
        ],
    )
    print(f"sheet: {sheet}")


if __name__ == "__main__":
    main()
