"""Training recipes. `paper` is §4.2 exactly; the others change it where measurement said so.

Paper §4.2: random init, Adam, initial lr 0.01, batch 100, lr = lr0 · 0.93^⌊epoch/3⌋ (eq. 6),
25 epochs on CK+, 40 on JAFFE and Oulu-CASIA, 30 pretraining + 200 on SFEW (§4.6): mffcnn.paper.

`augmented`, the default, changes three things, each measured against `paper` on the same folds
(bench/ckplus_cv.py, bench/jaffe_cv.py, bench/recipe_sweep.py; the numbers are in BENCHMARKS.md):
* a 3× lower initial learning rate, 0.003, with the paper's decay. At 0.01 Adam moves every weight of
  the wide fully connected layers by about 0.01 per step, and this thin network (8–32 channels, no
  normalisation layers) can lose every activation of a branch, or of the whole network, to dead ReLUs
  in its first steps and never recover: with the paper's recipe some folds end at chance.
* a linear warm-up of the learning rate over the first 2 epochs (1/3, 2/3, then the full rate), for
  the same reason.
* on-the-fly jitter of the training faces: horizontal flip, rotation ±10°, zoom ±10 % and shift ±4 px,
  new every epoch (mffcnn.train.loop.jitter) — the variation of pose and framing between one person's
  photo and another's. (The paper's own augmentation is different: 8 fixed copies of each JAFFE photo
  made before the folds, mffcnn.data.augment.)
It is the recipe for faces of people the model has not seen (subject-independent folds) and the one
that does not collapse; on the paper's random CK+ folds, where the test frames' near-twins are in
training, the paper's recipe scores higher when it does not collapse.

`finetune` starts from pretrained weights (--init) at a lower rate still.

Large, imbalanced, noisily labelled data (FER+: 28,558 faces, 10 annotators each) has no recipe of its
own: of the variants bench/ferplus_sweep.py has measured on FER+ Valid, `augmented` trained on the
annotators' vote distributions (FER+ `labels=votes`, a dataset option, not a recipe) scored highest; the
other variants stay available as recipe fields (schedule, class_weight_power, sampling_power,
label_smoothing).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

from mffcnn import paper
from mffcnn.errors import MffcnnError

SCHEDULES = ("step", "cosine")


@dataclass(frozen=True)
class Recipe:
    name: str
    lr: float = paper.LR
    batch_size: int = paper.BATCH_SIZE
    epochs: int | None = None  # None: the paper's count for the dataset (mffcnn.paper.EPOCHS)
    lr_decay: float = paper.LR_DECAY
    decay_every: int = paper.DECAY_EVERY
    weight_decay: float = 0.0
    warmup_epochs: int = 0  # the lr ramps up linearly over these first epochs (not in the paper)
    # On-the-fly jitter of the training faces (not in the paper): a random horizontal flip, and per face
    # a random rotation (± degrees), scale (1 ± scale) and shift (± pixels), new every epoch.
    flip: bool = False
    rotate: float = 0.0
    scale: float = 0.0
    shift: float = 0.0
    # A head-turn warp (mffcnn.train.loop.jitter): the face's middle moved sideways by up to `yaw` half-widths
    # of the crop, one side squeezed and shortened, as a head turned about its vertical axis looks; 0: none.
    # Below 0.5, so that the warp never folds the image over.
    yaw: float = 0.0
    dropout: float = 0.0
    # For large, imbalanced, noisily labelled data (FER+; not in the paper, whose datasets are small
    # and posed): the schedule "step" is eq. 6, "cosine" decays the rate along a half cosine to 0 at the
    # last epoch; classes weighted in the loss, or sampled, in proportion to frequency^-power (0: as
    # they come, 1: every class counts alike); label smoothing of hard labels.
    schedule: str = "step"
    class_weight_power: float = 0.0
    sampling_power: float = 0.0
    label_smoothing: float = 0.0
    # Photometric jitter of the training faces' pixels, before normalisation (not in the paper; for training
    # on many sources at once: FER+ is grey 48×48 web crops, AffectNet grey 96×96 JPEGs, the labs studio
    # photos). Per face and epoch, a random strength in [0, 1] of each: gamma (the exponent drawn from
    # [1/(1+gamma), 1+gamma]), Gaussian blur (σ up to `blur` pixels), Gaussian noise (σ up to `noise` grey
    # levels) and a round trip through a smaller image (down to `lowres` × the side, as a 48×48 source
    # enlarged). Brightness and contrast are left out on purpose: the per-face standardisation
    # (mffcnn.data.preprocess) removes any linear change of the grey levels, so jitter of them would be a no-op.
    gamma: float = 0.0
    blur: float = 0.0
    noise: float = 0.0
    lowres: float = 1.0
    # Weight averaging (mffcnn.train.averaging, not in the paper): the run returns an exponential moving average
    # of its weights over the optimiser's steps, with a time constant of this many epochs; 0: the last weights.
    average_epochs: float = 0.0

    @property
    def photometric(self) -> bool:
        return bool(self.gamma or self.blur or self.noise or self.lowres < 1)

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}")
        if not 0 <= self.yaw < 0.5:
            raise ValueError("yaw must be in [0, 0.5): the head-turn warp's largest shift, in half-widths")
        if not 0 < self.lowres <= 1:
            raise ValueError("lowres must be in (0, 1]: the smallest side of the round trip, as a fraction")
        if self.average_epochs < 0:
            raise ValueError("average_epochs must be 0 (no weight average) or a positive time constant in epochs")

    def lr_at(self, epoch: int, epochs: int | None = None) -> float:
        """Eq. 6: η = η0 · 0.93^⌊i/3⌋, epochs counted from 0 (times the warm-up ramp, if any); with the
        cosine schedule η0 · ½(1 + cos(π·i/epochs)) instead of the steps."""
        ramp = min(1.0, (epoch + 1) / (self.warmup_epochs + 1))
        if self.schedule == "cosine":
            if not epochs:
                raise ValueError("the cosine schedule needs the number of epochs")
            return ramp * self.lr * 0.5 * (1 + math.cos(math.pi * epoch / epochs))
        return ramp * self.lr * self.lr_decay ** (epoch // self.decay_every)

    def model_config(self, cfg):
        """The model this recipe trains: the config with the recipe's dropout."""
        return cfg.replace(dropout=self.dropout)

    def replace(self, **changes) -> Recipe:
        """A copy with the given fields changed (dataclasses.replace)."""
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)


RECIPES: dict[str, Recipe] = {
    "paper": Recipe("paper"),
    "augmented": Recipe("augmented", lr=0.003, warmup_epochs=2, flip=True, rotate=10.0, scale=0.1, shift=4.0),
    # For a model that starts from pretrained weights (--init): a 3× lower rate still, so the first steps on a
    # small dataset do not wash out what was learnt on a large one; the same jitter.
    "finetune": Recipe("finetune", lr=0.001, warmup_epochs=1, flip=True, rotate=10.0, scale=0.1, shift=4.0),
}
DEFAULT_RECIPE = "augmented"

DEFAULT_EPOCHS = paper.EPOCHS["ckplus"]  # datasets the paper did not train on: the CK+ count


def get_recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise MffcnnError(f"unknown recipe {name!r}; choose from {', '.join(RECIPES)}")
    return RECIPES[name]


def epochs_for(recipe: Recipe, dataset: str) -> int:
    if recipe.epochs is not None:
        return recipe.epochs
    return paper.EPOCHS.get(dataset.split(":")[0], DEFAULT_EPOCHS)
