"""MFF-CNN: the two branches integrated by joint tuning (paper §3.3, eqs. 3–5).

Each branch has its own FC + softmax classifier: l_image and l_patch. Joint tuning sums
them, ỹ = l_image + l_patch (eq. 3), predicts argmax ỹ (eq. 4), and trains everything end to
end on L = λ1·CE(l_image) + λ2·CE(l_patch) + λ3·CE(ỹ) (eq. 5), λ = (1, 1, 0.1).

Where ỹ is normalised: the paper's ỹ sums to 2, so −log ỹ_i can go negative and is not a
cross-entropy. We use ỹ/2, the mean of the two distributions, in the loss and as the
model's output probabilities. It has the same argmax as eq. 4, so predictions are the
paper's; the λ3 term is a proper cross-entropy.

The "without joint tuning" ablation of Table 6 concatenates the global and local features
and feeds them to one FC + softmax, trained with plain cross-entropy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from mffcnn.model.config import MFFCNNConfig
from mffcnn.model.image_branch import ImageBranch
from mffcnn.model.patch_branch import PatchBranch


@dataclass
class MFFCNNOutput:
    log_probs: torch.Tensor  # (B, C): log of the fused distribution ỹ/2 (or of the concat classifier)
    image_logits: torch.Tensor | None = None  # (B, C), l_image before softmax (joint tuning only)
    patch_logits: torch.Tensor | None = None  # (B, C), l_patch before softmax (joint tuning only)


class MFFCNN(nn.Module):
    def __init__(self, cfg: MFFCNNConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or MFFCNNConfig()
        self.image_branch = ImageBranch(cfg)
        self.patch_branch = PatchBranch(cfg)
        self.dropout = nn.Dropout(cfg.dropout)
        if cfg.joint_tuning:
            self.image_classifier = nn.Linear(self.image_branch.out_dim, cfg.num_classes)
            self.patch_classifier = nn.Linear(self.patch_branch.out_dim, cfg.num_classes)
        else:
            self.classifier = nn.Linear(self.image_branch.out_dim + self.patch_branch.out_dim, cfg.num_classes)

    def forward_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 1, 60, 60) → global feature (B, 384) and selected local feature (B, 1536)."""
        return self.image_branch(x), self.patch_branch(x)

    def forward_head(self, global_feature: torch.Tensor, local_feature: torch.Tensor) -> MFFCNNOutput:
        g, p = self.dropout(global_feature), self.dropout(local_feature)
        if not self.cfg.joint_tuning:
            return MFFCNNOutput(log_probs=F.log_softmax(self.classifier(torch.cat([g, p], dim=1)), dim=1))
        image_logits, patch_logits = self.image_classifier(g), self.patch_classifier(p)
        # log(ỹ/2) = log((softmax(a) + softmax(b)) / 2), computed without leaving log space.
        fused = torch.logaddexp(F.log_softmax(image_logits, 1), F.log_softmax(patch_logits, 1)) - math.log(2)
        return MFFCNNOutput(log_probs=fused, image_logits=image_logits, patch_logits=patch_logits)

    def forward_all(self, x: torch.Tensor) -> MFFCNNOutput:
        return self.forward_head(*self.forward_features(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 60, 60) normalised faces → (B, C) class probabilities: ỹ/2 = (l_image + l_patch)/2.

        The same numbers as forward_all(x).log_probs.exp(), computed with softmaxes only so that
        ONNX and TorchScript exports (mffcnn/export.py) can trace it: ONNX has no logaddexp."""
        g, p = self.forward_features(x)
        g, p = self.dropout(g), self.dropout(p)
        if not self.cfg.joint_tuning:
            return F.softmax(self.classifier(torch.cat([g, p], dim=1)), dim=1)
        return (F.softmax(self.image_classifier(g), dim=1) + F.softmax(self.patch_classifier(p), dim=1)) / 2

    def loss(
        self,
        out: MFFCNNOutput,
        target: torch.Tensor,
        *,
        class_weights: torch.Tensor | None = None,
        label_smoothing: float = 0.0,
    ) -> torch.Tensor:
        """Eq. 5 (joint tuning) or plain cross-entropy (the concatenation ablation), averaged over the batch.

        target: (B,) class indices, or (B, C) soft targets (FER+'s vote distributions), for which each
        cross-entropy is −Σ_c t_c log p_c. class_weights (C,): each face counts with its weight
        (face_weights), averaged as cross_entropy(weight=) does. label_smoothing mixes hard labels with the
        uniform distribution."""
        if target.ndim == 1 and class_weights is None and not label_smoothing:  # the paper's case, as it was
            if not self.cfg.joint_tuning:
                return F.nll_loss(out.log_probs, target)
            l1, l2, l3 = self.cfg.loss_weights
            return (
                l1 * F.cross_entropy(out.image_logits, target)
                + l2 * F.cross_entropy(out.patch_logits, target)
                + l3 * F.nll_loss(out.log_probs, target)
            )
        t = soft_targets(target, out.log_probs.shape[1], label_smoothing).to(out.log_probs.dtype)
        w = face_weights(t, class_weights)

        def cross_entropy(log_p: torch.Tensor) -> torch.Tensor:
            per_face = -(t * log_p).sum(1)  # (B,)
            return per_face.mean() if w is None else (per_face * w).sum() / w.sum()

        if not self.cfg.joint_tuning:
            return cross_entropy(out.log_probs)
        l1, l2, l3 = self.cfg.loss_weights
        return (
            l1 * cross_entropy(F.log_softmax(out.image_logits, 1))
            + l2 * cross_entropy(F.log_softmax(out.patch_logits, 1))
            + l3 * cross_entropy(out.log_probs)
        )


def soft_targets(target: torch.Tensor, num_classes: int, label_smoothing: float = 0.0) -> torch.Tensor:
    """(B,) class indices or (B, C) soft targets → (B, C) distributions, smoothed toward uniform."""
    t = target.float() if target.ndim == 2 else F.one_hot(target, num_classes).float()
    return t * (1 - label_smoothing) + label_smoothing / num_classes if label_smoothing else t


def face_weights(t: torch.Tensor, class_weights: torch.Tensor | None) -> torch.Tensor | None:
    """(B,) weight of each face in the loss: its class's weight (for a soft target, the target-weighted
    mean of the classes' weights); None when classes are not weighted."""
    return None if class_weights is None else t @ class_weights.to(t)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def param_counts(base: MFFCNNConfig | None = None) -> dict[str, int]:
    """Parameter count of each Table 6 configuration."""
    from mffcnn.model.config import ABLATIONS, ablation_config

    return {name: count_parameters(MFFCNN(ablation_config(name, base))) for name in ABLATIONS}
