"""Figures: the row-normalised confusion matrix drawn like the paper's Figs. 4–7."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import ConfusionMatrixDisplay  # noqa: E402

from mffcnn.report.metrics import row_normalised  # noqa: E402


def plot_confusion(counts: np.ndarray, class_names: list[str], *, title: str, path: str | Path) -> Path:
    """Save the confusion matrix, in % of each true class (rows), as a PNG."""
    percent = 100 * row_normalised(counts)
    n = len(class_names)
    fig, ax = plt.subplots(figsize=(1.0 * n + 2.2, 1.0 * n + 1.6))
    disp = ConfusionMatrixDisplay(percent, display_labels=[c.capitalize() for c in class_names])
    disp.plot(ax=ax, cmap="Blues", values_format=".1f", colorbar=False, xticks_rotation=45)
    disp.im_.set_clim(0, 100)
    ax.set_xlabel("prediction")
    ax.set_ylabel("ground truth")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
