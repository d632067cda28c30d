"""The head-turn warp of the training jitter (recipe.yaw, mffcnn.train.loop.jitter)."""

import math

import pytest
import torch

from mffcnn.data.datasets import synthetic
from mffcnn.errors import MffcnnError
from mffcnn.model import MFFCNNConfig
from mffcnn.train import loop
from mffcnn.train.recipes import Recipe

NO_SIMILARITY = torch.tensor([[0.9, 0.5, 0.5, 0.5, 0.5]])  # no flip, no rotation, zoom or shift
W = 41  # the crop's middle column is 20


def centroid_column(img: torch.Tensor) -> float:
    columns = img[0, 0].sum(0)
    return float((columns * torch.arange(len(columns))).sum() / columns.sum())


def middle_bar() -> torch.Tensor:
    face = torch.zeros(1, 1, W, W)
    face[..., 10:30, 19:22] = 1.0  # a vertical bar on the middle column
    return face


def test_the_warp_moves_the_middle_of_the_face_towards_the_drawn_side_by_yaw_half_widths():
    face, recipe = middle_bar(), Recipe("t", yaw=0.25)
    # turns 1.0: k = +0.25, the input at x = k comes to the middle, so the middle goes to x with x + k(1 - x²) = 0
    k = 0.25
    x = (1 - math.sqrt(1 + 4 * k * k)) / (2 * k)
    expected = (x + 1) * W / 2 - 0.5  # align_corners=False pixel of normalised x
    left = loop.jitter(face, NO_SIMILARITY, recipe, torch.tensor([1.0]))
    right = loop.jitter(face, NO_SIMILARITY, recipe, torch.tensor([0.0]))
    assert centroid_column(left) == pytest.approx(expected, abs=0.3)
    assert centroid_column(right) == pytest.approx(W - 1 - expected, abs=0.3)
    assert centroid_column(left) < 20 - 4  # about 4.8 px: the warp is not a no-op
    same = loop.jitter(face, NO_SIMILARITY, recipe, torch.tensor([0.5]))  # k = 0: the face as it was
    assert torch.allclose(same, face, atol=1e-6)


def test_the_side_the_middle_moves_towards_is_squeezed_and_shorter_and_the_crops_edges_stay():
    recipe, k = Recipe("t", yaw=0.25), torch.tensor([1.0])  # k = +0.25: the middle moves left, the far side
    band = torch.zeros(1, 1, W, W)
    band[..., 15:26, :] = 1.0  # a horizontal band, 11 rows high, across the crop
    warped = loop.jitter(band, NO_SIMILARITY, recipe, k)[0, 0]
    far, near = float(warped[:, 2].sum()), float(warped[:, -3].sum())  # the band's height by each edge
    assert far < 11 < near
    x_far = (2 + 0.5) / (W / 2) - 1  # that column's normalised x
    assert far == pytest.approx(11 / (1 - loop.TURN_FORESHORTENING * 0.25 * x_far), rel=0.05)
    bars = torch.zeros(1, 1, W, W)
    bars[..., :, 4] = bars[..., :, 20] = 1.0  # a column on the far side and the middle one
    warped = loop.jitter(bars, NO_SIMILARITY, recipe, k)[0, 0].sum(0)
    left = float((warped[:12] * torch.arange(12)).sum() / warped[:12].sum())  # where column 4 went
    middle = centroid_column(loop.jitter(middle_bar(), NO_SIMILARITY, recipe, k))
    assert 0 < left < 4 and middle < 20  # both move left, the far side's columns closer together
    assert middle - left < 20 - 4
    edges = torch.zeros(1, 1, W, W)
    edges[..., :, 0] = edges[..., :, -1] = 1.0  # the crop's first and last columns
    moved = loop.jitter(edges, NO_SIMILARITY, recipe, k)[0, 0]
    assert float(moved[:, 3:-3].abs().max()) == 0  # they stay within two pixels of the crop's edges
    assert float(moved[:, 0].min()) > 0.5 and float(moved[:, -1].min()) > 0.5


def test_yaw_is_bounded_and_needs_its_draws():
    with pytest.raises(ValueError, match="yaw"):
        Recipe("t", yaw=0.5)  # at 0.5 the warp folds the crop's edge over
    with pytest.raises(MffcnnError, match="turn_draws"):
        loop.jitter(middle_bar(), NO_SIMILARITY, Recipe("t", yaw=0.2))


def test_training_with_the_warp_is_deterministic_and_differs_from_training_without_it():
    fs = synthetic.load(subjects=2, per_class=3)
    x, y = fs.preprocessing.to_tensor(fs.images), torch.from_numpy(fs.labels)

    def train(recipe):
        return loop.fit(x, y, loop.Training(model_config=MFFCNNConfig(), recipe=recipe, epochs=1, seed=1))

    plain = Recipe("t", lr=0.001, batch_size=16, flip=True)
    turned = plain.replace(yaw=0.25)
    a, b, c = train(turned), train(turned), train(plain)
    assert all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())
    assert any(not torch.equal(v, c.state_dict()[k]) for k, v in a.state_dict().items())
    # the recipes without the warp draw what they drew before: the draws of the other streams are unchanged
    assert not torch.equal(loop.turn_draws(8, 1, 0), loop.jitter_draws(8, 1, 0)[:, 0])
