"""export: ONNX and TorchScript files that agree with PyTorch, carry classes and preprocessing, and run in predict."""

import json

import numpy as np
import onnx
import pytest
import torch

from mffcnn import predict as lib
from mffcnn.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from mffcnn.cli import main
from mffcnn.data.face import DetectorSettings
from mffcnn.data.preprocess import Preprocessing
from mffcnn.errors import MffcnnError
from mffcnn.export import InferenceModel, export, parity_faces
from mffcnn.model import MFFCNN, MFFCNNConfig, ablation_config
from mffcnn.model.selection import select_feature_vectors

CLASSES = ["anger", "disgust", "fear", "happy", "sadness", "surprise"]
PRE = Preprocessing(margin=0.1, detector=DetectorSettings(max_side=320, scale_factor=1.2))


def make_checkpoint(path, cfg=None, seed=0):
    # Untrained: after ReLU hundreds of the 512 patch vectors are exactly zero, so feature selection
    # meets many ties, the case where exporters and PyTorch used to disagree.
    torch.manual_seed(seed)
    save_checkpoint(path, Checkpoint(MFFCNN(cfg or MFFCNNConfig()), CLASSES, PRE, {"dataset": "test"}))
    return path


@pytest.fixture(scope="module")
def ckpt_path(tmp_path_factory):
    return make_checkpoint(tmp_path_factory.mktemp("export") / "model.safetensors")


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_export_matches_pytorch_at_every_batch_size(ckpt_path, fmt):
    report = export(ckpt_path, format=fmt)
    assert report.passed and report.max_abs_diff <= 1e-4 and report.label_agreement == 1.0
    assert report.batch_sizes == [1, 7, 60] and report.faces == 60  # dynamic batch: 1, odd, all at once
    assert report.path.endswith(".onnx" if fmt == "onnx" else ".torchscript.pt")
    assert "max |Δp|" in report.line() and "ok" in report.line()
    # predict runs the file with nothing else: classes and preprocessing come from inside it
    m = lib.load_model(report.path)
    assert m.backend == fmt and m.class_names == CLASSES and m.preprocessing == PRE


def test_onnx_metadata_carries_classes_and_preprocessing(ckpt_path, tmp_path):
    out = tmp_path / "m.onnx"
    export(ckpt_path, format="onnx", out=out)
    props = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert json.loads(props["class_names"]) == CLASSES
    assert Preprocessing.from_dict(json.loads(props["preprocessing"])) == PRE
    assert MFFCNNConfig.from_dict(json.loads(props["mffcnn"])["config"]) == MFFCNNConfig()


def test_onnx_predictions_equal_pytorch_on_a_real_photo(ckpt_path, tmp_path):
    out = export(ckpt_path, format="onnx", out=tmp_path / "m.onnx").path
    via_torch = lib.predict(lib.SAMPLE_IMAGE, model=ckpt_path).results[0].faces
    via_onnx = lib.predict(lib.SAMPLE_IMAGE, model=out).results[0].faces
    assert len(via_torch) == len(via_onnx) == 1
    assert via_onnx[0].box == via_torch[0].box
    assert via_onnx[0].probabilities == pytest.approx(via_torch[0].probabilities, abs=1e-4)
    assert lib.predict(lib.SAMPLE_IMAGE, model=out).model["backend"] == "onnx"


@pytest.mark.parametrize("ablation", ["no_feature_selection", "no_joint_tuning", "no_mid_level"])
def test_ablations_export_too(ablation, tmp_path):
    path = make_checkpoint(tmp_path / "a.safetensors", ablation_config(ablation), seed=1)
    assert export(path, format="onnx").passed


def test_inference_model_is_the_checkpoint_model(ckpt_path):
    ck = load_checkpoint(ckpt_path)
    faces = parity_faces(ck, n=12)
    with torch.inference_mode():
        ref = ck.model(ck.preprocessing.to_tensor(faces))
        got = InferenceModel(ck.model, ck.preprocessing.normalisation)(torch.from_numpy(faces).float()[:, None])
    assert torch.allclose(ref, got, atol=1e-6)


def test_selection_breaks_ties_toward_the_lower_index():
    vectors = torch.zeros(2, 8, 3)  # (B, V, d): mostly zero vectors, as after ReLU
    vectors[0, 5] = 1.0
    vectors[1, 2] = 2.0
    vectors[1, 6] = 2.0  # an exact tie between non-zero vectors
    kept, index = select_feature_vectors(vectors, 3)
    assert index.tolist() == [[0, 1, 5], [0, 2, 6]]
    kept, index = select_feature_vectors(vectors, 1)
    assert index.tolist() == [[5], [2]]
    assert torch.equal(kept[1, 0], vectors[1, 2])


def test_export_errors(ckpt_path, tmp_path, capsys):
    with pytest.raises(MffcnnError, match="unknown export format"):
        export(ckpt_path, format="tflite")
    with pytest.raises(MffcnnError, match="disagrees with PyTorch.*removed"):
        export(ckpt_path, format="onnx", out=tmp_path / "x.onnx", tolerance=-1.0)
    assert not (tmp_path / "x.onnx").exists()
    (tmp_path / "junk.safetensors").write_text("junk")
    assert main(["export", str(tmp_path / "junk.safetensors")]) == 2
    assert capsys.readouterr().err.startswith("mffcnn: error:")


def test_cli_export_prints_the_parity_numbers(ckpt_path, tmp_path, capsys):
    out = tmp_path / "cli.torchscript.pt"
    assert (
        main(
            ["export", str(ckpt_path), "--format", "torchscript", "--out", str(out), "--images", str(lib.SAMPLE_IMAGE)]
        )
        == 0
    )
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"torchscript: {out}") and "parity on 1 face at" in line and "ok" in line
    assert np.isfinite(lib.load_model(out).probabilities(np.zeros((3, 60, 60), np.uint8))).all()
