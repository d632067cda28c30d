"""One label space for all datasets (labels.py) and the SFEW protocol (transfer.py, §4.6)."""

import json

import numpy as np
import pytest
import torch
from conftest import make_jaffe, make_sfew

from mffcnn.checkpoint import load_checkpoint
from mffcnn.cli import main
from mffcnn.data.datasets import DatasetSpec, synthetic
from mffcnn.data.labels import EXPRESSIONS7, canonical, relabel, union
from mffcnn.errors import MffcnnError
from mffcnn.report.collect import find_runs
from mffcnn.report.html import report_blocks
from mffcnn.report.page import render_markdown
from mffcnn.studies.sfew import sfew_protocol
from mffcnn.train.recipes import Recipe


def test_every_datasets_names_map_to_ours():
    for spelling, ours in [
        ("Angry", "anger"),
        ("Sad", "sadness"),
        ("Happiness", "happy"),
        ("SURPRISE", "surprise"),
        ("neutral", "neutral"),
        ("FE", "fear"),
        ("disgusted", "disgust"),
    ]:
        assert canonical(spelling) == ours
    assert canonical("Contempt") == "contempt" and canonical("bored") is None


def test_union_relabels_into_seven_classes_and_keeps_people_apart():
    a = synthetic.load(subjects=2, per_class=1)
    b = synthetic.load(subjects=2, per_class=1, seed=1)
    u = union([a, b], name="a+b")
    assert u.class_names == EXPRESSIONS7 and len(u) == len(a) + len(b)
    assert u.class_counts()["neutral"] == 0 and u.class_counts()["anger"] == 4
    names = np.asarray(u.class_names)
    assert list(names[u.labels[: len(a)]]) == list(np.asarray(a.class_names)[a.labels])
    assert set(u.subjects) == {"synthetic/P000", "synthetic/P001"}  # same dataset name: same people


def test_relabel_leaves_out_classes_outside_the_space(tmp_path):
    fs = synthetic.load(subjects=1, per_class=1)
    only = relabel(fs, ["anger", "happy"])
    assert only.class_names == ["anger", "happy"] and len(only) == 2
    assert any("left out" in n for n in only.summary.notes)


@pytest.fixture(scope="module")
def sfew_root(tmp_path_factory):
    return make_sfew(tmp_path_factory.mktemp("sfew"))


def test_sfew_protocol_end_to_end(sfew_root, tmp_path):
    tiny = DatasetSpec("synthetic", None, {"subjects": 2, "per_class": 1})
    run_dir, r = sfew_protocol(
        sfew_root, pretrain=[tiny], pretrain_epochs=1, epochs=1, project=tmp_path, verbose=False, baseline=True
    )
    assert r["n_train"] == 28 and r["n_val"] == 28 and r["val_dropped"] == 2
    assert r["class_names"] == EXPRESSIONS7 and len(r["confusion_matrix"]) == 7
    assert sum(map(sum, r["confusion_matrix"])) == 28 and 0 <= r["accuracy"] <= 1
    assert r["paper"]["accuracy"] == pytest.approx(0.4083) and "baseline" in r
    assert r["pretraining"]["n_images"] == 12 and r["pretraining"]["class_counts"]["neutral"] == 0
    for f in (
        "results.json",
        "report.md",
        "confusion.png",
        "options.json",
        "model.safetensors",
        "pretrained.safetensors",
    ):
        assert (run_dir / f).exists(), f
    report = (run_dir / "report.md").read_text()
    assert "40.83" in report and "Oulu-CASIA, which the paper also used, was not part of it" in report
    ckpt = load_checkpoint(run_dir / "model.safetensors")
    assert ckpt.class_names == EXPRESSIONS7 and not ckpt.preprocessing.detect_face
    # fine-tuning can start from the saved pretrained model instead of pretraining again
    _, again = sfew_protocol(
        sfew_root, init=run_dir / "pretrained.safetensors", epochs=1, project=tmp_path, verbose=False
    )
    assert again["accuracy"] == pytest.approx(r["accuracy"])  # same start, same seed: same model

    # `mffcnn report` shows it beside the paper's Table 5 and Fig. 7, as an SFEW run, not a training run
    runs = find_runs([run_dir])
    assert [x.kind for x in runs] == ["sfew"]
    md = render_markdown(report_blocks(runs, "t"), tmp_path)
    assert "SFEW 2.0 (§4.6)" in md and "paper (Fig. 7)" in md and "The paper's Table 5" in md
    assert f"MFF-CNN, ours (Val) | 1.21M | {100 * r['accuracy']:.2f}" in md


def test_sfew_protocol_errors(sfew_root, tmp_path):
    with pytest.raises(MffcnnError, match="either"):
        sfew_protocol(sfew_root, pretrain=["synthetic"], init="x.safetensors", project=tmp_path, verbose=False)
    with pytest.raises(MffcnnError, match="unknown dataset"):
        sfew_protocol(sfew_root, pretrain=["jafe:/x"], epochs=1, project=tmp_path, verbose=False)


def test_sfew_command_with_jaffe_neutral(sfew_root, tmp_path, capsys):
    jaffe_root = make_jaffe(tmp_path / "jaffe", subjects=2, per_class=1)
    code = main(
        [
            "sfew",
            str(sfew_root),
            "--pretrain",
            f"jaffe:{jaffe_root}",
            "--pretrain-epochs",
            "1",
            "--epochs",
            "1",
            "--project",
            str(tmp_path / "runs"),
            "-q",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "SFEW 2.0 Val:" in out and "(paper: 40.83 %)" in out
    r = json.loads((tmp_path / "runs" / "sfew" / "exp" / "results.json").read_text())
    assert r["pretraining"]["class_counts"]["neutral"] > 0  # JAFFE's neutral photos join by default
    assert r["pretraining"]["datasets"][0]["dataset"] == "jaffe"


def test_sfew_accuracy_moves_with_fine_tuning(sfew_root, tmp_path):
    """30 epochs on SFEW Train beat 1 on Val, by far more than the 28 Val faces' noise; fine-tuning moved the
    weights that pretraining handed on."""
    recipe = Recipe("t", lr=0.003, batch_size=7)
    one = sfew_protocol(sfew_root, epochs=1, recipe=recipe, project=tmp_path, name="one", verbose=False)[1]
    run_dir, many = sfew_protocol(sfew_root, epochs=30, recipe=recipe, project=tmp_path, name="many", verbose=False)
    assert many["accuracy"] > one["accuracy"] + 0.1 and many["accuracy"] > 1.75 / 7  # chance is 1/7
    tiny = DatasetSpec("synthetic", None, {"subjects": 2, "per_class": 1})
    pre_dir, _ = sfew_protocol(
        sfew_root,
        pretrain=[tiny],
        pretrain_epochs=1,
        epochs=2,
        recipe=recipe,
        project=tmp_path,
        name="pre",
        verbose=False,
    )
    pretrained = load_checkpoint(pre_dir / "pretrained.safetensors").model.state_dict()
    tuned = load_checkpoint(pre_dir / "model.safetensors").model.state_dict()
    assert all(not torch.equal(pretrained[k], tuned[k]) for k in tuned)
