"""What mffcnn writes and says is true (issue 17): scores on training data are flagged, a k-fold run is called
k-fold, the folder dataset's subjects are what its note says, a CK+48 tree is not read as SFEW, and the resume
hint names the project."""

import json

import cv2
import numpy as np
import pytest
import torch

from mffcnn.checkpoint import Checkpoint, save_checkpoint
from mffcnn.cli import main
from mffcnn.data.datasets import folder
from mffcnn.data.datasets.synthetic import CLASSES
from mffcnn.data.preprocess import Preprocessing
from mffcnn.model import MFFCNN, MFFCNNConfig
from mffcnn.studies.evaluate import evaluate


def checkpoint(path, dataset: str):
    torch.manual_seed(0)
    save_checkpoint(path, Checkpoint(MFFCNN(MFFCNNConfig()), list(CLASSES), Preprocessing(), {"dataset": dataset}))
    return path


@pytest.mark.parametrize("trained_on, seen", [("synthetic", True), ("jaffe", False)])
def test_evaluate_on_the_training_people_is_flagged(tmp_path, capsys, trained_on, seen):
    ckpt = checkpoint(tmp_path / "m.safetensors", trained_on)
    run_dir, r = evaluate(
        ckpt, "synthetic", dataset_options={"subjects": 2, "per_class": 1}, project=tmp_path, verbose=False
    )
    assert r["seen_in_training"] is seen
    assert json.loads((run_dir / "results.json").read_text())["seen_in_training"] is seen
    err = capsys.readouterr().err
    assert ("not a test" in err) is seen


def test_folder_without_regex_every_image_is_its_own_subject(tmp_path):
    face = np.full((48, 48), 90, np.uint8)
    face[10:20, 10:38] = 200  # not blank
    for label, name in [("happy", "p1.jpg"), ("anger", "p1.png"), ("happy", "p2.jpg"), ("anger", "p2.png")]:
        (tmp_path / label).mkdir(exist_ok=True)
        cv2.imwrite(str(tmp_path / label / name), face)
    fs = folder.load(tmp_path)
    assert len(set(fs.subjects)) == 4  # happy/p1.jpg and anger/p1.png are not one person
    assert any("every image is its own subject" in n for n in fs.summary.notes)
    assert len(set(folder.load(tmp_path, subject_regex=r"(p\d)").subjects)) == 2  # a regex says who is who


def test_a_two_fold_run_is_not_called_ten_fold(tmp_path, capsys):
    argv = "cv synthetic --subjects 2 --per-class 2 --folds 2 --epochs 1 --protocol random -q --device cpu".split()
    assert main(argv + ["--project", str(tmp_path)]) == 0
    report = (tmp_path / "cv" / "exp" / "report.md").read_text()
    assert "2-fold" in report and "10-fold" not in report
    assert "10-fold" not in (tmp_path / "cv" / "exp" / "random" / "report.md").read_text()


def test_prepare_sfew_refuses_a_ckplus48_tree(ckplus48_root, tmp_path, capsys):
    assert main(["prepare", "sfew", str(ckplus48_root), "--cache-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("mffcnn: error: sfew:") and "is not SFEW 2.0's layout" in err[-1]
    assert "anger/" in err[-1] and "ckplus48" in err[-1]


def test_the_resume_hint_names_the_project(tmp_path, monkeypatch, capsys):
    import mffcnn.studies.cv

    def interrupted(*_, **__):
        raise KeyboardInterrupt

    monkeypatch.setattr(mffcnn.studies.cv, "cross_validate", interrupted)
    project = tmp_path / "my runs"
    assert main(["cv", "synthetic", "--project", str(project)]) == 130
    assert capsys.readouterr().err == f"mffcnn: interrupted (resume with: mffcnn cv --resume --project '{project}')\n"
    assert main(["cv", "synthetic"]) == 130
    assert capsys.readouterr().err == "mffcnn: interrupted (resume with: mffcnn cv --resume)\n"
