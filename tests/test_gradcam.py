import json

import cv2
import numpy as np
import pytest
import torch

from mffcnn.checkpoint import load_checkpoint
from mffcnn.cli import main
from mffcnn.data.datasets import synthetic
from mffcnn.errors import MffcnnError
from mffcnn.gradcam import MAPS, Geometry, grad_cam, model_geometry, place_on_input, place_patches, stack_geometry
from mffcnn.model import MFFCNN, MFFCNNConfig, ablation_config
from mffcnn.model.patch_branch import overlap_segmentation
from mffcnn.studies.train import train
from mffcnn.train.recipes import get_recipe


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A small model trained for a few epochs on synthetic faces (a random one may give all-zero CAMs)."""
    project = tmp_path_factory.mktemp("gradcam")
    # A fixed recipe, so that the test does not move with the default: lr 0.001 keeps every layer of a
    # model this small and this briefly trained alive.
    recipe = get_recipe("augmented").replace(lr=0.001, warmup_epochs=0)
    run_dir, _ = train(
        "synthetic",
        epochs=10,
        recipe=recipe,
        dataset_options={"subjects": 6, "per_class": 3},
        project=project,
        verbose=False,
    )
    return run_dir / "model.safetensors"


@pytest.fixture(scope="module")
def faces():
    fs = synthetic.load(subjects=2, per_class=1, seed=5)
    return fs.preprocessing.to_tensor(fs.images), fs  # (12, 1, 60, 60)


def test_four_maps_have_the_right_shapes_and_are_not_constant(checkpoint, faces):
    model = load_checkpoint(checkpoint).model
    x, _ = faces
    g = grad_cam(model, x)
    b = len(x)
    assert {m: tuple(g.heatmaps[m].shape) for m in MAPS} == {m: (b, 60, 60) for m in MAPS}
    assert tuple(g.coarse["mid"].shape) == (b, 12, 12)  # 2nd max-pool of the Image Branch
    assert tuple(g.coarse["high"].shape) == (b, 4, 4)  # 3rd max-pool
    assert tuple(g.coarse["patch_before"].shape) == tuple(g.coarse["patch_after"].shape) == (b, 16, 2, 2)
    assert tuple(g.vector_weights.shape) == tuple(g.kept.shape) == (b, 16, 32)
    for m in MAPS:
        h = g.heatmaps[m]
        assert torch.all(h >= 0)  # ReLU
        flat = h.flatten(1)
        assert (flat.max(1).values > flat.min(1).values).sum() >= b - 1, m  # a map, not a constant


def test_grad_cam_leaves_the_model_output_unchanged(checkpoint, faces):
    model = load_checkpoint(checkpoint).model
    x, _ = faces
    with torch.no_grad():
        reference = model(x)
    g = grad_cam(model, x)
    assert torch.allclose(g.probabilities, reference, atol=1e-6)
    assert torch.equal(g.predicted, reference.argmax(1)) and torch.equal(g.target, g.predicted)
    with torch.no_grad():
        assert torch.equal(model(x), reference)  # no state left behind
    assert not model.training


def test_maps_change_with_the_target_class(checkpoint, faces):
    model = load_checkpoint(checkpoint).model
    x, _ = faces
    maps = [grad_cam(model, x, target=c) for c in range(6)]
    for m in MAPS:
        for i in range(len(x)):
            # other class, other evidence (a class with only negative evidence may give an all-zero map: ReLU)
            distinct = {maps[c].heatmaps[m][i].numpy().round(6).tobytes() for c in range(6)}
            assert len(distinct) >= 3, (m, i)
    assert maps[3].target.tolist() == [3] * len(x)


def test_discarded_vectors_get_no_gradient_and_no_weight(checkpoint, faces):
    model = load_checkpoint(checkpoint).model
    x, _ = faces
    g = grad_cam(model, x)
    kept = g.kept
    assert kept.sum(dim=(1, 2)).tolist() == [384] * len(x)  # M of N·K = 512
    discarded = ~kept
    assert torch.all(g.vector_gradients[discarded] == 0)  # the top-M gather routes no gradient to them
    assert torch.all(g.vector_weights[discarded] == 0)
    assert (g.vector_weights[kept] != 0).float().mean() > 0.5  # kept vectors do get weights
    # patch_after is then exactly the Grad-CAM of the kept vectors alone: masking changes nothing.
    maps = model.patch_branch.forward_maps(x).detach()
    masked = torch.relu((g.vector_weights[..., None, None] * maps * kept[..., None, None]).sum(2))
    assert torch.allclose(masked, g.coarse["patch_after"])
    # ...while before selection the discarded vectors' activations still show.
    assert not torch.allclose(g.coarse["patch_before"], g.coarse["patch_after"])


@pytest.mark.parametrize("name", ["no_mid_level", "no_joint_tuning", "no_feature_selection"])
def test_grad_cam_on_every_ablation(name):
    torch.manual_seed(0)
    model = MFFCNN(ablation_config(name, MFFCNNConfig()))
    x = torch.randn(2, 1, 60, 60)
    g = grad_cam(model, x, target=1)
    with torch.no_grad():
        assert torch.allclose(g.probabilities, model(x), atol=1e-6)
    assert all(tuple(g.heatmaps[m].shape) == (2, 60, 60) for m in MAPS)
    assert bool(g.kept.all()) == (name == "no_feature_selection")


def test_output_score_and_bad_targets(checkpoint, faces):
    model = load_checkpoint(checkpoint).model
    x, _ = faces
    g = grad_cam(model, x[:2], score="output", target=[0, 5])
    assert g.target.tolist() == [0, 5]
    with pytest.raises(MffcnnError, match="out of range"):
        grad_cam(model, x[:2], target=6)
    with pytest.raises(MffcnnError, match="unknown score"):
        grad_cam(model, x[:2], score="softmax")


def test_map_positions_follow_the_valid_convs():
    model = MFFCNN()
    geo = model_geometry(model)
    # Derived by hand in mffcnn/gradcam.py's docstring: the centre of position i on the input.
    assert geo["mid"] == Geometry(7.5, 4.0) and geo["high"] == Geometry(17.5, 8.0)
    assert geo["patch_before"] == Geometry(9.5, 4.0)
    assert stack_geometry([(8, 3)], ()) == Geometry(1.0, 1.0)
    # A single hot position lands on its centre.
    cam = torch.zeros(1, 4, 4)
    cam[0, 1, 2] = 1.0
    on_face = place_on_input(cam, geo["high"], 60)[0]
    ys, xs = torch.nonzero(on_face == on_face.max(), as_tuple=True)
    # centred on (17.5 + 8·1, 17.5 + 8·2) = (25.5, 33.5): the four pixels around it, equally
    assert set(ys.tolist()) == {25, 26} and set(xs.tolist()) == {33, 34}
    assert on_face[25, 33] == pytest.approx((1 - 0.5 / 8) ** 2)
    assert on_face[:17].max() == 0 and on_face[34:].max() == 0  # nothing beyond the neighbouring centres


def test_patches_go_back_to_their_place_and_overlaps_are_averaged():
    image = torch.rand(2, 1, 60, 60)
    patches = overlap_segmentation(image, 24, 12)[:, :, 0]  # (2, 16, 24, 24)
    identity = Geometry(0.0, 1.0)  # full-resolution "maps": placing them back must rebuild the image
    rebuilt = place_patches(patches, identity, patch_size=24, stride=12, size=60)
    assert torch.allclose(rebuilt, image[:, 0], atol=1e-6)
    ones = torch.zeros(1, 16, 24, 24)
    ones[0, 0] = 1.0  # only patch 1 (top-left) is hot
    placed = place_patches(ones, identity, patch_size=24, stride=12, size=60)[0]
    assert torch.all(placed[:12, :12] == 1)  # seen by patch 1 alone
    assert torch.all(placed[:12, 12:24] == 0.5)  # seen by patches 1 and 2: averaged
    assert torch.all(placed[12:24, 12:24] == 0.25)  # seen by patches 1, 2, 5 and 6
    assert torch.all(placed[24:] == 0) and torch.all(placed[:, 24:] == 0)


def test_gradcam_command_on_files(checkpoint, tmp_path, capsys):
    faces = [f for f, *_ in synthetic.generate(subjects=1, per_class=1, seed=9)][:2]
    paths = []
    for i, face in enumerate(faces):
        paths.append(tmp_path / f"face{i}.png")
        cv2.imwrite(str(paths[-1]), face)
    (tmp_path / "broken.png").write_bytes(b"not an image")
    code = main(
        [
            "gradcam",
            str(checkpoint),
            *map(str, paths),
            str(tmp_path / "broken.png"),
            "--target",
            "happy",
            "--project",
            str(tmp_path / "runs"),
            "-q",
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert "broken.png" in captured.err and "1 input(s) skipped" in captured.out
    run_dir = tmp_path / "runs" / "gradcam" / "exp"
    r = json.loads((run_dir / "results.json").read_text())
    assert len(r["samples"]) == 2 and all(s["target"] == "happy" for s in r["samples"])
    assert all(s["max_abs_weight_discarded"] == 0 and s["discarded_vectors"] == 128 for s in r["samples"])
    assert (run_dir / "gradcam.png").stat().st_size > 10_000
    assert len(list(run_dir.glob("patches_*.png"))) == 2
    with np.load(run_dir / "heatmaps.npz") as z:
        assert z["mid"].shape == (2, 60, 60) and z["kept"].shape == (2, 16, 32)


def test_gradcam_command_one_face_per_class(checkpoint, tmp_path):
    code = main(
        [
            *"gradcam".split(),
            str(checkpoint),
            *"--dataset synthetic --per-class --subjects 3 --project".split(),
            str(tmp_path),
            "-q",
        ]
    )
    assert code == 0
    r = json.loads((tmp_path / "gradcam" / "exp" / "results.json").read_text())
    assert [s["label"] for s in r["samples"]] == synthetic.CLASSES
    assert r["dataset"] == "synthetic" and r["synthetic"] is True


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["x.png", "--target", "hapy"], "did you mean 'happy'"),
        ([], "needs image files or --dataset"),
        (["--index", "3"], "choose faces of a --dataset"),
        (["--dataset", "synthetic", "--index", "100000"], "out of range"),
        (["--dataset", "ckplus48", "a", "b"], "at most one folder"),
    ],
)
def test_gradcam_user_errors(checkpoint, tmp_path, capsys, argv, expected):
    assert main(["gradcam", str(checkpoint), *argv, "--project", str(tmp_path), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("mffcnn: error:") and expected in err[-1]


def test_a_dead_branch_is_reported(checkpoint, faces, tmp_path, capsys):
    from mffcnn.checkpoint import save_checkpoint
    from mffcnn.studies.gradcam import gradcam

    ckpt = load_checkpoint(checkpoint)
    with torch.no_grad():
        last_conv = [m for m in ckpt.model.patch_branch.cnn if isinstance(m, torch.nn.Conv2d)][-1]
        last_conv.bias.fill_(-1e3)  # every ReLU after it outputs 0: a dead Patch Branch
    g = grad_cam(ckpt.model, faces[0][:3])
    assert g.active["patch"].tolist() == [0, 0, 0] and torch.all(g.active["mid"] > 0)
    assert torch.all(g.coarse["patch_before"] == 0) and torch.all(g.coarse["patch_after"] == 0)
    dead = save_checkpoint(tmp_path / "dead.safetensors", ckpt)
    _, r = gradcam(
        dead, dataset="synthetic", dataset_options={"subjects": 2}, indices=[0], project=tmp_path, verbose=False
    )
    assert "the Patch Branch: every activation is 0 for 1 of 1 face(s)" in capsys.readouterr().err
    assert r["samples"][0]["active_fraction"]["patch"] == 0
