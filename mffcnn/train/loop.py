"""The training loop: `train_one_epoch`, `predict_proba`, and `fit` that runs a recipe."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from mffcnn.errors import MffcnnError
from mffcnn.model import MFFCNN, MFFCNNConfig
from mffcnn.train.recipes import Recipe


class TrainingDiverged(MffcnnError):
    """The loss became NaN or infinite."""


def seed_everything(seed: int) -> None:
    import random

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def augment_batch(x: torch.Tensor, recipe: Recipe, gen: torch.Generator) -> torch.Tensor:
    """Random flip and a random similarity transform per face of a (B, 1, H, W) batch."""
    b, _, h, w = x.shape
    if recipe.flip:
        flip = torch.rand(b, generator=gen) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(3), x)
    if recipe.rotate or recipe.scale or recipe.shift:
        u = torch.rand(b, 4, generator=gen) * 2 - 1  # (B, 4) in [-1, 1]
        angle = u[:, 0] * math.radians(recipe.rotate)
        zoom = 1 + u[:, 1] * recipe.scale
        cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
        theta = torch.stack([  # (B, 2, 3): output → input sampling grid, in [-1, 1] coordinates
            torch.stack([cos, -sin, u[:, 2] * 2 * recipe.shift / w], 1),
            torch.stack([sin, cos, u[:, 3] * 2 * recipe.shift / h], 1),
        ], 1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return x


def train_one_epoch(
    model: MFFCNN,
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    recipe: Recipe,
    gen: torch.Generator,
    epoch: int,
    on_batch: Callable[[], None] | None = None,
) -> float:
    """One pass over (x, y) in random batches; returns the mean loss."""
    model.train()
    order = torch.randperm(len(y), generator=gen)
    total, seen = 0.0, 0
    for b, start in enumerate(range(0, len(y), recipe.batch_size)):
        idx = order[start : start + recipe.batch_size]
        xb = augment_batch(x[idx], recipe, gen)
        loss = model.loss(model.forward_all(xb), y[idx])
        if not math.isfinite(loss.item()):
            raise TrainingDiverged(f"loss became {loss.item()} at epoch {epoch + 1}, batch {b + 1}; try a lower --lr")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)
        seen += len(idx)
        if on_batch:
            on_batch()
    return total / max(seen, 1)


@torch.no_grad()
def predict_proba(model: MFFCNN, x: torch.Tensor, batch_size: int = 500) -> np.ndarray:
    model.eval()
    out = [model(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
    return torch.cat(out).numpy() if out else np.zeros((0, model.cfg.num_classes), np.float32)


def fit(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    model_config: MFFCNNConfig,
    recipe: Recipe,
    epochs: int,
    seed: int,
    on_epoch: Callable[[int, float], None] | None = None,
    init: MFFCNN | None = None,
) -> MFFCNN:
    """Train a fresh MFF-CNN on (x, y) with the recipe (or go on training `init`: fine-tuning,
    §4.6); same seed, same model."""
    seed_everything(seed)
    model = init if init is not None else MFFCNN(model_config)  # callers apply the recipe: recipe.model_config(cfg)
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    gen = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        for group in optimizer.param_groups:
            group["lr"] = recipe.lr_at(epoch)
        loss = train_one_epoch(model, optimizer, x, y, recipe=recipe, gen=gen, epoch=epoch)
        if on_epoch:
            on_epoch(epoch, loss)
    return model
