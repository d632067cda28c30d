"""Two gloo processes on CPU under torchrun train the same model as one process does."""

import json
import os
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

from mffcnn.studies.cv import cross_validate
from mffcnn.train.distributed import SINGLE

HERE = Path(__file__).parent


def torchrun(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(HERE.parent), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--standalone", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=cwd,
    )


# Why float64, and why these two numbers hold on any x86-64 CPU.
# DDP and one process add the same gradient terms in a different order (each rank sums its share, then the
# ranks' sums are averaged), and CPUs differ in the order they add in (vector width: AVX2 or AVX-512, FMA
# contraction, thread count). IEEE-754 arithmetic itself is the same on every x86-64 CPU; only those orders
# differ. Two orders of the same n-term sum differ by at most 2·γ_n·Σ|terms|, γ_n ≈ n·u, and u, the unit
# roundoff, is 2^-24 in float32 but 2^-53 in float64. In float32 the two runs disagreed by up to 2.2e-5 on an
# AVX-512 Xeon (issue 17), Adam amplifying the rounding of near-zero gradients, which is about as much as a
# small bias moves in 2 epochs: no float32 threshold separates "trained alike" from "did not train" on every
# CPU. The same operations in float64 shrink every rounding error by u64/u32 = 2^-29 ≈ 1.9e-9, so the worst
# float32 disagreement becomes ≈ 4e-14 (measured here: 1.6e-14, mid_fc's weight). TOLERANCE is 1e-8: a
# margin of 10^5 over that, and 10^4 below MOVED. MOVED is lr/10: Adam's first step moves every weight
# whose gradient exceeds its eps (1e-8) by ≈ lr, and the smallest movement of any tensor's largest element is
# 1.5e-3 here (image_classifier's bias), known on every CPU to within TOLERANCE. A DDP bug (a rank's share
# lost, a wrong scale) changes weights by O(lr), far above TOLERANCE; a tensor DDP left untrained moves 0.
TOLERANCE = 1e-8
MOVED = 1e-4  # lr / 10


def test_ddp_two_processes_equal_one(tmp_path):
    sys.path.insert(0, str(HERE))
    from ddp_fit import DTYPE, RECIPE, initial, train

    assert MOVED == RECIPE.lr / 10
    default = torch.get_default_dtype()
    torch.set_default_dtype(DTYPE)
    try:
        single, start = train(SINGLE), initial()
    finally:
        torch.set_default_dtype(default)
    p = torchrun(str(HERE / "ddp_fit.py"), str(tmp_path / "ddp.safetensors"), cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    ddp = load_file(tmp_path / "ddp.safetensors")
    assert ddp.keys() == single.keys()
    assert {t.dtype for t in ddp.values()} == {DTYPE}
    worst = max((ddp[k] - single[k]).abs().max().item() for k in single)
    assert worst < TOLERANCE, worst  # equal up to floating-point summation order
    # … and both trained: every tensor moved from where training started.
    for k in single:
        moved = (single[k] - start[k]).abs().max().item()
        assert moved > MOVED, f"{k} did not train ({moved})"


def test_cv_folds_spread_over_ranks_equals_one_process(tmp_path):
    args = "synthetic --subjects 6 --per-class 2 --folds 3 --epochs 1 --protocol random -q --device cpu".split()
    p = torchrun("-m", "mffcnn", "cv", *args, "--spread", "folds", "--project", str(tmp_path / "ddp"), cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.count("synthetic [synthetic]  random:") == 1  # only rank 0 prints
    ddp = json.loads((tmp_path / "ddp/cv/exp/random/results.json").read_text())
    _, (one,) = cross_validate(
        "synthetic",
        protocol="random",
        folds=3,
        epochs=1,
        device="cpu",
        dataset_options={"subjects": 6, "per_class": 2},
        project=tmp_path / "one",
        verbose=False,
    )
    assert [f["accuracy"] for f in ddp["folds"]] == [f["accuracy"] for f in one["folds"]]
    assert ddp["world_size"] == 2
    assert sorted(p.name for p in (tmp_path / "ddp/cv/exp/random/folds").iterdir()) == [
        "fold_01.json",
        "fold_02.json",
        "fold_03.json",
    ]
