"""10-fold cross-validation (paper §4.1), in the paper's protocol and the honest one.

* `random`: stratified random folds, as the paper ("randomly divided into ten subsets").
  Frames of one sequence, and augmented copies of one photo, land on both sides of a split.
* `subject`: subject-independent folds (scikit-learn's StratifiedGroupKFold on subject ids):
  no person is in both training and test.

Each finished fold is written to `folds/fold_XX.json` at once, and the fold in progress keeps its
training state after every epoch (`fold_XX.state.pt`); a run that is started again skips the
folds it has and continues the one it was in, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from mffcnn.data.faceset import FaceSet
from mffcnn.errors import MffcnnError, warn
from mffcnn.model import MFFCNN
from mffcnn.progress import progress
from mffcnn.runs import read_json, write_json
from mffcnn.train.distributed import SINGLE, barrier, gather_objects
from mffcnn.train.loop import Inputs, Training, fit, predict_proba

PROTOCOLS = ("random", "subject")


def check_folds(faceset: FaceSet, protocols, n_folds: int) -> None:
    """Refuse a number of folds the dataset cannot give, before any fold trains (a run of both protocols would
    otherwise fail on the subject folds after training every random one). Stratified folds need a class with
    at least n_folds images (scikit-learn's own condition); subject folds need n_folds people."""
    counts = np.bincount(faceset.labels, minlength=len(faceset.class_names))
    largest = int(counts.max()) if len(counts) else 0
    if n_folds > largest:
        name = faceset.class_names[int(counts.argmax())] if len(counts) else "-"
        raise MffcnnError(
            f"--folds {n_folds}: {faceset.name}'s largest class ({name}) has {largest} images, so it cannot be "
            f"split into {n_folds} stratified folds; use --folds {max(2, largest)} or fewer"
        )
    subjects = len(np.unique(faceset.subjects))
    if "subject" in protocols and subjects < n_folds:
        raise MffcnnError(
            f"--folds {n_folds}: {faceset.name} has {subjects} subjects, fewer than the folds; use --folds {subjects}"
        )


def make_folds(faceset: FaceSet, protocol: str, n_folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train indices, test indices) per fold."""
    y = faceset.labels
    smallest = int(np.bincount(y).min())
    if smallest < n_folds:
        warn(f"the smallest class has {smallest} images, fewer than {n_folds} folds: some test folds lack it")
    if protocol == "random":
        splitter = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
        return [(tr, te) for tr, te in splitter.split(np.zeros(len(y)), y)]
    if protocol == "subject":
        subjects = np.unique(faceset.subjects)
        if len(subjects) < n_folds:
            raise MffcnnError(
                f"{faceset.name}: {len(subjects)} subjects, fewer than {n_folds} folds; use --folds {len(subjects)}"
            )
        splitter = StratifiedGroupKFold(n_folds, shuffle=True, random_state=seed)
        folds = [(tr, te) for tr, te in splitter.split(np.zeros(len(y)), y, groups=faceset.subjects)]
        for tr, te in folds:  # the protocol's promise, checked rather than assumed
            assert not set(faceset.subjects[tr]) & set(faceset.subjects[te])
        return folds
    raise MffcnnError(f"unknown protocol {protocol!r}; choose from {', '.join(PROTOCOLS)}")


def dataset_fingerprint(faceset: FaceSet) -> str:
    """Identifies the exact samples and order, so a resumed run cannot mix two datasets."""
    h = hashlib.sha256()
    h.update(faceset.labels.tobytes())
    h.update("\n".join(faceset.paths).encode())
    h.update(faceset.images.tobytes())
    return h.hexdigest()[:16]


@dataclass
class FoldResult:
    fold: int
    accuracy: float
    n_train: int
    n_test: int
    seconds: float
    test_index: list[int]
    y_pred: list[int]

    def to_dict(self) -> dict:
        return self.__dict__.copy()


def run_fold(
    faceset: FaceSet,
    x: Inputs,
    fold: int,
    train_idx: np.ndarray,
    test_idx: np.ndarray,
    training: Training,
    *,
    state_path: Path | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
    init: Callable[[], MFFCNN] | None = None,
) -> FoldResult:
    """Train on one fold's training part (from the model `init()` makes, if given: fine-tuning) and test on the
    rest. Fold k trains with seed training.seed·1000 + k, the same in every model of an ablation."""
    start = time.perf_counter()
    dist = training.dist
    y = torch.from_numpy(faceset.training_targets())  # soft targets where the dataset has them (FER+ votes)
    model = fit(
        x[train_idx],
        y[train_idx],
        training.replace(seed=training.seed * 1000 + fold),
        state_path=state_path,
        on_epoch=on_epoch,
        init=init,
    )
    # Each rank predicts its share of the test set; the shares are gathered back in order.
    share = np.arange(len(test_idx))[dist.rank :: dist.world]
    pred_share = predict_proba(model, x[test_idx[share]]).argmax(1)
    pred = np.empty(len(test_idx), dtype=np.int64)
    for idx, p in gather_objects((share, pred_share), dist):
        pred[idx] = p
    acc = float((pred == faceset.labels[test_idx]).mean())
    return FoldResult(
        fold, acc, len(train_idx), len(test_idx), time.perf_counter() - start, test_idx.tolist(), pred.tolist()
    )


def run_cv(
    faceset: FaceSet,
    out_dir: Path,
    training: Training,
    *,
    protocol: str,
    n_folds: int = 10,
    verbose: bool = True,
    spread: str = "batches",
    init: Callable[[], MFFCNN] | None = None,
) -> list[FoldResult]:
    """Run (or finish) all folds of one protocol; fold files in out_dir/folds. Returns every fold's result.

    Under torchrun, spread="batches" trains each fold with DDP (every rank on every fold);
    spread="folds" gives each rank whole folds, one round of `world` folds at a time."""
    dist, epochs = training.dist, training.epochs
    folds_dir = out_dir / "folds"
    if dist.is_main:
        folds_dir.mkdir(parents=True, exist_ok=True)
    barrier(dist)
    folds = make_folds(faceset, protocol, n_folds, training.seed)
    x = faceset.preprocessing.faces(faceset.images)
    results: list[FoldResult] = []
    todo = []
    for k, (tr, te) in enumerate(folds, start=1):
        path = folds_dir / f"fold_{k:02d}.json"
        if path.exists():
            done = FoldResult(**read_json(path))
            if done.test_index != te.tolist():
                raise MffcnnError(f"{path} was made with other folds (dataset or seed changed); start a new run")
            results.append(done)
        else:
            todo.append((k, tr, te, path))
    verbose = verbose and dist.is_main
    if results and verbose:
        print(f"{protocol}: resuming, {len(results)} of {n_folds} folds already done", file=sys.stderr)
    by_folds = spread == "folds" and dist.active
    bar = progress(len(todo) * epochs, desc=f"{faceset.name} {protocol}", unit="epoch", disable=not verbose)

    def on_epoch(epoch: int, loss: float) -> None:
        bar.update(dist.world if by_folds else 1)
        bar.set_postfix(loss=f"{loss:.3f}")

    try:
        if by_folds:
            for first in range(0, len(todo), dist.world):
                round_ = todo[first : first + dist.world]
                mine = round_[dist.rank] if dist.rank < len(round_) else None
                alone = training.replace(dist=SINGLE)  # each process trains its fold by itself
                result = run_fold(faceset, x, *mine[:3], alone, on_epoch=on_epoch, init=init) if mine else None
                for r in gather_objects(result, dist):
                    if r is not None:
                        results.append(r)
                        if dist.is_main:
                            write_json(folds_dir / f"fold_{r.fold:02d}.json", r.to_dict())
        else:
            for k, tr, te, path in todo:
                bar.set_description(f"{faceset.name} {protocol} fold {k}/{n_folds}")
                state = folds_dir / f"fold_{k:02d}.state.pt"  # mid-fold resume
                result = run_fold(faceset, x, k, tr, te, training, state_path=state, on_epoch=on_epoch, init=init)
                if dist.is_main:
                    write_json(path, result.to_dict())
                    state.unlink(missing_ok=True)
                results.append(result)
                bar.set_postfix(last_acc=f"{result.accuracy:.3f}")
    finally:
        bar.close()
    return sorted(results, key=lambda r: r.fold)
