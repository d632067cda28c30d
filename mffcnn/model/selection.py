"""L2-norm feature vector selection (paper §3.2, after [17, 23]).

Of the N·K = 512 feature vectors a sample yields (one per patch and feature map), keep the
M = 384 with the largest L2 norm and concatenate them. Selection is per sample. The paper
does not say in which order the kept vectors are concatenated; we keep them in their
original (patch, map) order, so that the classifier weight a vector meets depends on where
it came from as much as selection allows, and so that equal inputs give equal outputs.

The gather is differentiable with respect to the kept vectors only: the discarded ones get
exactly zero gradient, which is what Grad-CAM "after selection" (Fig. 8) shows.
"""

from __future__ import annotations

import torch


def select_feature_vectors(vectors: torch.Tensor, m: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, V, d) → the M largest-norm vectors (B, M, d) in original order, and their indices (B, M)."""
    norms = torch.linalg.vector_norm(vectors, dim=2)  # (B, V)
    top = torch.topk(norms, m, dim=1, sorted=False).indices  # (B, M)
    index, _ = torch.sort(top, dim=1)  # stable (patch, map) order
    kept = torch.gather(vectors, 1, index.unsqueeze(-1).expand(-1, -1, vectors.shape[2]))  # (B, M, d)
    return kept, index
