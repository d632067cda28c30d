"""Pretrain → fine-tune: --init loads every weight that fits, heads by class name, and refuses seen people."""

import pytest
import torch

from mffcnn.checkpoint import Checkpoint, save_checkpoint
from mffcnn.data.preprocess import Preprocessing
from mffcnn.errors import MffcnnError
from mffcnn.model import MFFCNN, MFFCNNConfig, ablation_config
from mffcnn.train.warm_start import check_people, trained_on, warm_start

SEVEN = ["anger", "disgust", "fear", "happy", "neutral", "sadness", "surprise"]
SIX = ["anger", "disgust", "fear", "happy", "sadness", "surprise"]


def checkpoint(classes=SEVEN, info=None) -> Checkpoint:
    torch.manual_seed(0)
    return Checkpoint(
        model=MFFCNN(MFFCNNConfig(num_classes=len(classes))),
        class_names=list(classes),
        preprocessing=Preprocessing(),
        info=info or {"dataset": "ferplus"},
    )


def test_same_classes_load_everything():
    ckpt = checkpoint()
    model = MFFCNN(MFFCNNConfig(num_classes=7))
    report = warm_start(model, ckpt, SEVEN, source="x")
    assert not report.fresh and report.carried == SEVEN and not report.new
    for k, v in ckpt.model.state_dict().items():
        assert torch.equal(v, model.state_dict()[k])


def test_heads_follow_class_names_and_new_classes_start_fresh():
    ckpt = checkpoint()
    torch.manual_seed(1)
    model = MFFCNN(MFFCNNConfig(num_classes=7))
    fresh_row = model.image_classifier.weight[SIX.index("surprise")].clone()
    classes = ["anger", "contempt", "disgust", "fear", "happy", "sadness", "surprise"]  # contempt is new
    report = warm_start(model, ckpt, classes, source="x")
    assert report.new == ["contempt"] and report.dropped == ["neutral"]
    w_src, w = ckpt.model.image_classifier.weight, model.image_classifier.weight
    assert torch.equal(w[classes.index("surprise")], w_src[SEVEN.index("surprise")])
    assert not torch.equal(w[1], w_src[1])  # contempt's row is not neutral's or anybody's
    assert not torch.equal(w[classes.index("surprise")], fresh_row)
    assert torch.equal(model.image_branch.mid_stage[0].weight, ckpt.model.image_branch.mid_stage[0].weight)
    assert "classifier rows carried over by class name" in report.line()


def test_ablations_take_what_fits():
    ckpt = checkpoint()
    model = MFFCNN(ablation_config("no_mid_level", MFFCNNConfig(num_classes=6)))
    report = warm_start(model, ckpt, SIX, source="x")
    assert "image_classifier.weight" in report.fresh  # its input is 128 wide without the mid-level FC
    assert "patch_branch.cnn.0.weight" in report.loaded


def test_people_of_the_test_set_must_not_be_in_pretraining():
    check_people(checkpoint(info={"dataset": "ferplus"}), "ckplus48", source="m")
    with pytest.raises(MffcnnError, match="holds the people of ckplus48"):
        check_people(checkpoint(info={"dataset": "ckplus"}), "ckplus48", source="m")
    bundled = {"trained_on": [{"dataset": "ferplus"}, {"dataset": "jaffe"}]}
    assert trained_on(bundled) == {"ferplus", "jaffe"}
    with pytest.raises(MffcnnError):
        check_people(checkpoint(info=bundled), "jaffe", source="m")


def test_cv_with_init_runs_and_records_it(tmp_path, folder_root):
    from mffcnn.studies.cv import cross_validate

    path = save_checkpoint(tmp_path / "pre.safetensors", checkpoint(info={"dataset": "folder:faces"}))
    run_dir, results = cross_validate(
        "synthetic",
        protocol="subject",
        folds=2,
        epochs=1,
        init=path,
        dataset_options={"subjects": 4, "per_class": 2},
        project=tmp_path,
        verbose=False,
    )
    import json

    options = json.loads((run_dir / "options.json").read_text())
    assert options["init"] == str(path) and options["init_report"]["carried"] == SIX
    with pytest.raises(MffcnnError, match="holds the people"):
        cross_validate(
            "synthetic",
            init=save_checkpoint(tmp_path / "syn.safetensors", checkpoint(info={"dataset": "synthetic"})),
            project=tmp_path,
            verbose=False,
        )
