"""Weight averaging: `WeightAverage`, an exponential moving average of a model's weights over training steps.

Not in the paper. The bundled model's last stages end wherever the last few hundred steps leave them: the same
recipe with seeds 0, 1 and 2 put AffectNet's neutral recall at 53, 32 and 29 % (BENCHMARKS.md,
`cross_source_v5_seed1`), because the last steps decide how often the classifier says neutral. An average of the
weights over the last epoch or so (Polyak averaging; the "EMA" of timm's and YOLO's trainers) is a model from the
middle of that wandering rather than from one end of it, at the cost of one copy of the weights.

The average starts at the weights training starts from and follows each optimiser step:
avg ← avg + (1 − decay)·(w − avg), with decay = 1 − 1/(steps per epoch · epochs), so `epochs` is its time constant
whatever the dataset's size: the weights of k epochs ago count e^−k/epochs as much as the last ones. Only the
parameters are averaged; MFF-CNN has no buffers that training changes (no batch normalisation).
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import nn


class WeightAverage:
    def __init__(self, model: nn.Module, steps_per_epoch: int, epochs: float):
        if epochs <= 0 or steps_per_epoch <= 0:
            raise ValueError("a weight average needs a positive time constant (epochs) and steps per epoch")
        self.decay = 1 - 1 / (steps_per_epoch * epochs)
        self.params = [p.detach().clone() for p in model.parameters()]

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the average towards the model's weights after one optimiser step."""
        for a, p in zip(self.params, model.parameters(), strict=True):
            a.lerp_(p.detach(), 1 - self.decay)

    def copy_to(self, model: nn.Module) -> None:
        """Put the averaged weights into the model."""
        _copy(list(model.parameters()), self.params)

    @contextmanager
    def applied(self, model: nn.Module):
        """The model with the averaged weights inside the block, its own weights again after it."""
        own = [p.detach().clone() for p in model.parameters()]
        self.copy_to(model)
        try:
            yield model
        finally:
            _copy(list(model.parameters()), own)

    def state_dict(self) -> list[torch.Tensor]:
        return [a.cpu() for a in self.params]

    def load_state_dict(self, state: list[torch.Tensor]) -> None:
        if len(state) != len(self.params) or any(s.shape != a.shape for s, a in zip(state, self.params)):
            raise ValueError("the saved weight average does not fit this model")
        _copy(self.params, state)


@torch.no_grad()
def _copy(targets: list[torch.Tensor], values: list[torch.Tensor]) -> None:
    """Each target tensor takes the values of its partner, in place (parameters too: no autograd)."""
    for t, v in zip(targets, values, strict=True):
        t.copy_(v)
