"""Weight averaging (recipe average_epochs): the average's arithmetic, what fit returns, and resuming with it."""

import pytest
import torch
from torch import nn

from mffcnn.data.datasets import synthetic
from mffcnn.model import MFFCNNConfig
from mffcnn.train import loop
from mffcnn.train.averaging import WeightAverage
from mffcnn.train.loop import Training, fit
from mffcnn.train.recipes import Recipe


def tiny():
    fs = synthetic.load(subjects=2, per_class=3)
    return fs.preprocessing.to_tensor(fs.images), torch.from_numpy(fs.labels)


def test_average_follows_each_step_with_the_epochs_time_constant():
    model = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(0.0)
    average = WeightAverage(model, steps_per_epoch=4, epochs=0.5)  # decay 1 - 1/2: halfway towards each step
    assert average.decay == 0.5
    for w in (4.0, 8.0):
        with torch.no_grad():
            model.weight.fill_(w)
        average.update(model)
    assert average.params[0].tolist() == [[5.0, 5.0]]  # 0 → 2 → 5
    with average.applied(model):
        assert model.weight.tolist() == [[5.0, 5.0]]
    assert model.weight.tolist() == [[8.0, 8.0]]  # the model's own weights come back after the block


def test_fit_returns_the_average_of_its_steps(monkeypatch):
    x, y = tiny()
    recipe = Recipe("t", lr=0.001, batch_size=16, flip=True, average_epochs=1.0)
    seen = []  # every step's weights, as the average sees them
    real_update = WeightAverage.update

    def spy(self, model):
        seen.append([p.detach().clone() for p in model.parameters()])
        real_update(self, model)

    monkeypatch.setattr(WeightAverage, "update", spy)
    initial = loop.MFFCNN(MFFCNNConfig())
    start = [p.detach().clone() for p in initial.parameters()]
    model = fit(x, y, Training(model_config=MFFCNNConfig(), recipe=recipe, epochs=2, seed=0), init=initial)
    steps = -(-len(y) // 16)
    assert len(seen) == 2 * steps
    decay = 1 - 1 / steps
    expected = start
    for weights in seen:
        expected = [a + (1 - decay) * (w - a) for a, w in zip(expected, weights)]
    for p, e in zip(model.parameters(), expected):
        assert torch.allclose(p, e, rtol=1e-5, atol=1e-7)
    assert any(not torch.allclose(p, last) for p, last in zip(model.parameters(), seen[-1]))


def test_on_epoch_sees_the_average_and_training_goes_on_from_the_last_weights(tmp_path):
    x, y = tiny()
    plain = Recipe("t", lr=0.001, batch_size=16, flip=True)
    last = fit(x, y, Training(model_config=MFFCNNConfig(), recipe=plain, epochs=2, seed=0))
    seen = {}
    holder = {}

    def init():
        holder["model"] = loop.MFFCNN(MFFCNNConfig())
        return holder["model"]

    def on_epoch(epoch, loss):
        seen[epoch] = [p.detach().clone() for p in holder["model"].parameters()]

    state = tmp_path / "state.pt"
    averaged = Training(model_config=MFFCNNConfig(), recipe=plain.replace(average_epochs=1.0), epochs=2, seed=0)
    model = fit(x, y, averaged, init=init, on_epoch=on_epoch, state_path=state)
    assert sorted(seen) == [0, 1]
    for p, s in zip(model.parameters(), seen[1]):
        assert torch.equal(p, s)  # what on_epoch saw after the last epoch is what fit returns
    # The steps themselves are those of the recipe without the average: its last weights are in the state file.
    kept = torch.load(state, weights_only=True)["model"]
    for k, v in last.state_dict().items():
        assert torch.equal(v, kept[k]), k
    assert any(not torch.equal(v, model.state_dict()[k]) for k, v in last.state_dict().items())


def test_resume_with_an_average_equals_uninterrupted(tmp_path):
    x, y = tiny()
    recipe = Recipe("t", lr=0.001, batch_size=16, flip=True, shift=2, average_epochs=0.5)
    full = fit(x, y, Training(model_config=MFFCNNConfig(), recipe=recipe, epochs=4, seed=3))
    state = tmp_path / "state.pt"
    fit(x, y, Training(model_config=MFFCNNConfig(), recipe=recipe, epochs=2, seed=3), state_path=state)
    assert "average" in torch.load(state, weights_only=True)
    resumed = fit(x, y, Training(model_config=MFFCNNConfig(), recipe=recipe, epochs=4, seed=3), state_path=state)
    for k, v in full.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k]), k


def test_a_state_without_an_average_is_a_clear_error(tmp_path):
    x, y = tiny()
    state = tmp_path / "state.pt"
    fit(x, y, Training(model_config=MFFCNNConfig(), recipe=Recipe("t", batch_size=16), epochs=1), state_path=state)
    averaged = Training(model_config=MFFCNNConfig(), recipe=Recipe("t", batch_size=16, average_epochs=1), epochs=2)
    with pytest.raises(Exception, match="cannot resume from .*without a weight average"):
        fit(x, y, averaged, state_path=state)


def test_average_epochs_must_not_be_negative():
    with pytest.raises(ValueError, match="average_epochs"):
        Recipe("t", average_epochs=-1)
