"""Run by tests/test_distributed.py under torchrun: fit a tiny model, rank 0 saves its weights.

Everything runs in float64 (torch's default dtype is set to it in both the test and the torchrun workers):
see test_ddp_two_processes_equal_one for why."""

import sys

import torch
from safetensors.torch import save_file

from mffcnn.data.datasets import synthetic
from mffcnn.model import MFFCNNConfig
from mffcnn.train import distributed
from mffcnn.train.loop import Training, fit
from mffcnn.train.recipes import Recipe

RECIPE = Recipe("test", lr=0.001, batch_size=25, flip=True, rotate=5, shift=2)
EPOCHS = 2
DTYPE = torch.float64


def initial() -> dict:
    """The weights fit starts from with this seed (before any step)."""
    torch.manual_seed(7)
    model = fit(
        torch.zeros(1, 1, 60, 60, dtype=DTYPE),
        torch.zeros(1, dtype=torch.long),
        Training(model_config=MFFCNNConfig(), recipe=RECIPE, epochs=0, seed=7),
    )
    return {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}


def train(dist) -> dict:
    fs = synthetic.load(subjects=3, per_class=3)  # 54 faces: batches of 25, 25, 4 (uneven shares)
    x, y = fs.preprocessing.to_tensor(fs.images).to(DTYPE), torch.from_numpy(fs.labels)
    model = fit(x, y, Training(model_config=MFFCNNConfig(), recipe=RECIPE, epochs=EPOCHS, seed=7, dist=dist))
    return {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}


if __name__ == "__main__":
    torch.set_default_dtype(DTYPE)
    dist = distributed.from_env()
    weights = train(dist)
    if dist.is_main:
        save_file(weights, sys.argv[1])
    distributed.shutdown()
