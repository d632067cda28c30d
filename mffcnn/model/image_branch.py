"""The Image Branch (paper §3.1, eq. 1): mid-level and high-level global features.

Six 3×3 "valid" convs with ReLU and three 2×2 max-pools. The mid-level feature is the
output of the 2nd max-pool (after conv 4), passed through an FC layer of 256 units; the
high-level feature is the output of the 3rd max-pool (after conv 6), flattened. Their
concatenation (eq. 1) is the global feature that the classifier (or the concatenation
ablation) consumes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mffcnn.model.config import MFFCNNConfig


def conv_stack(in_channels: int, convs, pool_after: tuple[int, ...]) -> nn.Sequential:
    """Convs with ReLU ("Each of the convolutional layer utilizes ReLU"), 2×2 pools after the given convs."""
    layers: list[nn.Module] = []
    for i, (out_channels, kernel) in enumerate(convs, start=1):
        layers += [nn.Conv2d(in_channels, out_channels, kernel), nn.ReLU(inplace=True)]
        if i in pool_after:
            layers.append(nn.MaxPool2d(2))
        in_channels = out_channels
    return nn.Sequential(*layers)


def stack_output_size(size: int, convs, pool_after: tuple[int, ...]) -> int:
    for i, (_, kernel) in enumerate(convs, start=1):
        size -= kernel - 1
        if i in pool_after:
            size //= 2
    if size < 1:
        raise ValueError("the conv stack shrinks the input to nothing")
    return size


class ImageBranch(nn.Module):
    def __init__(self, cfg: MFFCNNConfig):
        super().__init__()
        self.use_mid_level = cfg.use_mid_level
        convs = cfg.image_convs
        # Named stages so Grad-CAM and ablations can reach the paper's feature maps (Fig. 8).
        self.mid_stage = conv_stack(1, convs[:4], pool_after=(2, 4))  # conv1-4, pool 1-2
        self.high_stage = conv_stack(convs[3][0], convs[4:], pool_after=(2,))  # conv5-6, pool 3
        mid_size = stack_output_size(cfg.input_size, convs[:4], (2, 4))
        high_size = stack_output_size(mid_size, convs[4:], (2,))
        self.mid_dim = convs[3][0] * mid_size**2  # 32·12·12 = 4608
        self.high_dim = convs[5][0] * high_size**2  # 8·4·4 = 128
        self.mid_fc = (
            nn.Sequential(nn.Flatten(), nn.Linear(self.mid_dim, cfg.mid_units), nn.ReLU(inplace=True))
            if cfg.use_mid_level
            else None
        )
        self.out_dim = self.high_dim + (cfg.mid_units if cfg.use_mid_level else 0)

    def forward_maps(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 1, 60, 60) → mid (B, 32, 12, 12) after pool 2, high (B, 8, 4, 4) after pool 3."""
        mid = self.mid_stage(x)
        high = self.high_stage(mid)
        return mid, high

    def forward_head(self, mid: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
        """Eq. 1: mid-level ⊕ high-level → (B, 256 + 128)."""
        parts = [self._mid_level(mid)] if self.mid_fc is not None else []
        parts.append(high.flatten(1))  # (B, 8·4·4)
        return torch.cat(parts, dim=1)

    def _mid_level(self, mid: torch.Tensor) -> torch.Tensor:
        """FC(256) + ReLU of the flattened mid-level maps (B, 32, 12, 12) → (B, 256).

        In training on channels_last maps, the same product is taken in the maps' own memory order: the FC's
        weight columns are permuted to (h, w, c) instead of the maps being copied to (c, h, w). The gradient
        then flows back to the convolutions in channels_last too, without a layout conversion on CPU
        (bench/ferplus_speed.py). Same weights, same function; only the order of the additions differs."""
        if not (self.training and mid.is_contiguous(memory_format=torch.channels_last)):
            return self.mid_fc(mid)
        fc = self.mid_fc[1]
        c, h, w = mid.shape[1:]
        weight = fc.weight.view(-1, c, h, w).permute(0, 2, 3, 1).reshape(fc.out_features, -1)  # (256, h·w·c)
        return F.relu(F.linear(mid.permute(0, 2, 3, 1).reshape(len(mid), -1), weight, fc.bias))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(*self.forward_maps(x))
