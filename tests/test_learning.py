"""The suite sees a model that stops learning: training must fit the data, and its loss must fall.

A training loop that skips the optimizer's step, a loss with the wrong sign or a gradient that never reaches the
weights leaves every other test green (shapes, files, resumes are all fine); these tests go red.
"""

import numpy as np
import pytest
import torch

from mffcnn.data.datasets import synthetic
from mffcnn.model import MFFCNN, MFFCNNConfig
from mffcnn.train.loop import Training, _LossOf, fit, predict_proba, train_one_epoch
from mffcnn.train.recipes import get_recipe

CHANCE = 1 / 6


@pytest.fixture(scope="module")
def learnt():
    """The default recipe (with a batch that suits 108 faces) on 3 synthetic people, 15 epochs: ~12 s."""
    fs = synthetic.load(subjects=3, per_class=6)
    losses = []
    training = Training(MFFCNNConfig(), get_recipe("augmented").replace(batch_size=12), epochs=15, seed=0)
    model = fit(
        fs.preprocessing.faces(fs.images),
        torch.from_numpy(fs.labels),
        training,
        on_epoch=lambda e, loss: losses.append(loss),
    )
    return fs, model, losses


def test_training_fits_the_training_faces(learnt):
    fs, model, _ = learnt
    accuracy = (predict_proba(model, fs.preprocessing.faces(fs.images)).argmax(1) == fs.labels).mean()
    assert accuracy > 2.5 * CHANCE  # 0.53 here; an untrained or frozen network stays near 1/6


def test_the_loss_falls(learnt):
    *_, losses = learnt
    assert losses[-1] < 0.8 * losses[0]  # 3.80 → 2.59 here
    assert np.mean(losses[-3:]) < np.mean(losses[:3])


def fresh():
    """A new model, its weights as they start, and one batch of 24 synthetic faces."""
    torch.manual_seed(0)
    model = MFFCNN(MFFCNNConfig())
    fs = synthetic.load(subjects=2, per_class=2)
    return (
        model,
        {k: v.clone() for k, v in model.state_dict().items()},
        fs.preprocessing.to_tensor(fs.images),
        torch.from_numpy(fs.labels),
    )


def test_every_weight_moves_and_the_step_follows_the_gradient():
    """One step changes every parameter, and lowers the loss of the batch it was taken on."""
    model, before, x, y = fresh()
    step = _LossOf(model)
    with torch.no_grad():
        loss_before = step(x, y).item()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    recipe = get_recipe("paper").replace(batch_size=len(y))
    train_one_epoch(step, optimizer, x, y, Training(model.cfg, recipe, epochs=1), epoch=0)
    for k, v in model.state_dict().items():
        assert not torch.equal(v, before[k]), f"{k} did not move"
    with torch.no_grad():
        assert step(x, y).item() < loss_before


def test_a_scaled_step_trains_too():
    """--amp on a GPU without bfloat16 scales the loss (GradScaler); the scaled step still trains every weight."""
    model, before, x, y = fresh()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**8)
    training = Training(model.cfg, get_recipe("paper").replace(batch_size=len(y)), epochs=1)
    loss = train_one_epoch(_LossOf(model), optimizer, x, y, training, epoch=0, scaler=scaler)
    assert np.isfinite(loss)
    assert all(not torch.equal(v, before[k]) for k, v in model.state_dict().items())
