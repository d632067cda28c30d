"""Training at FER2013's scale: memory and time per epoch on 36,000 faces.

    python bench/scale.py [--faces 36000] [--epochs 2] [--out BENCHMARKS.md]

FER2013 has 35,887 faces; we generate as many synthetic 60×60 faces (mffcnn.data.synthetic) and
train the default recipe on them, timing each epoch and reading the process's peak resident memory.
"""

from __future__ import annotations

import argparse
import datetime
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from markdown import update_section  # noqa: E402

import torch  # noqa: E402

from mffcnn.data import synthetic  # noqa: E402
from mffcnn.model import MFFCNNConfig  # noqa: E402
from mffcnn.runs import machine_info  # noqa: E402
from mffcnn.train.loop import fit  # noqa: E402
from mffcnn.train.recipes import DEFAULT_RECIPE, get_recipe  # noqa: E402


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--faces", type=int, default=36_000)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--recipe", default=DEFAULT_RECIPE)
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()

    start = time.perf_counter()
    per_class = -(-args.faces // (6 * 100))  # 100 people
    fs = synthetic.load(subjects=100, per_class=per_class)
    n = min(args.faces, len(fs))
    x, y = fs.preprocessing.to_tensor(fs.images[:n]), torch.from_numpy(fs.labels[:n])
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

    fit(x, y, model_config=recipe.model_config(MFFCNNConfig()), recipe=recipe, epochs=args.epochs, seed=0,
        on_epoch=on_epoch)
    m = machine_info()
    per_epoch = sum(times) / len(times)
    body = "\n".join([
        "## Training at FER2013 scale (`python bench/scale.py`)",
        "",
        f"Command: `python bench/scale.py --faces {args.faces} --epochs {args.epochs}`, {datetime.date.today()}, on "
        f"{m['cpu']} ({m['cores']} cores, torch {m['torch']}, {m['torch_threads']} threads).",
        "",
        "| faces | seconds per epoch | faces per second | peak memory (whole process) | data in memory | "
        "time to generate the faces |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {n:,} | {per_epoch:.1f} | {n / per_epoch:,.0f} | {peak_mib():,.0f} MiB | "
        f"{x.numel() * 4 / 2**20:,.0f} MiB as float32 (peak before training: {before:,.0f} MiB) | {generated:.0f} s |",
        "",
        f"Recipe `{recipe.name}` (batch {recipe.batch_size}, with its on-the-fly augmentation). FER2013's 35,887 faces "
        f"would take about {35_887 / (n / per_epoch) / 60:.1f} min per epoch here; the paper's 25 epochs "
        f"≈ {25 * 35_887 / (n / per_epoch) / 3600:.1f} h on these 2 cores. Faces are held in memory as float32 "
        "(14 KiB each): AffectNet's ~400,000 would need ~5.5 GiB.",
    ])
    update_section(args.out, "scale", body)
    print(body)


if __name__ == "__main__":
    main()
