"""Training loop guarantees: seeds, resume after a kill, NaN stops, per-epoch states."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from mffcnn.data.datasets import synthetic
from mffcnn.model import MFFCNNConfig
from mffcnn.train import loop
from mffcnn.train.loop import Training, TrainingDiverged, epoch_batches, fit
from mffcnn.train.recipes import Recipe, get_recipe

ROOT = Path(__file__).parent.parent


def tiny(subjects=2, per_class=3):
    fs = synthetic.load(subjects=subjects, per_class=per_class)
    return fs.preprocessing.to_tensor(fs.images), torch.from_numpy(fs.labels)


def test_paper_recipe_is_section_4_2():
    r = get_recipe("paper")
    assert (r.lr, r.batch_size, r.lr_decay, r.decay_every) == (0.01, 100, 0.93, 3)
    assert [r.lr_at(e) for e in (0, 2, 3, 6)] == pytest.approx([0.01, 0.01, 0.0093, 0.01 * 0.93**2])
    assert (r.flip, r.rotate, r.scale, r.shift, r.dropout, r.weight_decay) == (False, 0, 0, 0, 0, 0)


def test_epoch_batches_cover_the_data_and_depend_on_seed_and_epoch():
    b = epoch_batches(250, 100, seed=1, epoch=0)
    assert [len(x) for x in b] == [100, 100, 50]
    assert sorted(torch.cat(b).tolist()) == list(range(250))
    assert torch.equal(torch.cat(b), torch.cat(epoch_batches(250, 100, seed=1, epoch=0)))
    assert not torch.equal(torch.cat(b), torch.cat(epoch_batches(250, 100, seed=1, epoch=1)))


def test_same_seed_same_weights_other_seed_other_weights():
    x, y = tiny()
    r = Recipe("t", lr=0.001, batch_size=16, flip=True, rotate=10, shift=2)
    a = fit(x, y, Training(model_config=MFFCNNConfig(), recipe=r, epochs=2, seed=1))
    b = fit(x, y, Training(model_config=MFFCNNConfig(), recipe=r, epochs=2, seed=1))
    c = fit(x, y, Training(model_config=MFFCNNConfig(), recipe=r, epochs=2, seed=2))
    for k, v in a.state_dict().items():
        assert torch.equal(v, b.state_dict()[k])
    assert any(not torch.equal(v, c.state_dict()[k]) for k, v in a.state_dict().items())


def test_resume_from_state_equals_uninterrupted(tmp_path):
    x, y = tiny()
    r = Recipe("t", lr=0.001, batch_size=16, flip=True, shift=2, dropout=0.3)
    full = fit(x, y, Training(model_config=MFFCNNConfig(dropout=0.3), recipe=r, epochs=4, seed=3))
    state = tmp_path / "state.pt"
    fit(x, y, Training(model_config=MFFCNNConfig(dropout=0.3), recipe=r, epochs=2, seed=3), state_path=state)
    assert torch.load(state, weights_only=True)["epoch"] == 1
    resumed = fit(x, y, Training(model_config=MFFCNNConfig(dropout=0.3), recipe=r, epochs=4, seed=3), state_path=state)
    for k, v in full.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k]), k


def test_nan_loss_stops_with_epoch_and_batch_and_keeps_last_good_state(tmp_path, monkeypatch):
    x, y = tiny()
    calls = {"n": 0}
    real_jitter = loop.jitter

    def poisoned(xb, draws, recipe, turns=None):
        calls["n"] += 1
        out = real_jitter(xb, draws, recipe, turns)
        return out * float("nan") if calls["n"] == 8 else out  # batch 2 of epoch 3 (3 batches per epoch)

    monkeypatch.setattr(loop, "jitter", poisoned)
    state = tmp_path / "state.pt"
    with pytest.raises(TrainingDiverged, match=r"epoch 3, batch 2.*last good state \(epoch 2\)"):
        fit(
            x,
            y,
            Training(model_config=MFFCNNConfig(), recipe=Recipe("t", batch_size=16), epochs=5, seed=0),
            state_path=state,
        )
    good = torch.load(state, weights_only=True)
    assert good["epoch"] == 1 and all(torch.isfinite(v).all() for v in good["model"].values())


def test_damaged_state_file_is_a_clear_error(tmp_path):
    x, y = tiny()
    (tmp_path / "state.pt").write_bytes(b"garbage")
    with pytest.raises(Exception, match="cannot resume from"):
        fit(
            x,
            y,
            Training(model_config=MFFCNNConfig(), recipe=Recipe("t"), epochs=1, seed=0),
            state_path=tmp_path / "state.pt",
        )


def test_killed_train_run_resumes_to_the_uninterrupted_result(tmp_path):
    """A real process is killed (SIGKILL) mid-way, then `mffcnn train --resume` finishes it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    args = [
        sys.executable,
        *"-m mffcnn train synthetic --subjects 3 --per-class 4 --epochs 40 --recipe paper --lr 0.001 --device cpu -q".split(),
    ]
    ref = subprocess.run(
        args + ["--project", str(tmp_path / "ref")], env=env, capture_output=True, text=True, timeout=600
    )
    assert ref.returncode == 0, ref.stderr

    proc = subprocess.Popen(
        args + ["--project", str(tmp_path / "run")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    state = tmp_path / "run/train/exp/state.pt"
    deadline = time.time() + 300
    while not state.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert state.exists() and not (tmp_path / "run/train/exp/model.safetensors").exists()
    killed_after = torch.load(state, weights_only=True)["epoch"]
    # Killed within milliseconds of the first epoch's state, with 39 epochs of work still ahead: mid-way for sure.
    assert killed_after < 39

    res = subprocess.run(
        [sys.executable, "-m", "mffcnn", "train", "--resume", "--project", str(tmp_path / "run"), "-q"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    a = load_file(tmp_path / "ref/train/exp/model.safetensors")
    b = load_file(tmp_path / "run/train/exp/model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not state.exists()
    info = json.loads((tmp_path / "run/train/exp/options.json").read_text())
    assert info["epochs"] == 40


def test_cosine_schedule_and_warm_up():
    r = Recipe("t", lr=0.01, schedule="cosine", warmup_epochs=2)
    assert r.lr_at(0, 10) == pytest.approx(0.01 / 3)
    assert r.lr_at(5, 10) == pytest.approx(0.01 * 0.5)
    assert r.lr_at(9, 10) < 0.0003
    with pytest.raises(ValueError):
        Recipe("t", schedule="linear")


def test_class_weights_and_balanced_sampling():
    y = torch.tensor([0] * 90 + [1] * 10)
    w = loop.class_weights(y, 2, 1.0)
    assert w[1] / w[0] == pytest.approx(9.0)
    assert (w[y]).mean() == pytest.approx(1.0)
    assert loop.class_weights(y, 2, 0.0) is None
    drawn = torch.cat(epoch_batches(100, 100, seed=0, epoch=0, weights=w[y]))
    assert 30 < (y[drawn] == 1).sum() < 70  # about half once every class counts alike (10 % without)


def test_uint8_faces_train_exactly_as_float_input():
    """Faces kept as uint8 and normalised per batch give the very weights of the old float tensor input."""
    fs = synthetic.load(subjects=2, per_class=3)
    y = torch.from_numpy(fs.labels)
    r = Recipe("t", lr=0.001, batch_size=16)
    a = fit(fs.preprocessing.to_tensor(fs.images), y, Training(model_config=MFFCNNConfig(), recipe=r, epochs=2, seed=4))
    b = fit(fs.preprocessing.faces(fs.images), y, Training(model_config=MFFCNNConfig(), recipe=r, epochs=2, seed=4))
    for k, v in a.state_dict().items():
        assert torch.equal(v, b.state_dict()[k])
