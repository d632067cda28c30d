"""L2-norm feature vector selection (paper §3.2, after [17, 23]).

Of the N·K = 512 feature vectors a sample yields (one per patch and feature map), keep the
M = 384 with the largest L2 norm and concatenate them. Selection is per sample. The paper
does not say in which order the kept vectors are concatenated; we keep them in their
original (patch, map) order, so that the classifier weight a vector meets depends on where
it came from as much as selection allows, and so that equal inputs give equal outputs.

Ties are broken toward the lower index, explicitly. They are common: after ReLU many vectors are
exactly zero (hundreds of the 512 in a briefly trained model), and which zeros are kept moves the
kept non-zero vectors to other positions of the concatenation, so it changes the output.
`torch.topk` leaves the order among equal values unspecified (on CPU it prefers high indices),
while ONNX's TopK takes the lower index first, so exported models disagreed with PyTorch. Ranking
by `selection_key` instead makes every key unique with the same order in both.

The gather is differentiable with respect to the kept vectors only: the discarded ones get
exactly zero gradient, which is what Grad-CAM "after selection" (Fig. 8) shows.
"""

from __future__ import annotations

import torch


def selection_key(norms: torch.Tensor) -> torch.Tensor:
    """(B, V) float32 norms → (B, V) float64 keys, all distinct: larger norm first, then lower index.

    key = norm·(1 − i·2⁻⁴⁰) − i·2⁻⁸⁰ in float64. Distinct float32 norms above ~1e-14 differ by at
    least 2⁻²⁴ relatively, far more than the 2⁻³¹ the index term can move them, so their order is
    the norms' own; equal norms (zeros included) are ordered by index. Plain IEEE operations, so
    PyTorch and ONNX Runtime compute the same keys bit for bit.
    """
    i = torch.arange(norms.shape[1], dtype=torch.float64, device=norms.device)  # (V,)
    return norms.double() * (1 - i * 2.0**-40) - i * 2.0**-80


def select_feature_vectors(vectors: torch.Tensor, m: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, V, d) → the M largest-norm vectors (B, M, d) in original order, and their indices (B, M)."""
    norms = torch.linalg.vector_norm(vectors, dim=2)  # (B, V)
    top = torch.topk(selection_key(norms), m, dim=1, sorted=False).indices  # (B, M)
    index, _ = torch.sort(top, dim=1)  # stable (patch, map) order
    kept = torch.gather(vectors, 1, index.unsqueeze(-1).expand(-1, -1, vectors.shape[2]))  # (B, M, d)
    return kept, index
