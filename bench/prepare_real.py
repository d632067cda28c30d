"""`mffcnn prepare` on the real datasets: the per-class summary of each, and Viola-Jones on JAFFE.

    python bench/prepare_real.py --data ../shared/data [--out BENCHMARKS.md]

Prepares CK+48, JAFFE (the paper's selection, and all 213 photos for the face count) and
SFEW 2.0 Train and Val, FER+ Train (majority labels and vote distributions) and Valid afresh, then once more from the cache, and writes what `mffcnn prepare`
prints for each, with both times, to its section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from markdown import write_section  # noqa: E402

from mffcnn.data import load_dataset  # noqa: E402

RUNS = [  # (title, dataset, folder under --data, options, the command a user types)
    ("CK+48", "ckplus48", "ckplus48", {}, "mffcnn prepare ckplus48 {root}"),
    ("JAFFE, the paper's selection (183 photos × 8 versions)", "jaffe", "jaffe", {}, "mffcnn prepare jaffe {root}"),
    (
        "JAFFE, all 213 photos (with neutral, no augmentation)",
        "jaffe",
        "jaffe",
        {"neutral": True, "augment": False},
        "mffcnn prepare jaffe {root} --neutral --no-augment",
    ),
    ("SFEW 2.0 Train", "sfew", "sfew2", {"split": "train"}, "mffcnn prepare sfew {root}"),
    ("SFEW 2.0 Val", "sfew", "sfew2", {"split": "val"}, "mffcnn prepare sfew {root} --split val"),
    ("FER+ Train, majority labels", "ferplus", "ferplus", {}, "mffcnn prepare ferplus {root}"),
    (
        "FER+ Train, vote distributions",
        "ferplus",
        "ferplus",
        {"labels": "votes"},
        "mffcnn prepare ferplus {root} --labels votes",
    ),
    (
        "FER+ Valid, majority labels",
        "ferplus",
        "ferplus",
        {"split": "valid"},
        "mffcnn prepare ferplus {root} --split valid",
    ),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="the folder holding ckplus48/, jaffe/ and sfew2/")
    ap.add_argument("--cache-dir", help="cache folder (default: a temporary one, removed afterwards)")
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()

    tmp = None if args.cache_dir else tempfile.TemporaryDirectory(prefix="mffcnn-cache-")
    cache = Path(args.cache_dir or tmp.name)
    sections = []
    for title, dataset, folder, options, command in RUNS:
        root = Path(args.data) / folder
        start = time.perf_counter()
        fs = load_dataset(dataset, root, cache=cache, refresh=True, **options)
        fresh = time.perf_counter() - start
        start = time.perf_counter()
        again = load_dataset(dataset, root, cache=cache, **options)
        cached = time.perf_counter() - start
        assert again.from_cache and len(again) == len(fs)
        p = fs.preprocessing
        face = f"Viola-Jones, margin {p.margin:g}, no face: {p.no_face}" if p.detect_face else "whole image (aligned)"
        extra = ""
        if dataset == "jaffe" and options.get("neutral"):
            found = sum(c.kept - c.whole_image for c in fs.summary.classes.values())
            total = sum(c.found for c in fs.summary.classes.values())
            extra = f"\n**Viola-Jones found a face in {found} of {total} JAFFE photos** (target 213).\n"
        sections += [
            f"### {title}",
            "",
            f"`{command.format(root=root)}` — {len(fs)} images, {len(set(fs.subjects.tolist()))} subjects; "
            f"face: {face}; prepared in {fresh:.1f} s, from the cache in {cached:.2f} s.",
            extra,
            "```",
            fs.summary.table(),
            "```",
            "",
        ]
    if tmp:
        tmp.cleanup()
    write_section(args.out, "prepare_real", "`mffcnn prepare` on the real datasets", sections)


if __name__ == "__main__":
    main()
