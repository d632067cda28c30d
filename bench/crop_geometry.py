"""How aligned datasets frame a face compared with a Viola-Jones box, and what the crop margin does on lab photos.

    python bench/crop_geometry.py --ferplus ../shared/data/ferplus --ckplus48 ../shared/data/ckplus48 \\
        --sfew ../shared/data/sfew2 --jaffe ../shared/data/jaffe [--model runs/bench/ferplus/MODEL.safetensors] \\
        [--out BENCHMARKS.md]

A model learns faces framed as its training crops frame them; `predict` cuts faces from photos with
Viola-Jones and grows each box by the checkpoint's margin. The two must agree. Two measurements:

1. Framing of each aligned dataset, two ways. (a) The detector on the crops themselves: each crop enlarged
   4× and set in a border of its own edge pixels, so the detector sees a face in a scene; the median
   detected box side / crop side (bench/train_default_model.py's crop_calibration). (b) Mean faces: the mean
   of the dataset's standardised crops, correlated with the mean of JAFFE's Viola-Jones crops at margins
   −0.10 … +0.40 and vertical shifts of the box; the best match says which margin frames a face alike.
   Neither uses labels.
2. The margin's effect: a model trained on FER+ (--model) classifies JAFFE's 213 photos (10 women, 7 classes
   with neutral; a lab and people it has never seen) through predict's own pipeline — detector, largest
   face, crop at each margin.
"""

from __future__ import annotations

import argparse
import glob
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from jaffe_photos import jaffe_photos, largest_faces, per_class  # noqa: E402
from markdown import write_section  # noqa: E402
from train_default_model import crop_calibration  # noqa: E402

from mffcnn.data.face import Box, DetectorSettings, crop_box, detect_faces  # noqa: E402
from mffcnn.data.images import read_grey  # noqa: E402
from mffcnn.data.preprocess import resize_square  # noqa: E402

MARGINS = (-0.1, -0.05, 0.0, 0.05, 0.1, 0.2, 0.3, 0.4)
SHIFTS = (-0.1, -0.05, 0.0, 0.05, 0.1)  # of the box height, downwards


def standardised(face: np.ndarray) -> np.ndarray:
    f = face.astype(np.float32)
    return (f - f.mean()) / (f.std() + 1e-3)


def aligned_faces(pattern: str, limit: int) -> np.ndarray:
    """60×60 grey crops of an aligned dataset's files (non-square ones resized whole, as the loaders do)."""
    faces = []
    for path in sorted(glob.glob(pattern))[:limit]:
        grey = read_grey(path)
        if grey.std() >= 1.0:  # the blank failed alignments of SFEW
            faces.append(resize_square(grey, 60))
    return np.stack(faces)


def blazeface_framing(faces: np.ndarray, *, n: int, seed: int = 0) -> dict:
    """crop_calibration's measurement with predict's detector: each crop enlarged 4× and set in a border of its
    own edge pixels; the median BlazeFace box side (Viola-Jones convention) over the crop side."""
    import cv2

    from mffcnn.data.blazeface import BlazeFaceSettings
    from mffcnn.data.detectors import detect

    rng = np.random.default_rng(seed)
    pick = rng.choice(len(faces), size=min(n, len(faces)), replace=False)
    ratios = []
    for face in faces[pick]:
        side = face.shape[0] * 4
        big = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
        scene = cv2.copyMakeBorder(big, side, side, side, side, cv2.BORDER_REPLICATE)
        found = detect(scene, BlazeFaceSettings(min_size=0.15))
        if found:
            ratios.append(found[0].box.w / side)
    out = {"detected": len(ratios), "tried": len(pick)}
    if ratios:
        out["box_over_crop"] = round(float(np.median(ratios)), 3)
    return out


def jaffe_means(jaffe: str) -> dict[tuple[float, float], np.ndarray]:
    photos = [read_grey(p) for p, _, _ in jaffe_photos(jaffe, neutral=True)]
    boxes = [detect_faces(g, DetectorSettings())[0] for g in photos]
    means = {}
    for m in MARGINS:
        for dy in SHIFTS:
            crops = [
                standardised(crop_box(g, Box(b.x, int(round(b.y + dy * b.h)), b.w, b.h), margin=m, size=60))
                for g, b in zip(photos, boxes)
            ]
            means[(m, dy)] = np.mean(crops, 0)
    return means


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def margin_effect(model_path: str, jaffe: str) -> list[tuple[float, float, dict]]:
    from mffcnn.predict import load_model

    model = load_model(model_path)
    photos = jaffe_photos(jaffe, neutral="neutral" in model.class_names)
    truth = np.array([label for _, label, _ in photos])
    rows = []
    for m in MARGINS:
        pre = replace(model.preprocessing, margin=m)
        crops, _, found = largest_faces([p for p, _, _ in photos], pre)
        pred = np.array(model.class_names)[model.probabilities(crops).argmax(1)]
        pred = np.where(found, pred, "")
        rows.append((m, float((pred == truth).mean()), per_class(truth, pred, model.class_names)))
        print(f"margin {m:+.2f}: {100 * rows[-1][1]:.1f} %", flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jaffe", required=True, help="JAFFE (uncropped photos): the Viola-Jones reference")
    ap.add_argument("--model", help="a model trained on FER+ alone, for the margin's effect on JAFFE")
    for name in ("ferplus", "ckplus48", "sfew", "affectnet"):
        ap.add_argument(f"--{name}", help=f"the {name} folder: its framing is measured")
    ap.add_argument("--section", default="crop_geometry", help="the BENCHMARKS.md section to write")
    ap.add_argument("--limit", type=int, default=5000, help="crops per dataset for the framing")
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()

    patterns = {
        "ferplus": f"{args.ferplus}/FER2013Train/*.png" if args.ferplus else None,
        "ckplus48": f"{args.ckplus48}/*/*.png" if args.ckplus48 else None,
        "sfew": f"{args.sfew}/Train/*/*.png" if args.sfew else None,
        "affectnet": f"{args.affectnet}/train/*/*.jpg" if args.affectnet else None,
    }
    means = jaffe_means(args.jaffe)
    framing = []
    for name, pattern in patterns.items():
        if pattern is None:
            continue
        faces = aligned_faces(pattern, args.limit)
        calibration = crop_calibration(faces, replace(DetectorSettings()), n=400)
        blaze = blazeface_framing(faces, n=400)
        mean = np.mean([standardised(f) for f in faces], 0)
        scored = sorted(((correlation(mean, v), k) for k, v in means.items()), reverse=True)
        (best, (margin, shift)) = scored[0]
        at_zero = correlation(mean, means[(0.0, 0.0)])
        framing.append(
            f"| {name} | {len(faces):,} | {calibration.get('box_over_crop', '–')} "
            f"({calibration['detected']}/{calibration['tried']} detected) | {blaze.get('box_over_crop', '–')} "
            f"({blaze['detected']}/{blaze['tried']} detected) | {margin:+.2f} | {shift:+.2f} | "
            f"{best:.3f} | {at_zero:.3f} |"
        )
        print(framing[-1], flush=True)
    effect = margin_effect(args.model, args.jaffe) if args.model else []
    n_photos = len(jaffe_photos(args.jaffe, neutral=True))

    effect_table = ["| margin | accuracy % | per class % |", "|---:|---:|---|"]
    for margin, accuracy, per in effect:
        effect_table.append(
            f"| {margin:+.2f} | {100 * accuracy:.1f} | "
            + ", ".join(f"{c} {100 * a:.0f}" for c, a in per.items())
            + " |"
        )
    write_section(
        args.out,
        args.section,
        "Crop geometry: aligned datasets against Viola-Jones, and the margin on lab photos",
        [
            "Framing: (a) detector box side / crop side, on crops set in a scene (1.0: the crop is the detector's box), "
            "for the Viola-Jones cascade and for predict's BlazeFace (its box mapped onto the Viola-Jones convention, "
            "mffcnn.data.detectors); "
            "(b) the margin and vertical box shift at which the mean JAFFE Viola-Jones crop best matches the dataset's "
            "mean crop (correlation of the two mean faces; at margin 0 and no shift for comparison).",
            "",
            "| dataset | crops | (a) Viola-Jones box / crop | (a) BlazeFace box / crop | (b) best margin | (b) best shift "
            "| correlation | at margin 0 |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
            *framing,
            *(
                [
                    "",
                    f"The margin's effect on lab photos: `{args.model}` (trained on FER+ alone) on JAFFE's {n_photos} "
                    "photos through predict's pipeline (a photo without a detected face counts as wrong).",
                    "",
                    *effect_table,
                ]
                if effect
                else []
            ),
        ],
    )


if __name__ == "__main__":
    main()
