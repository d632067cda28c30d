"""`mffcnn prepare`: read a dataset in its native layout, select, crop and cache it (paper §4.1).

Prints per class what was found, kept and dropped, and why. A second run with the same
dataset, options and files loads the cache at once; `cv`, `train` and `evaluate` use the same
cache.
"""

from __future__ import annotations

import sys
import time

from mffcnn.commands import common


def register(sub) -> None:
    p = sub.add_parser("prepare", help="read, select, crop (Viola-Jones) and cache a dataset; print what was kept")
    common.add_dataset_args(p)
    p.add_argument("--force", action="store_true", help="prepare again even if the cache has it")
    p.add_argument(
        "--sheet",
        metavar="PNG",
        help="also write a contact sheet of the prepared faces (mind the dataset's licence before sharing it)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print only the one-line result")
    p.set_defaults(func=run)


def run(args) -> int:
    from mffcnn.data import load_dataset

    start = time.perf_counter()
    faceset = load_dataset(args.dataset, args.root, refresh=args.force, **common.dataset_options_from(args))
    seconds = time.perf_counter() - start
    if not args.quiet:
        print(faceset.summary.table())
        p = faceset.preprocessing
        finder = "Viola-Jones" if p.face_detector == "haar" else "BlazeFace"
        crop = "eyes aligned" if p.align == "eyes" else f"margin {p.margin:g}"
        face = (
            f"{finder} face crop ({crop}, no face: {p.no_face})"
            if p.detect_face
            else f"loose face crops, {finder} eyes aligned inside (no face found: whole image)"
            if p.align == "eyes"
            else "whole image (no face detection)"
        )
        print(f"preprocessing: {face}, {p.size}×{p.size} grey")
    if args.sheet:
        from mffcnn.data.sheet import faceset_sheet

        print(f"contact sheet: {faceset_sheet(faceset, args.sheet)}")
    source = "from the cache" if faceset.from_cache else "prepared"
    where = f"; cache: {faceset.cache}" if faceset.cache else ""
    counts = ", ".join(f"{c} {n}" for c, n in faceset.class_counts().items())
    print(
        f"{faceset.name}: {len(faceset)} images of {len(set(faceset.subjects.tolist()))} subjects ({counts}); "
        f"{source} in {seconds:.1f} s{where}",
        file=sys.stdout,
    )
    return 0
