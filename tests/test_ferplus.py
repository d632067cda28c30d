"""FER+ in its native layout: majority and vote labels, what is dropped and why, soft targets downstream."""

import numpy as np
import pytest
import torch
from conftest import make_ferplus

from mffcnn.data import load_dataset
from mffcnn.data.datasets.ferplus import choose
from mffcnn.data.labels import EXPRESSIONS7, relabel, union
from mffcnn.errors import MffcnnError


@pytest.fixture(scope="module")
def ferplus_root(tmp_path_factory):
    return make_ferplus(tmp_path_factory.mktemp("ferplus"))


def test_majority_keeps_unique_top_votes_and_counts_the_rest(ferplus_root):
    fs = load_dataset("ferplus", ferplus_root, cache=False)
    assert fs.class_names == EXPRESSIONS7 and fs.targets is None
    assert fs.class_counts() == {c: 1 for c in EXPRESSIONS7}
    dropped = fs.summary.to_dict()["classes"]["(no label)"]["dropped"]
    assert dropped == {
        "tie between top votes": 1,
        "top vote unknown": 1,
        "top vote not a face": 1,
        "top vote contempt (not among the classes)": 1,
    }
    assert any("1 PNGs have no row" in n for n in fs.summary.notes)
    assert len(set(fs.subjects)) == len(fs)  # no person ids: each face its own subject


def test_votes_are_soft_targets_and_keep_expression_ties(ferplus_root):
    fs = load_dataset("ferplus", ferplus_root, labels="votes", cache=False)
    assert len(fs) == 9  # 7 clear faces, the sadness/anger tie, and the contempt face's 3 neutral votes
    assert fs.targets.shape == (9, 7) and np.allclose(fs.targets.sum(1), 1)
    assert (fs.targets.argmax(1) == fs.labels).all()
    happy = fs.class_names.index("happy")
    row = fs.targets[fs.labels == happy][0]
    assert row[happy] == pytest.approx(0.7) and row.max() == pytest.approx(0.7) and (row > 0).sum() == 2
    tie = fs.targets[[p.endswith("fer0000100.png") for p in fs.paths]][0]
    assert tie[fs.class_names.index("anger")] == tie[fs.class_names.index("sadness")] == pytest.approx(0.5)


def test_contempt_on_request_and_valid_split(ferplus_root):
    fs = load_dataset("ferplus", ferplus_root, split="valid", contempt=True, cache=False)
    assert "contempt" in fs.class_names and len(fs.class_names) == 8
    assert fs.class_counts()["contempt"] == 1
    assert all("FER2013Valid" in p for p in fs.paths)
    both = load_dataset("ferplus", ferplus_root, split="all", cache=False)
    assert len(both) == 2 * 7


def test_soft_targets_survive_the_cache_relabel_and_union(ferplus_root, folder_root):
    first = load_dataset("ferplus", ferplus_root, labels="votes")
    again = load_dataset("ferplus", ferplus_root, labels="votes")
    assert again.from_cache and np.array_equal(first.targets, again.targets)
    six = relabel(first, ["anger", "disgust", "fear", "happy", "sadness", "surprise"])
    assert six.targets.shape[1] == 6 and np.allclose(six.targets.sum(1), 1)
    lab = load_dataset("folder", folder_root, cache=False)
    both = union([first, lab], EXPRESSIONS7)
    assert both.targets.shape == (len(both), 7)
    tail = both.targets[len(first) :]  # the folder set's hard labels became one-hot rows
    assert np.array_equal(tail, np.eye(7, dtype=np.float32)[both.labels[len(first) :]])


def test_choose_rules():
    votes = np.array([0, 0, 0, 0, 0, 0, 0, 0, 5, 5], float)
    assert choose(votes, EXPRESSIONS7, "votes")[2] == "top vote unknown"
    assert choose(np.zeros(10), EXPRESSIONS7, "majority")[2] == "no votes"


def test_bad_layout_and_options_are_one_line_errors(tmp_path, ferplus_root):
    with pytest.raises(MffcnnError, match="FER2013Train"):
        load_dataset("ferplus", tmp_path, cache=False)
    with pytest.raises(MffcnnError, match="label mode"):
        load_dataset("ferplus", ferplus_root, labels="probability", cache=False)
    with pytest.raises(MffcnnError, match="split"):
        load_dataset("ferplus", ferplus_root, split="dev", cache=False)


def test_broken_label_rows_and_images_are_warned_and_counted(tmp_path, ferplus_root, capsys):
    import shutil

    root = tmp_path / "broken"
    shutil.copytree(ferplus_root, root)
    csv = root / "FER2013Train" / "label.csv"
    csv.write_text(csv.read_text() + 'fer0000300.png,"(0, 0, 48, 48)",a,b\n')
    (root / "FER2013Train" / "fer0000000.png").write_bytes(b"not a png")
    fs = load_dataset("ferplus", root, cache=False)
    table = fs.summary.table()
    assert "bad label row" in table and "unreadable" in table
    assert "label.csv:12" in capsys.readouterr().err


def test_training_on_soft_targets_learns_the_votes():
    """Soft targets flow through fit: a model trained on 70/30 votes predicts close to 70/30."""
    from mffcnn.data.datasets import synthetic
    from mffcnn.model import MFFCNNConfig
    from mffcnn.train.loop import Training, fit, predict_proba
    from mffcnn.train.recipes import Recipe

    fs = synthetic.load(subjects=3, per_class=4)
    n, c = len(fs), len(fs.class_names)
    soft = np.full((n, c), 0.0, np.float32)
    soft[np.arange(n), fs.labels] = 0.7
    soft[np.arange(n), (fs.labels + 1) % c] = 0.3
    model = fit(
        fs.preprocessing.faces(fs.images),
        torch.from_numpy(soft),
        Training(model_config=MFFCNNConfig(), recipe=Recipe("t", lr=0.003, batch_size=24), epochs=40, seed=0),
    )
    p = predict_proba(model, fs.preprocessing.faces(fs.images))
    assert (p.argmax(1) == fs.labels).mean() > 0.9
    second = p[np.arange(n), (fs.labels + 1) % c]
    assert np.median(second) > 0.15  # hard labels would push it toward 0
