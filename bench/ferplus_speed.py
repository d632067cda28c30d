"""Training throughput on FER+ Train, before and after the speed work, and the memory the faces take.

    python bench/ferplus_speed.py --data ../shared/data/ferplus [--before fca7c45] [--out BENCHMARKS.md]

Both versions train the same thing the same way, as a user would: `mffcnn train folder TREE --recipe
augmented` on FER+ Train's majority-labelled faces (7 classes), laid out as a folder per class of links
to the PNGs (the `before` code has no FER+ loader; the folder loader reads the same files in both).
Each version runs as a whole process twice, for 1 and for 3 epochs, with the dataset cache off; one
epoch's time is the difference divided by 2, so start-up, reading the PNGs and the final pass over the
training set cancel out. The versions take turns, --rounds times, and the median is reported: this shared
machine's speed drifts by ±15 % over minutes. Peak resident memory of each process is read at its exit.

`before` is a git revision checked out in a temporary worktree (default fca7c45: float32 faces, glibc's
default malloc, OMP_WAIT_POLICY=PASSIVE for every mode).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from markdown import write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# Runs mffcnn's CLI and reports the process's peak resident memory (KiB) on stderr when it exits.
WRAPPER = (
    "import atexit, resource, sys; atexit.register(lambda: print('PEAK_RSS_KIB', "
    "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)); "
    "from mffcnn.cli import main; sys.exit(main())"
)


def folder_tree(data: Path, tree: Path) -> int:
    """FER+ Train's majority-labelled faces as TREE/<class>/<file>.png links; returns their number."""
    from mffcnn.data.datasets.ferplus import load

    fs = load(data, split="train", labels="majority")
    for path, label in zip(fs.paths, fs.labels):
        folder = tree / fs.class_names[label]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / Path(path).name).symlink_to(Path(path).resolve())
    return len(fs)


def timed(code: Path, tree: Path, epochs: int, project: Path) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of `mffcnn train folder TREE --epochs N` run from the code at `code`."""
    env = {**os.environ, "PYTHONPATH": str(code), "MFFCNN_NO_CACHE": "1"}
    env.pop("OMP_WAIT_POLICY", None)  # each version sets its own, as its CLI does
    cmd = [
        sys.executable,
        "-c",
        WRAPPER,
        "train",
        "folder",
        str(tree),
        "--recipe",
        "augmented",
        "--epochs",
        str(epochs),
        "--seed",
        "0",
        "--project",
        str(project),
        "-q",
    ]
    start = time.perf_counter()
    p = subprocess.run(cmd, env=env, cwd=code, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{p.stderr[-3000:]}")
    peak = [int(line.split()[1]) for line in p.stderr.splitlines() if line.startswith("PEAK_RSS_KIB")]
    return seconds, peak[-1] / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="the FER+ folder (FER2013Train/label.csv …)")
    ap.add_argument("--before", default="fca7c45", help="git revision of the 'before' code")
    ap.add_argument("--rounds", type=int, default=2, help="interleaved repetitions; the median is reported")
    ap.add_argument("--steps", type=int, default=30, help="training steps timed per variant of the step (0: none)")
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        n = folder_tree(Path(args.data), tmp / "tree")
        before = tmp / "before"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(before), args.before], cwd=ROOT, check=True, capture_output=True
        )
        try:
            versions = ((f"before (`{args.before}`)", before), ("after (this checkout)", ROOT))
            epochs = {name: [] for name, _ in versions}
            peaks = {name: 0.0 for name, _ in versions}
            for r in range(args.rounds):  # interleaved, so that a slow spell of the machine hits both versions
                runs = {}
                for count in (1, 3):
                    for name, code in versions:
                        runs[name, count], peak = timed(code, tmp / "tree", count, tmp / f"{code.name}-{count}-{r}")
                        peaks[name] = max(peaks[name], peak)
                for name, _ in versions:
                    epochs[name].append((runs[name, 3] - runs[name, 1]) / 2)
                    print(f"round {r + 1}, {name}: {epochs[name][-1]:.1f} s per epoch", flush=True)
            for name, _ in versions:
                epoch = statistics.median(epochs[name])
                rows.append((name, epoch, n / epoch, peaks[name]))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(before)], cwd=ROOT, capture_output=True)

    base = rows[0][1]
    steps = step_times(Path(args.data), args.steps) if args.steps else []
    per_round = "; ".join(f"{k} " + ", ".join(f"{e:.1f}" for e in v) + " s" for k, v in epochs.items())
    write_section(
        args.out,
        "ferplus_speed",
        "Training throughput on FER+ Train",
        [
            f"Each version runs `mffcnn train folder TREE --recipe augmented` (batch 100, with its jitter) on FER+ Train's "
            f"{n:,} majority-labelled faces as whole processes of 1 and 3 epochs; an epoch is half their difference "
            f"(median of {args.rounds} interleaved rounds: {per_round}).",
            "",
            "| code | seconds per epoch | faces per second | speed-up | peak memory (whole process) |",
            "|---|---:|---:|---:|---:|",
            *[f"| {name} | {e:.1f} | {f:,.0f} | {base / e:.2f}× | {p:,.0f} MiB |" for name, e, f, p in rows],
            "",
            "What changed: faces stay uint8 in memory and are normalised a batch at a time (mffcnn.data.preprocess."
            "Faces); glibc's malloc keeps freed blocks for reuse (mffcnn.train.loop.keep_freed_memory: each step's ~10 MB "
            "activation buffers no longer come from fresh mmap calls, page fault by page fault); Adam's update is one "
            "fused kernel; the mid-level FC and the patch windows read the channels_last maps in their own memory order "
            "(no layout conversion in the backward pass); training no longer sets OMP_WAIT_POLICY=PASSIVE (kept for "
            "predict and export). The model and its function are unchanged.",
            *(
                [
                    "",
                    f"One training step (batch 100 of FER+ faces, jitter included; median of {args.steps} steps, this "
                    "process, the memory pool kept), by how it is computed:",
                    "",
                    "| variant | ms per step | faces per second |",
                    "|---|---:|---:|",
                    *[f"| {name} | {ms:.1f} | {100_000 / ms:,.0f} |" for name, ms in steps],
                ]
                if steps
                else []
            ),
        ],
    )


def step_times(data: Path, n: int) -> list[tuple[str, float]]:
    """Median ms of `n` training steps of this checkout, computed in three ways: as mffcnn trains (channels_last),
    with contiguous (NCHW) tensors, and compiled by torch.compile (its compile time in the name)."""
    import time

    import torch

    from mffcnn.data.datasets.ferplus import load
    from mffcnn.model import MFFCNN, MFFCNNConfig
    from mffcnn.train import loop
    from mffcnn.train.recipes import get_recipe

    fs = load(data, split="train")
    x, y = fs.preprocessing.faces(fs.images[: 100 * (n + 3)]), torch.from_numpy(fs.labels[: 100 * (n + 3)])
    recipe, draws = get_recipe("augmented"), loop.jitter_draws(len(y), 0, 0)
    loop.keep_freed_memory()
    out = []
    for name, layout, compiled in (
        ("channels_last (as mffcnn trains)", torch.channels_last, False),
        ("contiguous NCHW", torch.contiguous_format, False),
        ("channels_last + torch.compile", torch.channels_last, True),
    ):
        torch.manual_seed(0)
        model = MFFCNN(MFFCNNConfig(num_classes=len(fs.class_names))).to(memory_format=layout)
        step = loop._LossOf(model)
        step = torch.compile(step) if compiled else step
        optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr, fused=True)
        times = []
        for i in range(n + 3):
            idx = torch.arange(100 * i, 100 * (i + 1))
            start = time.perf_counter()
            xb = loop.jitter(loop.inputs(x, idx), draws[idx], recipe).contiguous(memory_format=layout)
            step(xb, y[idx]).backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            times.append(time.perf_counter() - start)
        label = f"{name} (first step, compiling: {times[0]:.0f} s)" if compiled else name
        out.append((label, 1e3 * statistics.median(times[3:])))
        print(f"{label}: {out[-1][1]:.1f} ms per step", flush=True)
    return out


if __name__ == "__main__":
    main()
