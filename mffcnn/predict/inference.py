"""The network as predict runs it from a checkpoint and as export writes it: face crops in, probabilities out."""

from __future__ import annotations

import torch
from torch import nn

from mffcnn.data.preprocess import NORMALISATIONS, normalise_pixels
from mffcnn.model import MFFCNN


class InferenceModel(nn.Module):
    """Face crops (B, 1, S, S) in 0–255 → class probabilities (B, C): normalisation + MFF-CNN,
    exactly `model(preprocessing.to_tensor(faces))`. What is exported, and what PyTorch runs."""

    def __init__(self, model: MFFCNN, normalisation: str = "per_image"):
        super().__init__()
        if normalisation not in NORMALISATIONS:
            raise ValueError(f"unknown normalisation {normalisation!r}")
        self.model = model.eval()
        self.normalisation = normalisation

    def forward(self, faces: torch.Tensor) -> torch.Tensor:
        return self.model(normalise_pixels(faces, self.normalisation))
