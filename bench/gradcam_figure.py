"""A Grad-CAM figure like the paper's Fig. 8, for one face per class.

    python bench/gradcam_figure.py                                   # synthetic faces → docs/gradcam.png
    python bench/gradcam_figure.py --data ../shared/data/ckplus48    # CK+48 → runs/bench/gradcam_ckplus48.png

Trains a model on all of the dataset (or takes --checkpoint), picks one random face per class (seeded)
and draws, for each, the four Grad-CAM maps of Fig. 8 and the weight of every feature vector after
selection (mffcnn.gradcam). The committed docs/gradcam.png is made from the synthetic faces only:
real datasets' images must not be committed (research licences), so a figure made from --data is
written under runs/ and this script refuses to write it into docs/.

The PNG is reduced to 256 colours so that the committed file stays small (< 300 KB).

The model is trained with the default recipe (mffcnn/train/recipes.py). With the paper's lr 0.01
the Patch Branch often dies — every ReLU of its CNN outputs 0 for every face (dying ReLUs), the model
predicts from the Image Branch alone and the patch maps' Grad-CAM is empty; `mffcnn gradcam` warns
when a branch is dead, and the figure says so.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from mffcnn.studies._run import StudyOptions
from mffcnn.studies.gradcam import gradcam
from mffcnn.studies.train import train

ROOT = Path(__file__).resolve().parent.parent


def compact_png(src: Path, dst: Path) -> int:
    """Copy a PNG as a 256-colour palette image (Grad-CAM figures quantise well); returns its size."""
    from PIL import Image

    dst.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(src) as im:
        im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            dst, optimize=True
        )
    return dst.stat().st_size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", help="a dataset folder (default: the synthetic faces)")
    ap.add_argument("--dataset", default="ckplus48", help="the layout of --data (default ckplus48)")
    ap.add_argument("--checkpoint", help="use this model instead of training one")
    ap.add_argument("--epochs", type=int, help="training epochs (default: 15 on synthetic, the paper's on --data)")
    ap.add_argument("--lr", type=float, help="learning rate (default: the default recipe's)")
    ap.add_argument("--seed", type=int, default=0, help="training seed and which face per class")
    ap.add_argument("--style", choices=["overlay", "multiply"], default="overlay")
    ap.add_argument("--project", default="runs/bench")
    ap.add_argument(
        "--out", help="the PNG to write (default: docs/gradcam.png, or runs/bench/gradcam_DATASET.png with --data)"
    )
    args = ap.parse_args()

    synthetic = args.data is None
    dataset = "synthetic" if synthetic else args.dataset
    out = (
        Path(args.out)
        if args.out
        else (ROOT / "docs" / "gradcam.png" if synthetic else Path(args.project) / f"gradcam_{dataset}.png")
    )
    if not synthetic and (ROOT / "docs").resolve() in out.resolve().parents:
        sys.exit(
            "refusing to write a figure of dataset images into docs/ (research licences): choose --out under runs/"
        )

    start = time.perf_counter()
    study = StudyOptions(
        seed=args.seed,
        project=args.project,
        name=f"gradcam-{dataset}",
        lr=args.lr,
        command=shlex.join(["python", *sys.argv]),
    )
    if args.checkpoint:
        checkpoint = Path(args.checkpoint)
    else:
        epochs = args.epochs or (15 if synthetic else None)
        run_dir, ckpt = train(dataset, args.data, options=study, epochs=epochs)
        checkpoint = run_dir / "model.safetensors"
        accuracy = 100 * ckpt.info["scores"]["train_accuracy"]
        print(f"trained {checkpoint}: training accuracy {accuracy:.1f} % ({time.perf_counter() - start:.0f} s)")
    run_dir, r = gradcam(checkpoint, dataset=dataset, root=args.data, per_class=True, style=args.style, options=study)
    size = compact_png(run_dir / r["figures"][0], out)
    for s in r["samples"]:
        print(
            f"  {s['label']:<9} predicted {s['predicted']:<9} ({100 * s['probabilities'][s['predicted']]:.0f} %), "
            f"{s['discarded_vectors']} vectors discarded, max |α| of those: {s['max_abs_weight_discarded']:g}; "
            f"active: {', '.join(f'{k} {100 * v:.0f} %' for k, v in s['active_fraction'].items())}"
        )
    print(f"figure: {out} ({size / 1024:.0f} KB); run folder {run_dir}; {time.perf_counter() - start:.0f} s in all")
    if synthetic and size > 300 * 1024:
        print("warning: the figure is over 300 KB", file=sys.stderr)


if __name__ == "__main__":
    main()
