"""bench/soup.py: the mean of the weights of checkpoints (the bundled model is one)."""

import subprocess
import sys
from pathlib import Path

import torch
from conftest import UNTRAINED_CLASSES

from mffcnn.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from mffcnn.data.preprocess import Preprocessing
from mffcnn.model import MFFCNN, MFFCNNConfig

SOUP = Path(__file__).resolve().parent.parent / "bench" / "soup.py"


def checkpoint(path, seed, classes=UNTRAINED_CLASSES, preprocessing=Preprocessing(), **info):
    torch.manual_seed(seed)
    model = MFFCNN(MFFCNNConfig(num_classes=len(classes)))
    for m in model.modules():  # batch-norm statistics that differ between the two, as trained ones do
        if isinstance(m, torch.nn.BatchNorm2d | torch.nn.BatchNorm1d):
            m.running_mean.uniform_(-1, 1)
            m.num_batches_tracked.fill_(seed + 5)
    return save_checkpoint(path, Checkpoint(model, classes, preprocessing, {"dataset": "test", **info}))


def soup(*args):
    return subprocess.run([sys.executable, str(SOUP), *map(str, args)], capture_output=True, text=True)


def test_the_soup_is_the_mean_of_the_weights(tmp_path):
    a = checkpoint(tmp_path / "a.safetensors", 0, epochs=3, command="one")
    b = checkpoint(tmp_path / "b.safetensors", 1, epochs=30, command="two")
    r = soup(a, b, "--out", tmp_path / "s.safetensors")
    assert r.returncode == 0, r.stderr
    s, ca, cb = (load_checkpoint(p) for p in (tmp_path / "s.safetensors", a, b))
    sa, sb, ss = ca.model.state_dict(), cb.model.state_dict(), s.model.state_dict()
    for k, v in ss.items():
        if v.is_floating_point():
            assert torch.allclose(v, (sa[k] + sb[k]) / 2, atol=1e-6), k
        else:
            assert torch.equal(v, sa[k]), k  # counters: the first's
    assert any(not torch.equal(sa[k], sb[k]) for k in sa)  # the ingredients differed
    assert s.info["dataset"] == "test" and "epochs" not in s.info  # what they share on top, the rest per ingredient
    assert [x["epochs"] for x in s.info["soup"]] == [3, 30] and [x["command"] for x in s.info["soup"]] == ["one", "two"]


def test_a_soup_was_trained_on_every_dataset_of_its_ingredients(tmp_path):
    part = lambda name, n: {"spec": f"{name}:/data/{name}", "dataset": name, "images": n, "class_counts": {"x": n}}
    labs = [part("ferplus", 10), part("jaffe", 2)]
    a = checkpoint(tmp_path / "a.safetensors", 0, trained_on=[labs[0]])  # without the lab, first
    b = checkpoint(tmp_path / "b.safetensors", 1, trained_on=labs)
    assert soup(a, b, "--out", tmp_path / "s.safetensors").returncode == 0
    info = load_checkpoint(tmp_path / "s.safetensors").info
    assert [p["dataset"] for p in info["trained_on"]] == ["ferplus", "jaffe"]
    assert info["dataset"] == "ferplus+jaffe" and info["n_images"] == 12 and info["class_counts"] == {"x": 12}
    assert soup(b, b, "--out", tmp_path / "t.safetensors").returncode == 0  # the same data: the first's fields
    assert load_checkpoint(tmp_path / "t.safetensors").info["trained_on"] == labs


def test_a_soup_of_unlike_checkpoints_or_over_a_file_is_refused(tmp_path):
    a = checkpoint(tmp_path / "a.safetensors", 0)
    other = checkpoint(tmp_path / "o.safetensors", 1, classes=["x", "y"])
    r = soup(a, other, "--out", tmp_path / "s.safetensors")
    assert r.returncode != 0 and "differs" in r.stderr and not (tmp_path / "s.safetensors").exists()
    before = a.read_bytes()
    r = soup(a, a, "--out", a)
    assert r.returncode != 0 and "not overwritten" in r.stderr and a.read_bytes() == before
    assert soup(a, "--out", tmp_path / "t.safetensors").returncode != 0  # one checkpoint is no soup
    # the box margin differs: unlike for box crops, alike for eye-aligned ones (which do not use it)
    box = [checkpoint(tmp_path / f"b{m}.safetensors", 0, preprocessing=Preprocessing(margin=m)) for m in (0, 0.1)]
    assert soup(*box, "--out", tmp_path / "u.safetensors").returncode != 0
    eyes = [
        checkpoint(tmp_path / f"e{m}.safetensors", 0, preprocessing=Preprocessing(align="eyes", margin=m))
        for m in (0, 0.1)
    ]
    assert soup(*eyes, "--out", tmp_path / "v.safetensors").returncode == 0


def test_a_missing_checkpoint_is_one_line(tmp_path):
    a = checkpoint(tmp_path / "a.safetensors", 0)
    r = soup(a, tmp_path / "nothing.safetensors", "--out", tmp_path / "s.safetensors")
    assert r.returncode != 0 and "Traceback" not in r.stderr and "does not exist" in r.stderr
