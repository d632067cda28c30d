"""FLOPs of one forward pass, counted by PyTorch's own FlopCounterMode (a multiply-add = 2 FLOPs)."""

from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode

from mffcnn.model.config import MFFCNNConfig
from mffcnn.model.mffcnn import MFFCNN


def flops_per_image(cfg: MFFCNNConfig | None = None) -> int:
    """Convolutions and FC layers of one 60×60 face (pooling, ReLU and selection are not counted)."""
    model = MFFCNN(cfg).eval()
    x = torch.zeros(1, 1, model.cfg.input_size, model.cfg.input_size)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x)
    return int(counter.get_total_flops())
