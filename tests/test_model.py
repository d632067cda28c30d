import pytest
import torch

from mffcnn.model import ABLATIONS, MFFCNN, MFFCNNConfig, ablation_config, count_parameters, param_counts
from mffcnn.model.flops import flops_per_image
from mffcnn.model.patch_branch import overlap_segmentation
from mffcnn.model.selection import select_feature_vectors


def test_paper_geometry():
    cfg = MFFCNNConfig()
    assert (cfg.patch_size, cfg.patch_stride, cfg.feature_maps) == (24, 12, 32)  # eq. 2, §3.2
    assert cfg.num_patches * cfg.feature_maps == 512 and cfg.num_selected == 384


def test_parameter_counts_land_on_the_paper():
    counts = param_counts()
    assert abs(counts["full"] - 1.21e6) / 1.21e6 < 0.01  # 1.21M
    assert round(counts["no_mid_level"] / 1e6, 2) == 0.02  # 0.02M
    assert round(counts["no_joint_tuning"] / 1e6, 2) == 1.21
    assert abs(counts["no_feature_selection"] - 1.22e6) / 1.22e6 < 0.01  # ≈1.22M
    assert counts["no_feature_selection"] > counts["full"]
    # §4.4: the mid-level FC layer alone is "around 1.18M" parameters.
    mid_fc = MFFCNN().image_branch.mid_fc[1]
    assert sum(p.numel() for p in mid_fc.parameters()) == 4608 * 256 + 256


def test_flops_counted():
    assert 10e6 < flops_per_image() < 50e6


@pytest.mark.parametrize("name", list(ABLATIONS))
def test_forward_shapes_and_probabilities(name):
    model = MFFCNN(ablation_config(name, MFFCNNConfig(num_classes=7)))
    x = torch.randn(3, 1, 60, 60)
    out = model.forward_all(x)
    assert out.log_probs.shape == (3, 7)
    probs = model(x)
    assert torch.allclose(probs.sum(1), torch.ones(3), atol=1e-5)
    loss = model.loss(out, torch.tensor([0, 3, 6]))
    loss.backward()
    assert torch.isfinite(loss)
    assert (out.image_logits is None) == (name == "no_joint_tuning")


def test_overlap_segmentation_cuts_the_paper_patches():
    x = torch.arange(60 * 60, dtype=torch.float32).reshape(1, 1, 60, 60)
    p = overlap_segmentation(x, 24, 12)  # (1, 16, 1, 24, 24)
    assert p.shape == (1, 16, 1, 24, 24)
    assert torch.equal(p[0, 0, 0], x[0, 0, :24, :24])  # patch 1: top-left
    assert torch.equal(p[0, 1, 0], x[0, 0, :24, 12:36])  # patch 2: half a patch to the right
    assert torch.equal(p[0, 15, 0], x[0, 0, 36:, 36:])  # patch 16: bottom-right


def test_selection_keeps_largest_norms_in_order_and_routes_gradients():
    torch.manual_seed(0)
    v = torch.randn(2, 10, 4, requires_grad=True)
    kept, index = select_feature_vectors(v, 6)
    norms = v.detach().norm(dim=2)
    for b in range(2):
        assert set(index[b].tolist()) == set(norms[b].topk(6).indices.tolist())
        assert index[b].tolist() == sorted(index[b].tolist())  # stable original order
    kept.sum().backward()
    dropped = torch.ones(2, 10, dtype=torch.bool)
    dropped.scatter_(1, index, False)
    assert torch.all(v.grad[dropped] == 0) and torch.all(v.grad[~dropped] == 1)


def test_joint_tuning_prediction_is_argmax_of_summed_branch_softmaxes():
    torch.manual_seed(0)
    model = MFFCNN().eval()
    out = model.forward_all(torch.randn(5, 1, 60, 60))
    y_tilde = out.image_logits.softmax(1) + out.patch_logits.softmax(1)  # eq. 3
    assert torch.equal(out.log_probs.argmax(1), y_tilde.argmax(1))  # eq. 4
    assert torch.allclose(out.log_probs.exp(), y_tilde / 2, atol=1e-6)


def test_loss_weights_are_the_papers():
    cfg = MFFCNNConfig()
    assert cfg.loss_weights == (1.0, 1.0, 0.1)
    model = MFFCNN(cfg)
    out = model.forward_all(torch.randn(4, 1, 60, 60))
    y = torch.tensor([0, 1, 2, 3])
    ce = torch.nn.functional.cross_entropy
    expected = ce(out.image_logits, y) + ce(out.patch_logits, y) + 0.1 * torch.nn.functional.nll_loss(out.log_probs, y)
    assert torch.allclose(model.loss(out, y), expected)


def test_config_roundtrip_and_validation():
    cfg = MFFCNNConfig(num_classes=7, feature_selection=False)
    assert MFFCNNConfig.from_dict(cfg.to_dict()) == cfg
    import json

    assert MFFCNNConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(ValueError):
        MFFCNNConfig(num_patches=15)
    with pytest.raises(ValueError):
        MFFCNNConfig(num_selected=600)
    assert count_parameters(MFFCNN(cfg)) > 0


def test_patch_cnn_once_on_the_face_equals_the_cnn_on_each_patch():
    torch.manual_seed(0)
    branch = MFFCNN().patch_branch
    assert branch.window_stride == 3  # 12 px of patch stride / total CNN stride 4
    x = torch.randn(3, 1, 60, 60, requires_grad=True)
    fast, slow = branch.forward_maps(x), branch.forward_maps_per_patch(x)
    assert torch.allclose(fast, slow, atol=1e-5)
    (g_fast,) = torch.autograd.grad(fast.square().sum(), x)
    (g_slow,) = torch.autograd.grad(slow.square().sum(), x)
    assert torch.allclose(g_fast, g_slow, atol=1e-4)


def test_patch_cnn_falls_back_to_per_patch_when_windows_do_not_align():
    from mffcnn.model.patch_branch import shared_window_stride

    assert shared_window_stride(24, 12, ((8, 3), (8, 3), (8, 5), (32, 3)), (2, 4)) == 3
    assert shared_window_stride(24, 12, ((8, 3), (8, 4), (8, 5), (32, 3)), (2, 4)) is None  # odd size at pool 1
    assert shared_window_stride(20, 10, ((8, 3), (8, 3), (8, 3), (32, 3)), (2, 4)) is None  # offset 5 is odd


@pytest.mark.parametrize("name", list(ABLATIONS))
def test_forward_is_the_exponent_of_the_training_log_probs(name):
    torch.manual_seed(0)
    model = MFFCNN(ablation_config(name)).eval()
    x = torch.randn(4, 1, 60, 60)
    assert torch.allclose(model(x), model.forward_all(x).log_probs.exp(), atol=1e-6)
