"""Two gloo processes on CPU under torchrun train the same model as one process does."""

import json
import os
import subprocess
import sys
from pathlib import Path

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


def test_ddp_two_processes_equal_one(tmp_path):
    sys.path.insert(0, str(HERE))
    from ddp_fit import initial, train

    single, start = train(SINGLE), initial()
    p = torchrun(str(HERE / "ddp_fit.py"), str(tmp_path / "ddp.safetensors"), cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    ddp = load_file(tmp_path / "ddp.safetensors")
    assert ddp.keys() == single.keys()
    worst = max((ddp[k] - single[k]).abs().max().item() for k in single)
    assert worst < 1e-4, worst  # equal up to floating-point summation order
    # … and both trained: every tensor moved from where training started, by more than their disagreement.
    for k in single:
        moved = (single[k] - start[k]).abs().max().item()
        assert moved > 100 * worst and moved > 1e-5, f"{k} did not train ({moved})"


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
