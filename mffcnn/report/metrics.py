"""Metrics from predictions (computing only; figures.py draws)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import confusion_matrix


def confusion_counts(y_true, y_pred, num_classes: int) -> np.ndarray:
    """(C, C) counts, rows = ground truth, columns = prediction (as in the paper's Fig. 4)."""
    return confusion_matrix(y_true, y_pred, labels=list(range(num_classes)))


def row_normalised(counts: np.ndarray) -> np.ndarray:
    rows = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, rows, out=np.zeros(counts.shape, float), where=rows > 0)


def per_class_accuracy(counts: np.ndarray) -> np.ndarray:
    """Recall of each class: the diagonal of the row-normalised confusion matrix."""
    return np.diag(row_normalised(counts))


def summarise_folds(accuracies: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1) of the fold accuracies."""
    a = np.asarray(accuracies, float)
    return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0
