"""Pretrain → fine-tune: start a model from the weights of a checkpoint (`--init CHECKPOINT`).

The paper pretrains on the lab datasets before SFEW 2.0 (§4.6); the same step lets any experiment
start from a model that has seen far more faces (FER+'s 28,000) than its own dataset holds.

Every weight whose name and shape match is copied. The classifiers (the heads) are matched by class
name, row by row: a class the checkpoint knows keeps its row, a class it does not know starts from
fresh random weights, and a checkpoint class the new model lacks is dropped (a 7-class FER+ model
starting a 6-class CK+ model keeps six rows and drops neutral). So the heads are re-initialised
exactly where the classes differ, and only there. Weights of another shape (an ablation without the
mid-level FC, say) stay as initialised, and `WarmStart.line()` says what was and was not loaded.

A pretraining set must never hold the people being tested: `check_people` refuses a checkpoint
whose training data shares people with the dataset of a cross-validation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from mffcnn.checkpoint import Checkpoint, load_checkpoint
from mffcnn.errors import MffcnnError
from mffcnn.model import MFFCNN, MFFCNNConfig

HEADS = ("image_classifier", "patch_classifier", "classifier")  # their rows are classes

# Datasets that share people: CK+48 is cut from CK+, FER+ relabels FER2013's faces.
PEOPLE = {
    "ckplus": "CK+",
    "ckplus48": "CK+",
    "fer2013": "FER2013",
    "ferplus": "FER2013",
    "jaffe": "JAFFE",
    "oulu": "Oulu-CASIA",
    "sfew": "SFEW",
    "synthetic": "synthetic",
}


@dataclass
class WarmStart:
    checkpoint: str
    loaded: list[str] = field(default_factory=list)  # tensors copied whole
    fresh: list[str] = field(default_factory=list)  # tensors left as initialised (absent or of another shape)
    carried: list[str] = field(default_factory=list)  # classes whose head rows came from the checkpoint
    new: list[str] = field(default_factory=list)  # classes the checkpoint does not know: fresh rows
    dropped: list[str] = field(default_factory=list)  # checkpoint classes the model does not have

    def line(self) -> str:
        parts = [f"{len(self.loaded)} weight tensors loaded"]
        if self.fresh:
            parts.append(f"{len(self.fresh)} left fresh ({', '.join(self.fresh)})")
        if self.carried or self.new:
            head = f"classifier rows carried over by class name: {', '.join(self.carried) or 'none'}"
            head += f"; fresh rows for {', '.join(self.new)}" if self.new else ""
            head += f"; dropped {', '.join(self.dropped)}" if self.dropped else ""
            parts.append(head)
        return f"init from {self.checkpoint}: " + "; ".join(parts)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def warm_start(model: MFFCNN, ckpt: Checkpoint, class_names: list[str], *, source: str = "") -> WarmStart:
    """Copy into `model` (whose classes are class_names) every weight of ckpt that fits; see the module doc."""
    report = WarmStart(checkpoint=source)
    src = ckpt.model.state_dict()
    dst = model.state_dict()
    rows = {c: ckpt.class_names.index(c) for c in class_names if c in ckpt.class_names}
    head_seen = False
    with torch.no_grad():
        for name, tensor in dst.items():
            theirs = src.get(name)
            if name.split(".")[0] in HEADS and theirs is not None and theirs.shape[1:] == tensor.shape[1:]:
                head_seen = True
                for i, c in enumerate(class_names):
                    if c in rows:
                        tensor[i] = theirs[rows[c]]
                report.loaded.append(name)
            elif theirs is not None and theirs.shape == tensor.shape:
                tensor.copy_(theirs)
                report.loaded.append(name)
            else:
                report.fresh.append(name)
    model.load_state_dict(dst)
    if head_seen:
        report.carried = [c for c in class_names if c in rows]
        report.new = [c for c in class_names if c not in rows]
        report.dropped = [c for c in ckpt.class_names if c not in class_names]
    if not report.loaded:
        raise MffcnnError(f"{source}: no weight of this checkpoint fits the model (another architecture?)")
    return report


def trained_on(info: dict) -> set[str]:
    """The dataset names a checkpoint's training data came from, as its info records them."""
    names: set[str] = set()
    for part in info.get("trained_on") or []:  # bench/train_default_model.py
        names.add(str(part.get("dataset", "")))
    for part in info.get("datasets") or []:  # the SFEW protocol's pretrained stage
        names.add(str(part.get("dataset", "")))
    for key in ("dataset", "pretrained_on"):
        value = info.get(key)
        if isinstance(value, str):
            names.update(value.split("+"))
        elif isinstance(value, list):
            names.update(map(str, value))
    return {n.split(":")[0] for n in names if n}


def shared_people(ckpt: Checkpoint, dataset: str) -> list[str]:
    """The datasets the checkpoint was trained on that hold the people of `dataset` (CK+48 for CK+, …)."""
    group = PEOPLE.get(dataset.split(":")[0], dataset)
    return sorted(n for n in trained_on(ckpt.info) if PEOPLE.get(n, n) == group)


def check_people(ckpt: Checkpoint, dataset: str, *, source: str) -> None:
    """Refuse to test on people the checkpoint was trained on: a pretraining set must not hold them."""
    group = PEOPLE.get(dataset.split(":")[0], dataset)
    shared = shared_people(ckpt, dataset)
    if shared:
        raise MffcnnError(
            f"{source} was trained on {', '.join(shared)}, which holds the people of {dataset}: its test folds would "
            f"hold faces the model has already seen. Pretrain on data without {group}'s people"
        )


def initialiser(
    path: str | Path, model_config: MFFCNNConfig, class_names: list[str], *, tested_on: str | None = None
) -> tuple[Callable[[], MFFCNN], WarmStart]:
    """A function that makes a model of `model_config` started from the checkpoint at `path`, and the
    report of what it loads. tested_on: the dataset whose people the model will be tested on (refused
    when the checkpoint was trained on them)."""
    ckpt = load_checkpoint(path)
    if tested_on is not None:
        check_people(ckpt, tested_on, source=str(path))
    report = warm_start(MFFCNN(model_config), ckpt, class_names, source=str(path))  # fails now, not in fold 1

    def make() -> MFFCNN:
        model = MFFCNN(model_config)
        warm_start(model, ckpt, class_names, source=str(path))
        return model

    return make, report
