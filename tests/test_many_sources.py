"""The training parts the recipe for many sources adds: photometric jitter and per-face sampling weights."""

import numpy as np
import pytest
import torch

from mffcnn.data.preprocess import Faces
from mffcnn.model import MFFCNNConfig
from mffcnn.train.loop import (
    Training,
    epoch_batches,
    fit,
    photometric,
    photometric_draws,
    source_class_weights,
    source_weights,
    training_inputs,
)
from mffcnn.train.recipes import get_recipe

BASE = get_recipe("augmented")


def faces(n=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, 1, 60, 60, generator=g) * 200 + 20).round()


def test_each_photometric_change_changes_the_pixels_and_stays_in_range():
    x, d = faces(), photometric_draws(8, 0, 0)
    for change in [dict(gamma=0.5), dict(blur=1.5), dict(noise=8.0), dict(lowres=0.5)]:
        y = photometric(x, d, BASE.replace(**change))
        assert y.shape == x.shape and y.min() >= 0 and y.max() <= 255, change
        assert (y - x).abs().mean() > 0.5, change  # it did something…
        assert (y - x).abs().mean() < 40, change  # …and left a face, not noise
    assert not BASE.photometric and BASE.replace(noise=1.0).photometric


def test_gamma_is_monotone_and_blur_keeps_the_mean():
    x = faces(4)
    d = torch.tensor([[1.0, 0, 0, 0.9, 0]] * 4)  # the strongest gamma (exponent 1.5), no other change
    y = photometric(x, d, BASE.replace(gamma=0.5))
    order = x.flatten().argsort()
    assert bool((y.flatten()[order].diff() >= -1e-3).all())  # a monotone map of the grey levels
    assert bool((y <= x + 1e-3).all())  # an exponent above 1 darkens every level of 0–255
    flat = torch.full((2, 1, 60, 60), 100.0)
    b = photometric(flat, torch.tensor([[0, 1.0, 0, 0.9, 0]] * 2), BASE.replace(blur=2.0))
    assert torch.allclose(b, flat)  # blurring a flat face leaves it flat


def test_a_face_gets_the_same_jitter_in_any_batch():
    """Each face's jitter depends on its own draws only: a sub-batch (one DDP rank's share) gets the same."""
    recipe = BASE.replace(gamma=0.5, blur=1.2, noise=6.0, lowres=0.5)
    x, d = faces(10), photometric_draws(10, 3, 1)
    whole = photometric(x, d, recipe)
    assert torch.equal(photometric(x[1::2], d[1::2], recipe), whole[1::2])
    assert torch.equal(photometric(x, photometric_draws(10, 3, 1), recipe), whole)  # same seed, same draws
    assert not torch.equal(photometric(x, photometric_draws(10, 3, 2), recipe), whole)  # a new epoch, new ones


def test_training_inputs_are_normalised_after_the_jitter():
    pixels = faces(6).squeeze(1).to(torch.uint8)
    f = Faces(pixels)
    recipe = BASE.replace(noise=6.0)
    index = torch.arange(6)
    x = training_inputs(f, index, photometric_draws(6, 0, 0), recipe)
    assert torch.allclose(x.mean(dim=(2, 3)), torch.zeros(6, 1), atol=1e-4)  # still standardised per face
    assert not torch.allclose(x, f.batch(index))  # but not the faces as they were
    assert torch.equal(training_inputs(f, index, None, BASE), f.batch(index))  # no photometric: unchanged


def test_sampling_weights_draw_faces_in_proportion():
    w = torch.tensor([1.0] * 90 + [9.0] * 10)  # two sources of 90 and 10 faces, the same share each
    drawn = torch.cat(epoch_batches(100, 100, 0, 0, w * 100)).numpy()
    share = (drawn >= 90).mean()
    assert 0.4 < share < 0.6  # half of the draws from the small source (binomial, n=100: ±0.1 is > 3σ)


def test_fit_takes_sample_weights_and_trains_only_on_faces_that_are_drawn():
    """A face with weight 0 is never drawn: a model trained with all weight on one class predicts it."""
    rng = np.random.default_rng(0)
    pixels = torch.from_numpy(rng.integers(0, 255, (40, 60, 60), dtype=np.uint8))
    y = torch.tensor([0, 1] * 20)
    training = Training(MFFCNNConfig(num_classes=2), BASE.replace(lr=0.01, warmup_epochs=0), epochs=2)
    only_ones = (y == 1).double()
    model = fit(Faces(pixels), y, training, sample_weights=only_ones)
    model.eval()
    with torch.no_grad():
        pred = model(Faces(pixels).batch()).argmax(1)
    assert bool((pred == 1).all())


def test_source_weights_give_each_dataset_its_share():
    assert source_weights([90, 10], 0.0) is None  # every face once
    w = source_weights([90, 10], 1.0)
    assert w.shape == (100,) and abs(w.mean().item() - 1) < 1e-12
    assert abs(w[:90].sum().item() - w[90:].sum().item()) < 1e-9  # equal shares
    half = source_weights([90, 10], 0.5)
    assert abs(half[:90].sum().item() / half[90:].sum().item() - 3.0) < 1e-9  # shares ∝ √size: √90/√10 = 3


def test_source_class_weights_balance_classes_inside_each_dataset_and_keep_its_share():
    # dataset A: 6 faces of class 0, 2 of class 1; dataset B: 1 of class 0, 3 of class 2 (soft targets for B)
    a = torch.tensor([0, 0, 0, 0, 0, 0, 1, 1])
    b = torch.nn.functional.one_hot(torch.tensor([0, 2, 2, 2]), 3).float() * 0.8 + 0.2 / 3
    y = torch.cat([torch.nn.functional.one_hot(a, 3).float(), b])
    assert source_class_weights(y, [8, 4], 0.0) is None
    w = source_class_weights(y, [8, 4], 1.0)
    assert abs(w[:8].sum().item() - 8) < 1e-9 and abs(w[8:].sum().item() - 4) < 1e-9  # shares unchanged
    assert abs(w[:6].sum().item() - w[6:8].sum().item()) < 1e-9  # A's two classes alike
    assert abs(w[8].item() - w[9:].sum().item()) < 1e-9  # B's lone class-0 face weighs its three class-2 faces
    half = source_class_weights(y, [8, 4], 0.5)
    assert abs(half[6].item() / half[0].item() - 3**0.5) < 1e-9  # ∝ count^-0.5: (2/6)^-0.5
    with pytest.raises(ValueError, match="add up to 10"):
        source_class_weights(y, [8, 2], 1.0)
