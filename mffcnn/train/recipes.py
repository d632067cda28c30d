"""Training recipes. `paper` is §4.2 exactly; anything else must beat it in bench/ckplus_cv.py.

Paper §4.2: random init, Adam, initial lr 0.01, batch 100, lr = lr0 · 0.93^⌊epoch/3⌋ (eq. 6),
25 epochs on CK+, 40 on JAFFE and Oulu-CASIA, 30 pretraining + 200 on SFEW (§4.6).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace


@dataclass(frozen=True)
class Recipe:
    name: str
    lr: float = 0.01
    batch_size: int = 100
    epochs: int | None = None  # None: the paper's count for the dataset (PAPER_EPOCHS)
    lr_decay: float = 0.93
    decay_every: int = 3
    weight_decay: float = 0.0
    # Augmentation of training faces on the fly (not in the paper for CK+): random horizontal
    # flip, and per face a random rotation (± degrees), scale (1 ± scale) and shift (± pixels).
    flip: bool = False
    rotate: float = 0.0
    scale: float = 0.0
    shift: float = 0.0
    dropout: float = 0.0
    batch_norm: bool = False

    def lr_at(self, epoch: int) -> float:
        """Eq. 6: η = η0 · 0.93^⌊i/3⌋, epochs counted from 0."""
        return self.lr * self.lr_decay ** (epoch // self.decay_every)

    def model_config(self, cfg):
        """The model this recipe trains: the config with the recipe's dropout and batch norm."""
        return cfg.replace(dropout=self.dropout, batch_norm=self.batch_norm)

    def with_(self, **changes) -> "Recipe":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict:
        return asdict(self)


RECIPES: dict[str, Recipe] = {
    "paper": Recipe("paper"),
}
DEFAULT_RECIPE = "paper"

# §4.2 and §4.6; other datasets use the CK+ count.
PAPER_EPOCHS = {"ckplus": 25, "ckplus48": 25, "jaffe": 40, "oulu": 40, "sfew": 200}
DEFAULT_EPOCHS = 25


def get_recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; choose from {', '.join(RECIPES)}")
    return RECIPES[name]


def epochs_for(recipe: Recipe, dataset: str) -> int:
    if recipe.epochs is not None:
        return recipe.epochs
    return PAPER_EPOCHS.get(dataset.split(":")[0], DEFAULT_EPOCHS)
