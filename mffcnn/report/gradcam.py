"""Grad-CAM figures (Fig. 8): each face beside its four heat maps, and one face's 16 patch maps.

For display every heat map is scaled by its own maximum (Grad-CAM maps have no common unit) and laid over
the face (`style="overlay"`), or multiplied with it as the paper does (`style="multiply"`); the maps come
from mffcnn.gradcam.
"""

from __future__ import annotations

from math import isqrt
from pathlib import Path

import numpy as np
import torch

from mffcnn.gradcam import MAPS, GradCAMResult, place_on_input
from mffcnn.report.figures import plt

MAP_TITLES = {
    "mid": "mid-level\n(Image Branch, 2nd max-pool)",
    "high": "high-level\n(Image Branch, 3rd max-pool)",
    "patch_before": "patches before selection\n(Patch Branch, 2nd max-pool)",
    "patch_after": "after selection\n(kept vectors only)",
}
STYLES = ("overlay", "multiply")
ROWS_PER_FIGURE = 8


def normalise_heatmap(h: np.ndarray) -> np.ndarray:
    top = float(h.max())
    return h / top if top > 0 else np.zeros_like(h)


def render(face: np.ndarray, heat: np.ndarray, style: str = "overlay", alpha: float = 0.5) -> np.ndarray:
    """Face (H, W) uint8 and heat (H, W) in 0..1 → RGB float image: the heat map over the face
    (overlay), or the heat map's colours multiplied by the face (multiply, the paper's Fig. 8)."""
    from matplotlib import colormaps

    colour = colormaps["jet"](np.clip(heat, 0, 1))[..., :3]  # warm = high attention, as in Fig. 8
    grey = (face.astype(np.float64) / 255.0)[..., None]
    if style == "multiply":
        return colour * grey
    return (1 - alpha) * grey + alpha * colour


def _vector_weight_image(ax, r: GradCAMResult) -> None:
    from matplotlib import colormaps

    w = r.vector_weights
    limit = float(np.abs(w).max()) or 1.0
    cmap = colormaps["coolwarm"].with_extremes(bad="black")  # discarded vectors are masked: black
    ax.imshow(
        np.ma.masked_array(w, ~r.kept), cmap=cmap, vmin=-limit, vmax=limit, aspect="auto", interpolation="nearest"
    )
    discarded = ~r.kept
    top = float(np.abs(w[discarded]).max()) if discarded.any() else 0.0
    ax.set_xlabel(f"map k (1–{w.shape[1]})", fontsize=7)
    ax.set_ylabel(f"patch n (1–{w.shape[0]})", fontsize=7)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"α per vector; black: {int(discarded.sum())} discarded\nmax |α| discarded = {top:g}", fontsize=7)


def plot_gradcam(
    results: list[GradCAMResult], class_names: list[str], *, path: str | Path, style: str = "overlay"
) -> Path:
    """Fig. 8: for each face, the input, the four Grad-CAM maps on it, and each kept vector's weight."""
    cols = 2 + len(MAPS)
    fig, axes = plt.subplots(len(results), cols, figsize=(1.75 * cols, 2.05 * len(results) + 0.5), squeeze=False)
    for row, r in zip(axes, results):
        truth = f"true {class_names[r.label]} · " if r.label is not None else ""
        row[0].imshow(r.face, cmap="gray", vmin=0, vmax=255)
        row[0].set_title(
            f"{truth}pred {class_names[r.predicted]} ({100 * r.probabilities[r.predicted]:.0f} %)\n"
            f"target {class_names[r.target]}",
            fontsize=7,
        )
        for ax, m in zip(row[1:], MAPS):
            ax.imshow(render(r.face, normalise_heatmap(r.heatmaps[m]), style), interpolation="bilinear")
            ax.set_title(MAP_TITLES[m], fontsize=7)
            layer = "patch" if m.startswith("patch") else m
            if r.active.get(layer, 1.0) == 0:
                ax.text(
                    0.5,
                    0.5,
                    "all activations 0\n(dead ReLUs)",
                    transform=ax.transAxes,
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white",
                    bbox={"facecolor": "black", "alpha": 0.6},
                )
        _vector_weight_image(row[-1], r)
        for ax in row[:-1]:
            ax.axis("off")
    fig.suptitle("Grad-CAM of MFF-CNN's feature maps (paper Fig. 8); warm = high attention", fontsize=9)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def plot_patches(r: GradCAMResult, class_names: list[str], *, path: str | Path, style: str = "overlay") -> Path:
    """Fig. 8(c): each of the 16 patches with its own Grad-CAM, before and after selection, on one
    scale per panel so that patches compare; "k/32" is how many of its vectors selection kept."""
    import cv2

    n, k = r.kept.shape
    side = isqrt(n)
    size = r.face.shape[0]
    s = 2 * size // (side + 1)  # eq. 2
    stride = s // 2
    zoom, gap, title = 4, 6, 14  # pixels: each patch shown 4× with a gap and a line for its label
    cell = s * zoom
    # One mosaic image per panel (one axes in all: 32 small axes take seconds to draw).
    height, width = side * (cell + gap + title), side * (cell + gap)
    fig, axes = plt.subplots(1, 2, figsize=(2 * width / 80, (height + 30) / 80))
    for ax, m in zip(axes, ("patch_before", "patch_after")):
        coarse = torch.from_numpy(r.coarse[m]).float()  # (N, h, w)
        per_patch = place_on_input(coarse, r.patch_geometry, s).numpy()  # (N, S, S), as on the face
        top = per_patch.max() or 1.0
        mosaic = np.ones((height, width, 3))
        for i in range(n):
            y, x = divmod(i, side)
            crop = r.face[y * stride : y * stride + s, x * stride : x * stride + s]
            tile = render(
                cv2.resize(crop, (cell, cell), interpolation=cv2.INTER_LINEAR),
                cv2.resize(per_patch[i] / top, (cell, cell), interpolation=cv2.INTER_LINEAR),
                style,
            )
            top_y, left = y * (cell + gap + title) + title, x * (cell + gap)
            mosaic[top_y : top_y + cell, left : left + cell] = tile
            ax.text(
                left + cell / 2,
                top_y - 2,
                f"P{i + 1} · {int(r.kept[i].sum())}/{k}",
                ha="center",
                va="bottom",
                fontsize=7,
            )
        ax.imshow(mosaic, interpolation="nearest")
        ax.set_title(
            "before selection" if m == "patch_before" else "after selection (kept vectors only)",
            fontsize=9,
            fontweight="bold",
        )
        ax.axis("off")
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.93, wspace=0.04)
    path = Path(path)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
