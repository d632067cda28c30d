"""int8: `mffcnn export --int8`, calibrated on the user's faces, and predict and serve running the int8 file."""

import json

import cv2
import numpy as np
import onnx
import pytest
from fastapi.testclient import TestClient

from mffcnn import predict as lib
from mffcnn.cli import main
from mffcnn.data.datasets import synthetic
from mffcnn.errors import MffcnnError
from mffcnn.export import INT8_MIN_AGREEMENT, export
from mffcnn.serve import create_app


@pytest.fixture(scope="module")
def crops(tmp_path_factory):
    """A folder of 60×60 face crops (120 synthetic faces), to calibrate on: enough that one face whose label the
    rounding flips moves the agreement by under 1 %, far from the 95 % bar."""
    root = tmp_path_factory.mktemp("crops")
    for i, (face, label, _, _) in enumerate(synthetic.generate(subjects=20, per_class=1, seed=3, size=60)):
        cv2.imwrite(str(root / f"{label}_{i}.png"), face)
    return root


@pytest.fixture(scope="module")
def int8_linear(crops, tmp_path_factory):
    return export(
        None, out=tmp_path_factory.mktemp("int8") / "m.int8.onnx", images=[crops], detect=False, int8="linear"
    )


def test_int8_export_is_calibrated_checked_and_small(int8_linear, tmp_path, crops):
    report = int8_linear
    assert report.passed and report.label_agreement >= INT8_MIN_AGREEMENT and report.faces == 120
    assert report.format == "onnx int8 (linear)" and "same label on" in report.line()
    exact = export(None, out=tmp_path / "float.onnx", images=[crops], detect=False)
    assert report.size_bytes < exact.size_bytes / 3  # the fully connected layers hold most of the weights
    graph = onnx.load(report.path).graph
    assert any(n.op_type == "DequantizeLinear" for n in graph.node)
    meta = json.loads({p.key: p.value for p in onnx.load(report.path).metadata_props}["mffcnn"])
    assert (
        meta["info"]["quantization"]["calibration_faces"] == 120 and meta["info"]["quantization"]["scope"] == "linear"
    )


def test_predict_and_serve_run_the_int8_file(int8_linear):
    model = lib.load_model(int8_linear.path)
    assert model.backend == "onnx" and model.describe()["quantization"]["scope"] == "linear"
    faces = lib.predict(lib.SAMPLE_IMAGE, model=model).results[0].faces
    assert [f.label for f in faces] == ["happy"]
    with TestClient(create_app(model, threads=1)) as client:
        assert client.get("/model").json()["quantization"]["scope"] == "linear"
        answer = client.post("/predict", content=lib.SAMPLE_IMAGE.read_bytes()).json()
        assert answer["results"][0]["faces"][0]["label"] == "happy"
        assert answer["model"]["quantization"]["type"].startswith("int8")


def test_int8_of_every_layer(crops, tmp_path, int8_linear, monkeypatch):
    # What is quantized, not how closely: with its convolutions in int8 the bundled model keeps the float label
    # on 93–96 % of the synthetic faces (bench/int8.py measures real ones), on either side of the 95 % bar that
    # refuses a file (tested on the linear scope above, and in test_export), and int8 kernels differ between
    # CPUs (VNNI or not). A broken quantization would agree on about one face in seven.
    monkeypatch.setattr("mffcnn.export.INT8_MIN_AGREEMENT", 0.8)
    report = export(None, out=tmp_path / "all.onnx", images=[crops], detect=False, int8="all")
    assert report.passed and report.format == "onnx int8 (all)" and report.label_agreement >= 0.8

    def quantized_inputs(path):  # the ops that read a dequantized tensor
        graph = onnx.load(path).graph
        dequantized = {o for n in graph.node if n.op_type == "DequantizeLinear" for o in n.output}
        return {n.op_type for n in graph.node if dequantized & set(n.input)}

    assert "Conv" in quantized_inputs(report.path) and "Conv" not in quantized_inputs(int8_linear.path)


def test_cli_export_int8(crops, tmp_path, capsys):
    out = tmp_path / "cli.int8.onnx"
    argv = ["export", "--int8", "--int8-layers", "linear", "--images", str(crops), "--no-detect", "--out", str(out)]
    assert main(argv) == 0
    assert "onnx int8 (linear)" in capsys.readouterr().out and lib.load_model(out).describe()["quantization"]
    assert main(["export", "--int8-layers", "all", "--out", str(tmp_path / "x.onnx")]) == 2
    assert "give --int8 too" in capsys.readouterr().err


def test_int8_user_errors(crops, tmp_path, capsys):
    with pytest.raises(MffcnnError, match="int8 needs faces to calibrate on"):
        export(None, out=tmp_path / "m.onnx", int8="linear")
    with pytest.raises(MffcnnError, match="use --format onnx"):
        export(None, format="torchscript", images=[crops], int8="linear")
    walls = tmp_path / "walls"
    walls.mkdir()
    cv2.imwrite(str(walls / "wall.png"), np.full((60, 60), 128, np.uint8))
    with pytest.raises(MffcnnError, match="use --no-detect"):
        export(None, out=tmp_path / "m.onnx", images=[walls], int8="linear")  # no face found
    assert main(["export", "--int8", "--out", str(tmp_path / "m.onnx")]) == 2
    assert capsys.readouterr().err.startswith("mffcnn: error: int8 needs faces to calibrate on")
    assert main(["export", "--int8", "--images", str(tmp_path / "nowhere"), "--out", str(tmp_path / "m.onnx")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()
