"""The training loop: `train_one_epoch`, `predict_proba`, and `fit` that runs a recipe.

All randomness of an epoch (batch order, jitter) is drawn from (seed, epoch) alone, so:
- the same seed gives the same model (on CPU; see docs for GPU),
- a run resumed from its epoch checkpoint continues exactly as if it had never stopped,
- N processes under torchrun see the same global batches as one process does, each taking its
  share: the DDP run equals the single-process run up to floating-point summation order.
We do not use torch's DistributedSampler: it pads the data to a multiple of the world size with
repeated samples, so its batches (and results) differ from a single process's.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mffcnn.data.preprocess import Faces, normalise_pixels
from mffcnn.errors import MffcnnError
from mffcnn.model import MFFCNN, MFFCNNConfig
from mffcnn.model.mffcnn import face_weights, soft_targets
from mffcnn.train.averaging import WeightAverage
from mffcnn.train.distributed import SINGLE, Dist, all_reduce_sum, barrier
from mffcnn.train.recipes import Recipe

Inputs = Faces | torch.Tensor  # uint8 faces normalised per batch, or network input already normalised


def inputs(x: Inputs, index) -> torch.Tensor:
    """(B, 1, S, S) float32 network input of the faces at `index`."""
    return x.batch(index) if isinstance(x, Faces) else x[index]


def amp_dtype(device: torch.device) -> torch.dtype:
    """The mixed-precision type of --amp: bfloat16 where the device has it (every CPU, recent GPUs), else
    float16, which fit() pairs with a GradScaler."""
    if device.type == "cuda" and not torch.cuda.is_bf16_supported():
        return torch.float16
    return torch.bfloat16


def keep_freed_memory() -> None:
    """Let glibc's malloc keep freed blocks for reuse instead of returning them to the system.

    A training step allocates and frees the same ~10 MB activation buffers many times a second. glibc serves
    blocks that large with fresh mmap calls and unmaps them when freed, so every step pays the kernel's page
    faults again; with the pool kept (mmap threshold 32 MiB, no trimming) it does not (bench/ferplus_speed.py
    times whole epochs before and after). A process-wide setting; without glibc (macOS, musl) it does nothing."""
    global _memory_kept
    if _memory_kept:
        return
    _memory_kept = True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 32 * 2**20)  # M_MMAP_THRESHOLD: glibc's largest; bigger blocks still use mmap
        libc.mallopt(-1, 2**31 - 1)  # M_TRIM_THRESHOLD: never give freed heap back mid-run
    except (OSError, AttributeError):
        pass


_memory_kept = False


class TrainingDiverged(MffcnnError):
    """The loss became NaN or infinite."""


def seed_everything(seed: int) -> None:
    """Seed every generator the run uses. On CPU that makes a run repeatable bit for bit. On a GPU,
    cuDNN is asked for deterministic convolutions, but max-pool and grid-sample backward still add
    with atomics, so results can differ in the last digits from run to run (docs/training.md)."""
    import random

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise MffcnnError("--device cuda: no CUDA GPU is available here (use --device cpu or auto)")
    if name not in ("cpu", "cuda"):
        raise MffcnnError(f"unknown device {name!r}; choose auto, cpu or cuda")
    return torch.device(name)


def _generator(seed: int, epoch: int, stream: int) -> torch.Generator:
    return torch.Generator().manual_seed(((seed * 1_000_003 + epoch) * 7 + stream) % 2**63)


def epoch_batches(
    n: int, batch_size: int, seed: int, epoch: int, weights: torch.Tensor | None = None
) -> list[torch.Tensor]:
    """The epoch's global batches (indices into the training set), the same on every rank.

    weights (n,): draw the epoch's n samples with replacement in proportion to them (class-balanced
    sampling) instead of taking every sample once."""
    generator = _generator(seed, epoch, 0)
    if weights is None:
        order = torch.randperm(n, generator=generator)
    else:
        order = torch.multinomial(weights.double(), n, replacement=True, generator=generator)
    return list(order.split(batch_size))


def class_weights(y: torch.Tensor, num_classes: int, power: float) -> torch.Tensor | None:
    """(C,) weights ∝ (class frequency)^-power, scaled so that the training set's mean weight is 1;
    None for power 0. y: (n,) labels or (n, C) soft targets (a class's frequency is its share of them)."""
    if power == 0:
        return None
    counts = y.float().sum(0) if y.ndim == 2 else torch.bincount(y, minlength=num_classes).float()
    w = counts.clamp(min=1) ** -power
    return w * counts.sum() / (counts * w).sum()


def source_weights(sizes: list[int], power: float) -> torch.Tensor | None:
    """(n,) per-face sampling weights (fit's sample_weights) for datasets of these sizes, concatenated in order:
    each face ∝ size^-power, so a dataset's share of an epoch ∝ size^(1-power) (1: every dataset alike); scaled so
    that the mean weight is 1. None for power 0: every face once."""
    if not power:
        return None
    w = torch.cat([torch.full((n,), float(n) ** -power, dtype=torch.float64) for n in sizes])
    return w * len(w) / w.sum()


def source_class_weights(y: torch.Tensor, sizes: list[int], power: float) -> torch.Tensor | None:
    """(n,) per-face sampling weights that balance the classes inside each of several datasets, concatenated in
    order: within a dataset each face ∝ (its class's count in that dataset)^-power, scaled so that the dataset's
    weights still add up to its size (its share of an epoch is left to source_weights, which these multiply).
    y: (n,) labels or (n, C) soft targets (a face's class is its argmax). None for power 0.

    Unlike the recipe's sampling_power, which balances the union's classes, this keeps one source's class prior
    from standing for another's: in FER+ Train ∪ AffectNet train neutral is the largest class (FER+ is a third
    neutral), while in AffectNet alone it is the smallest."""
    if not power:
        return None
    hard = y if y.ndim == 1 else y.argmax(1)
    parts, start = [], 0
    for n in sizes:
        labels = hard[start : start + n]
        counts = torch.bincount(labels).double()
        w = counts[labels].clamp(min=1) ** -power
        parts.append(w * n / w.sum())
        start += n
    if start != len(hard):
        raise ValueError(f"the datasets' sizes add up to {start}, not to the {len(hard)} faces")
    return torch.cat(parts)


def jitter_draws(n: int, seed: int, epoch: int) -> torch.Tensor:
    """(n, 5) uniform numbers per training sample and epoch: flip, angle, zoom, dx, dy."""
    return torch.rand(n, 5, generator=_generator(seed, epoch, 1))


def turn_draws(n: int, seed: int, epoch: int) -> torch.Tensor:
    """(n,) uniform numbers per training sample and epoch: the head-turn warp's strength and side. A stream of
    their own, so recipes without the warp draw exactly what they drew before."""
    return torch.rand(n, generator=_generator(seed, epoch, 3))


# How much shorter the side a face turns towards gets, per unit of the warp: at a turn of k = 0.25 its edge is
# 1/(1 + 0.125) of the middle's height, the other edge 1/(1 - 0.125). A turned head's far side is farther from
# the camera, so it projects smaller; 0.5 is a rough figure for a face at arm's length, not a measurement.
TURN_FORESHORTENING = 0.5


def jitter(x: torch.Tensor, draws: torch.Tensor, recipe: Recipe, turns: torch.Tensor | None = None) -> torch.Tensor:
    """The recipe's on-the-fly jitter: a random flip, a similarity transform and (recipe.yaw) a head-turn warp
    per face of a (B, 1, H, W) batch, new every epoch; draws (B, 5) in [0, 1), turns (B,) in [0, 1) from
    turn_draws (needed only for the warp). (Not the paper's JAFFE augmentation, mffcnn.data.augment, which makes
    8 fixed copies of each photo before the folds.)

    The head-turn warp is a 2-D stand-in for a turn of the head about its vertical axis: with k drawn from
    [-yaw, yaw], the output column at x (−1 … 1 across the crop) samples the input at x + k(1 − x²) and the
    row at y samples y(1 − TURN_FORESHORTENING·k·x), so the face's middle moves sideways by about k half-widths
    while the crop's edges stay, and the side it moves towards (the far side of a turned head) is squeezed and
    made shorter, the other stretched and made taller. It cannot show what a real turn hides (the far cheek
    behind the nose); it only teaches the network that an off-centre, unevenly wide face is still the same
    expression."""
    b, _, h, w = x.shape
    if recipe.flip:
        x = torch.where((draws[:, 0] < 0.5)[:, None, None, None], x.flip(3), x)
    if recipe.rotate or recipe.scale or recipe.shift or recipe.yaw:
        u = draws[:, 1:] * 2 - 1  # (B, 4) in [-1, 1]
        angle = u[:, 0] * math.radians(recipe.rotate)
        zoom = 1 + u[:, 1] * recipe.scale
        cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
        theta = torch.stack(
            [  # (B, 2, 3): output → input sampling grid, in [-1, 1] coordinates
                torch.stack([cos, -sin, u[:, 2] * 2 * recipe.shift / w], 1),
                torch.stack([sin, cos, u[:, 3] * 2 * recipe.shift / h], 1),
            ],
            1,
        ).to(x.dtype)
        if recipe.yaw:
            if turns is None:
                raise MffcnnError("the head-turn warp (recipe.yaw) needs its draws (turn_draws)")
            k = ((turns * 2 - 1) * recipe.yaw).to(x.dtype)[:, None, None]  # (B, 1, 1)
            out = F.affine_grid(torch.eye(2, 3, dtype=x.dtype)[None], [1, 1, h, w], align_corners=False)
            ox, oy = out[..., 0], out[..., 1]  # (1, H, W): the output pixels' x and y, the same for every face
            warped = torch.stack([ox + k * (1 - ox**2), oy * (1 - TURN_FORESHORTENING * k * ox)], -1)
            grid = warped @ theta[:, None, :, :2].transpose(-1, -2) + theta[:, None, None, :, 2]
        else:
            grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return x


LOWRES_LEVELS = 4  # sizes of the low-resolution round trip: a few, so a batch takes a few resizes, not one a face


def photometric_draws(n: int, seed: int, epoch: int) -> torch.Tensor:
    """(n, 5) uniform numbers per training sample and epoch: gamma, blur, noise strength, low-res side, noise
    seed. A stream of their own, so recipes without photometric jitter draw exactly what they drew before."""
    return torch.rand(n, 5, generator=_generator(seed, epoch, 2))


def photometric(pixels: torch.Tensor, draws: torch.Tensor, recipe: Recipe) -> torch.Tensor:
    """The recipe's photometric jitter of a (B, 1, H, W) batch of grey levels 0–255 (before normalisation);
    draws (B, 5) in [0, 1) from photometric_draws. Each face gets its own strength of each change."""
    b, _, h, w = pixels.shape
    x = pixels
    if recipe.gamma:
        exponent = torch.exp((draws[:, 0] * 2 - 1) * math.log1p(recipe.gamma))[:, None, None, None]
        x = 255.0 * (x / 255.0).clamp(min=0) ** exponent
    if recipe.lowres < 1:  # down to one of 4 sides from H to lowres·H, back up bilinearly: a small source enlarged
        level = (draws[:, 3] * LOWRES_LEVELS).long().clamp(max=LOWRES_LEVELS - 1)
        out = x.clone()
        for lv in level.unique().tolist():
            s = max(4, round(h * (1 - (1 - recipe.lowres) * lv / (LOWRES_LEVELS - 1))))
            if s >= h:
                continue
            pick = level == lv
            small = F.interpolate(x[pick], size=(s, s * w // h), mode="area")
            out[pick] = F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)
        x = out
    if recipe.blur:  # a separable Gaussian per face, σ in [0, blur] (σ → 0: the face unchanged)
        radius = max(1, math.ceil(2 * recipe.blur))
        t = torch.arange(-radius, radius + 1, dtype=x.dtype)
        sigma = (draws[:, 1] * recipe.blur).clamp(min=1e-3).to(x.dtype)[:, None]
        k = torch.exp(-0.5 * (t[None] / sigma) ** 2)
        k = k / k.sum(1, keepdim=True)  # (B, 2r+1)
        y = F.pad(x.reshape(1, b, h, w), (radius, radius, radius, radius), mode="replicate")
        y = F.conv2d(y, k[:, None, None, :], groups=b)
        x = F.conv2d(y, k[:, None, :, None], groups=b).reshape(b, 1, h, w)
    if recipe.noise:
        # Each face's noise comes from its own draw, so a face gets the same noise whichever rank takes it.
        seeds = (draws[:, 4].double() * 2**53).long().tolist()
        noise = torch.stack([torch.randn((1, h, w), generator=torch.Generator().manual_seed(s)) for s in seeds])
        x = x + (draws[:, 2] * recipe.noise)[:, None, None, None] * noise.to(x.dtype)
    return x.clamp(0, 255)


def training_inputs(x: Inputs, index: torch.Tensor, pdraws: torch.Tensor, recipe: Recipe) -> torch.Tensor:
    """(B, 1, S, S) network input of the training faces at `index`, with the recipe's photometric jitter."""
    if not recipe.photometric:
        return inputs(x, index)
    if not isinstance(x, Faces):
        raise MffcnnError("photometric jitter needs the faces' grey levels (Faces), not normalised input")
    return normalise_pixels(photometric(x.pixels[index].float().unsqueeze(1), pdraws, recipe), x.normalisation)


class _LossOf(nn.Module):
    """The model and its loss as one module, so DDP sees the whole training step in forward()."""

    def __init__(self, model: MFFCNN, *, class_weights: torch.Tensor | None = None, label_smoothing: float = 0.0):
        super().__init__()
        self.model = model
        self.class_weights = class_weights
        self.label_smoothing = label_smoothing

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.model.loss(
            self.model.forward_all(x), y, class_weights=self.class_weights, label_smoothing=self.label_smoothing
        )

    def share(self, y: torch.Tensor) -> float:
        """How much these faces weigh in a batch's mean loss: their number, or the sum of their weights."""
        if self.class_weights is None:
            return float(len(y))
        t = soft_targets(y, self.model.cfg.num_classes, self.label_smoothing)
        return float(face_weights(t, self.class_weights).sum())


@dataclass(frozen=True)
class Training:
    """What `fit` needs besides the data: the model to build, the recipe, how long, the seed, and where to run."""

    model_config: MFFCNNConfig
    recipe: Recipe
    epochs: int
    seed: int = 0
    device: torch.device | str = "cpu"
    amp: bool = False
    dist: Dist = SINGLE

    def replace(self, **changes) -> Training:
        return replace(self, **changes)


def train_one_epoch(
    step: nn.Module,
    optimizer: torch.optim.Optimizer,
    x: Inputs,
    y: torch.Tensor,
    training: Training,
    *,
    epoch: int,
    sample_weights: torch.Tensor | None = None,
    scaler: torch.amp.GradScaler | None = None,
    average: WeightAverage | None = None,
) -> float:
    """One pass over (x, y) in the epoch's global batches, this rank taking its share; the mean loss.

    y: (n,) labels or (n, C) soft targets. sample_weights: class-balanced sampling (epoch_batches). average: a
    weight average that follows every step."""
    recipe, seed, dist, amp = training.recipe, training.seed, training.dist, training.amp
    step.train()
    draws = jitter_draws(len(y), seed, epoch)
    pdraws = photometric_draws(len(y), seed, epoch) if recipe.photometric else None
    turns = turn_draws(len(y), seed, epoch) if recipe.yaw else None
    device = next(step.parameters()).device
    loss_of = step.module if isinstance(step, nn.parallel.DistributedDataParallel) else step

    def autocast():
        return torch.autocast(device.type, dtype=amp_dtype(device)) if amp else nullcontext()

    total = torch.zeros(2, dtype=torch.float64)  # (sum of losses, samples) over all ranks
    for b, batch in enumerate(epoch_batches(len(y), recipe.batch_size, seed, epoch, sample_weights)):
        mine = batch[dist.rank :: dist.world]  # this rank's share of the global batch
        xb = training_inputs(x, mine, pdraws[mine] if pdraws is not None else None, recipe)
        xb = jitter(xb, draws[mine], recipe, turns[mine] if turns is not None else None)
        xb = xb.to(device, memory_format=torch.channels_last)
        yb = y[mine].to(device, non_blocking=True)
        with autocast():
            loss = step(xb, yb)
        # Scale so that DDP's gradient average equals the gradient of the global batch's mean loss, even when
        # the ranks' shares differ in size (or in weight, with class-weighted losses).
        scaled = loss * (loss_of.share(y[mine]) * dist.world / loss_of.share(y[batch]))
        (scaler.scale(scaled) if scaler else scaled).backward()
        batch_total = all_reduce_sum(torch.tensor([loss.item() * len(mine), len(mine)], dtype=torch.float64), dist)
        if not math.isfinite(batch_total[0].item()):
            optimizer.zero_grad(set_to_none=True)
            raise TrainingDiverged(f"the loss became {batch_total[0].item()} at epoch {epoch + 1}, batch {b + 1}")
        if scaler:  # float16: steps with an inf/NaN gradient are skipped and the scale lowered
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if average is not None:
            average.update(loss_of.model)
        total += batch_total
    return (total[0] / total[1].clamp(min=1)).item()


@torch.no_grad()
def predict_proba(model: MFFCNN, x: Inputs, batch_size: int = 500) -> np.ndarray:
    """Faces (or (n, 1, 60, 60) normalised input) → (n, C) probabilities, in eval mode, on the model's device."""
    model.eval()
    device = next(model.parameters()).device
    out = [
        model(inputs(x, slice(i, i + batch_size)).to(device, memory_format=torch.channels_last)).float().cpu()
        for i in range(0, len(x), batch_size)
    ]
    return torch.cat(out).numpy() if out else np.zeros((0, model.cfg.num_classes), np.float32)


def save_state(
    path: Path, model: MFFCNN, optimizer: torch.optim.Optimizer, epoch: int, average: WeightAverage | None = None
) -> None:
    """The training state after `epoch` (0-based), written atomically: a crash never leaves half a file."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch": epoch,
        "torch_rng": torch.get_rng_state(),
    }
    if average is not None:
        state["average"] = average.state_dict()
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_state(
    path: Path, model: MFFCNN, optimizer: torch.optim.Optimizer, average: WeightAverage | None = None
) -> int:
    """Restore a training state (weights_only: nothing is unpickled); returns the next epoch to run."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["torch_rng"])
        if average is not None:
            if "average" not in state:
                raise ValueError("it was saved by a run without a weight average (recipe average_epochs)")
            average.load_state_dict(state["average"])
        return int(state["epoch"]) + 1
    except Exception as e:  # a damaged state file must say so, not crash with a traceback
        raise MffcnnError(f"cannot resume from {path}: {str(e).splitlines()[0]}; delete it to start over") from None


def fit(
    x: Inputs,
    y: torch.Tensor,
    training: Training,
    *,
    state_path: str | Path | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
    init: MFFCNN | Callable[[], MFFCNN] | None = None,
    sample_weights: torch.Tensor | None = None,
) -> MFFCNN:
    """Train a fresh MFF-CNN on (x, y) as `training` says (or go on training `init`, or the model it makes:
    fine-tuning, §4.6); same seed, same model. x: Faces (uint8, normalised per batch) or normalised input;
    y: (n,) labels or (n, C) soft targets.

    With state_path, the training state is saved after every epoch and a run that finds one
    continues from it. Under torchrun (dist.active) the model is wrapped in DDP.

    sample_weights (n,): each face is drawn in proportion to it (with replacement, n draws an epoch), e.g. to
    give every source of a union the same share; multiplied with the recipe's class-balanced sampling.

    With recipe.average_epochs, the model returned (and the one on_epoch sees) holds the weight average
    (mffcnn.train.averaging); the state file keeps both the last weights and the average, to resume."""
    recipe, epochs, dist = training.recipe, training.epochs, training.dist
    keep_freed_memory()
    seed_everything(training.seed)
    device = torch.device(training.device)
    if init is not None and not isinstance(init, MFFCNN):
        init = init()  # made after seeding: the weights it does not load are the same for the same seed
    model = init if init is not None else MFFCNN(training.model_config)  # callers apply the recipe
    # channels_last: the layout oneDNN's CPU convolutions are fastest in (bench/ferplus_speed.py times both).
    model = model.to(device, memory_format=torch.channels_last)
    # fused: one kernel for all of Adam's per-parameter arithmetic, instead of a dozen per parameter.
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay, fused=True)
    steps_per_epoch = math.ceil(len(y) / recipe.batch_size)  # global batches; sampled epochs draw len(y) too
    average = WeightAverage(model, steps_per_epoch, recipe.average_epochs) if recipe.average_epochs else None
    start = 0
    state_path = Path(state_path) if state_path else None
    if state_path and state_path.exists():
        start = load_state(state_path, model, optimizer, average)
    num_classes = model.cfg.num_classes
    hard = y if y.ndim == 1 else y.argmax(1)
    if recipe.sampling_power:  # class-balanced sampling: each face drawn ∝ its class's frequency^-power
        by_class = class_weights(y, num_classes, recipe.sampling_power)[hard]
        sample_weights = by_class if sample_weights is None else sample_weights * by_class
    step: nn.Module = _LossOf(
        model,
        class_weights=class_weights(y, num_classes, recipe.class_weight_power),
        label_smoothing=recipe.label_smoothing,
    )
    # float16 gradients underflow without loss scaling; bfloat16 (CPUs, and GPUs that have it) needs none.
    scaler = torch.amp.GradScaler(device.type) if training.amp and amp_dtype(device) == torch.float16 else None
    if dist.active:
        step = nn.parallel.DistributedDataParallel(step, device_ids=[device.index] if device.type == "cuda" else None)
    for epoch in range(start, epochs):
        for group in optimizer.param_groups:
            group["lr"] = recipe.lr_at(epoch, epochs)
        try:
            loss = train_one_epoch(
                step,
                optimizer,
                x,
                y,
                training,
                epoch=epoch,
                sample_weights=sample_weights,
                scaler=scaler,
                average=average,
            )
        except TrainingDiverged as e:
            kept = f"; the last good state (epoch {epoch}) is kept in {state_path}" if state_path and epoch else ""
            raise TrainingDiverged(f"{e}{kept}. Try a lower --lr") from None
        if state_path and dist.is_main:
            save_state(state_path, model, optimizer, epoch, average)
        barrier(dist)  # nobody reads a state file before rank 0 has written it
        if on_epoch:
            with average.applied(model) if average is not None else nullcontext():
                on_epoch(epoch, loss)
    if average is not None:
        average.copy_to(model)
    return model
