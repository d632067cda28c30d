import json

import pytest
import torch
from safetensors.torch import save_file

from mffcnn.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from mffcnn.cli import main
from mffcnn.data.preprocess import Preprocessing
from mffcnn.errors import MffcnnError
from mffcnn.model import MFFCNN, MFFCNNConfig
from mffcnn.studies.evaluate import evaluate
from mffcnn.studies.train import train


def test_roundtrip_keeps_weights_classes_and_preprocessing(tmp_path):
    torch.manual_seed(0)
    model = MFFCNN(MFFCNNConfig(num_classes=3, feature_selection=False))
    pre = Preprocessing(detect_face=True, margin=0.2, no_face="whole")
    path = save_checkpoint(tmp_path / "m.safetensors", Checkpoint(model, ["a", "b", "c"], pre, {"scores": {"x": 1}}))
    ck = load_checkpoint(path)
    assert ck.class_names == ["a", "b", "c"] and ck.preprocessing == pre and ck.info["scores"]["x"] == 1
    assert ck.config == model.cfg
    x = torch.randn(2, 1, 60, 60)
    model.eval()
    assert torch.equal(ck.model(x), model(x))


def test_foreign_tampered_and_missing_files_give_clear_errors(tmp_path):
    with pytest.raises(MffcnnError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"not a checkpoint at all")
    with pytest.raises(MffcnnError, match="not a readable safetensors"):
        load_checkpoint(tmp_path / "junk.safetensors")
    save_file({"w": torch.zeros(2)}, str(tmp_path / "foreign.safetensors"))
    with pytest.raises(MffcnnError, match="not an mffcnn checkpoint"):
        load_checkpoint(tmp_path / "foreign.safetensors")
    # A real checkpoint whose description no longer fits its weights.
    model = MFFCNN()
    meta = {
        "format": "mffcnn-checkpoint",
        "version": 1,
        "config": MFFCNNConfig(num_classes=7).to_dict(),
        "class_names": list("abcdefg"),
        "preprocessing": Preprocessing().to_dict(),
        "info": {},
    }
    save_file(dict(model.state_dict()), str(tmp_path / "tampered.safetensors"), metadata={"mffcnn": json.dumps(meta)})
    with pytest.raises(MffcnnError, match="does not match"):
        load_checkpoint(tmp_path / "tampered.safetensors")


def test_train_then_evaluate(ckplus48_root, tmp_path):
    run_dir, ck = train("ckplus48", ckplus48_root, epochs=2, project=tmp_path, verbose=False)
    assert (run_dir / "model.safetensors").exists()
    assert ck.class_names == ["anger", "disgust", "fear", "happy", "sadness", "surprise"]
    assert ck.info["n_images"] == 108 and 0 <= ck.info["scores"]["train_accuracy"] <= 1
    _, r = evaluate(run_dir / "model.safetensors", "ckplus48", ckplus48_root, project=tmp_path, verbose=False)
    assert r["n_images"] == 108 and sum(map(sum, r["confusion_matrix"])) == 108
    with pytest.raises(MffcnnError, match="does not know the class"):
        evaluate(
            run_dir / "model.safetensors",
            "ckplus48",
            ckplus48_root,
            project=tmp_path,
            dataset_options={"contempt": True},
            verbose=False,
        )


def test_cli_evaluate_with_bad_checkpoint(tmp_path, capsys):
    (tmp_path / "x.safetensors").write_text("{}")
    assert main(["evaluate", str(tmp_path / "x.safetensors"), "synthetic", "--project", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("mffcnn: error:")
