"""The Patch Branch (paper §3.2, eq. 2, Fig. 3): local features from N overlapping patches.

The 60×60 input is cut into N = 16 square patches of side S = 24 at stride 12 (overlap 0.5,
S·(√N+1) = 2L). One CNN (4 convs + 2 max-pools), shared by all patches, turns each patch into
K = 32 feature maps; each map, vectorised, is one feature vector, N·K = 512 in all. L2-norm
selection keeps M = 384 of them (mffcnn.model.selection), whose concatenation is the local
feature.

Computing it once, not 16 times: the patch CNN has only "valid" convs and 2×2 pools, and the
patch stride (12) is a multiple of the CNN's total stride (4), with every pool meeting even
offsets and sizes. Then the CNN's output on a patch is exactly the matching window of its output
on the whole image, so we run it once on the 60×60 face and cut the 16 windows out of the result
(60→58→56→28→24→22→11, windows of 2×2 at stride 3). Same numbers, half the work, because
overlapping patches no longer recompute their shared pixels. `forward_maps_per_patch` is the
literal version; tests check the two agree.
"""

from __future__ import annotations

from math import isqrt

import torch
from torch import nn

from mffcnn.model.config import MFFCNNConfig
from mffcnn.model.image_branch import conv_stack, stack_output_size
from mffcnn.model.selection import select_feature_vectors


def overlap_segmentation(x: torch.Tensor, size: int, stride: int) -> torch.Tensor:
    """(B, C, L, L) → (B, N, C, S, S), patches in row-major order (patch 1 top-left, as in Fig. 3)."""
    b, c = x.shape[:2]
    patches = x.unfold(2, size, stride).unfold(3, size, stride)  # (B, C, √N, √N, S, S)
    return patches.permute(0, 2, 3, 1, 4, 5).reshape(b, -1, c, size, size)


def shared_window_stride(size: int, stride: int, convs, pool_after: tuple[int, ...]) -> int | None:
    """The stride of the patch windows in the whole-image CNN output, or None when the CNN's output
    on a patch is not a window of its output on the whole image (then patches run one by one)."""
    offset = stride  # follow the second patch's window; the first sits at 0
    for i, (_, kernel) in enumerate(convs, start=1):
        size -= kernel - 1
        if i in pool_after:
            if offset % 2 or size % 2:
                return None  # the pool would straddle differently inside and outside the patch
            offset, size = offset // 2, size // 2
    return offset


class PatchBranch(nn.Module):
    def __init__(self, cfg: MFFCNNConfig):
        super().__init__()
        self.patch_size = cfg.patch_size
        self.patch_stride = cfg.patch_stride
        self.num_selected = cfg.num_selected
        self.feature_selection = cfg.feature_selection
        self.cnn = conv_stack(1, cfg.patch_convs, pool_after=(2, 4))
        side = stack_output_size(cfg.patch_size, cfg.patch_convs, (2, 4))
        self.vector_dim = side * side  # d = 2·2
        self.out_dim = cfg.kept_vectors * self.vector_dim  # 384·4 = 1536
        self.window_stride = shared_window_stride(cfg.patch_size, cfg.patch_stride, cfg.patch_convs, (2, 4))

    def forward_maps(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 60, 60) → per-patch maps after the 2nd max-pool, (B, N, K, 2, 2)."""
        if self.window_stride is None:
            return self.forward_maps_per_patch(x)
        full = self.cnn(x).permute(0, 2, 3, 1)  # (B, 11, 11, 32): the patch CNN on the whole face
        side = isqrt(self.vector_dim)
        # Windows cut along (h, w) of the (B, h, w, K) view: for channels_last maps (training on CPU) the view
        # is free and the gradient flows back in channels_last, without a layout conversion.
        windows = full.unfold(1, side, self.window_stride).unfold(2, side, self.window_stride)  # (B, 4, 4, 32, 2, 2)
        return windows.flatten(1, 2)  # (B, 16, 32, 2, 2), patches row-major

    def forward_maps_per_patch(self, x: torch.Tensor) -> torch.Tensor:
        """The paper's procedure to the letter: cut the patches, run the CNN on each."""
        patches = overlap_segmentation(x, self.patch_size, self.patch_stride)  # (B, 16, 1, 24, 24)
        b, n = patches.shape[:2]
        maps = self.cnn(patches.flatten(0, 1))  # one batched pass for all patches: (B·16, 32, 2, 2)
        return maps.unflatten(0, (b, n))  # (B, 16, 32, 2, 2)

    def select(self, maps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Maps (B, N, K, h, w) → kept vectors (B, M, h·w) and their indices into N·K (or None)."""
        vectors = maps.flatten(3).flatten(1, 2)  # (B, N·K, h·w) = (B, 512, 4)
        if not self.feature_selection:
            return vectors, None
        return select_feature_vectors(vectors, self.num_selected)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kept, _ = self.select(self.forward_maps(x))
        return kept.flatten(1)  # (B, M·d) = (B, 1536)
