"""Training at scale: memory and time per epoch on 300,000 faces (AffectNet's size; FER+ has 28,558).

    python bench/scale.py [--faces 300000] [--epochs 1] [--out BENCHMARKS.md]

36,000 synthetic 60×60 faces are drawn (mffcnn.data.synthetic) and repeated up to --faces (what is held in
memory and how fast it trains do not depend on which faces they are); the default recipe trains on them,
timing each epoch and reading the process's peak resident memory. Faces stay uint8 and are normalised a
batch at a time (mffcnn.data.preprocess.Faces).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
import torch  # noqa: E402
from markdown import write_section  # noqa: E402

from mffcnn.data.datasets import synthetic  # noqa: E402
from mffcnn.model import MFFCNNConfig  # noqa: E402
from mffcnn.train.loop import Training, fit  # noqa: E402
from mffcnn.train.recipes import DEFAULT_RECIPE, get_recipe  # noqa: E402

FERPLUS_TRAIN = 28_558  # FER2013Train/'s faces (../shared/data/README.md), before any is dropped


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--faces", type=int, default=300_000)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--recipe", default=DEFAULT_RECIPE)
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()

    start = time.perf_counter()
    fs = synthetic.load(subjects=100, per_class=60)  # 36,000 faces
    n = args.faces
    reps = -(-n // len(fs))
    x = fs.preprocessing.faces(np.tile(fs.images, (reps, 1, 1))[:n])
    y = torch.from_numpy(np.tile(fs.labels, reps)[:n])
    del fs
    generated = time.perf_counter() - start
    before = peak_mib()

    recipe = get_recipe(args.recipe)
    times = []
    last = time.perf_counter()

    def on_epoch(epoch: int, loss: float) -> None:
        nonlocal last
        now = time.perf_counter()
        times.append(now - last)
        last = now
        print(f"epoch {epoch + 1}: {times[-1]:.1f} s, loss {loss:.3f}", flush=True)

    fit(
        x,
        y,
        Training(model_config=recipe.model_config(MFFCNNConfig()), recipe=recipe, epochs=args.epochs, seed=0),
        on_epoch=on_epoch,
    )
    per_epoch = sum(times) / len(times)
    face_kib = x.pixels[0].numel() / 1024
    write_section(
        args.out,
        "scale",
        "Training at scale",
        [
            "| faces | seconds per epoch | faces per second | peak memory (whole process) | faces in memory | "
            "time to make the faces |",
            "|---:|---:|---:|---:|---:|---:|",
            f"| {n:,} | {per_epoch:.1f} | {n / per_epoch:,.0f} | {peak_mib():,.0f} MiB | "
            f"{x.pixels.numel() / 2**20:,.0f} MiB as uint8 (peak before training: {before:,.0f} MiB) | {generated:.0f} s |",
            "",
            f"Recipe `{recipe.name}` (batch {recipe.batch_size}, with its on-the-fly augmentation). Faces are held as "
            f"uint8, {face_kib:.1f} KiB each, and only the batch in training is float32 ({4 * face_kib:.1f} KiB a "
            f"face): FER+ Train's {FERPLUS_TRAIN:,} faces take {FERPLUS_TRAIN * face_kib / 1024:.0f} MiB.",
        ],
    )


if __name__ == "__main__":
    main()
