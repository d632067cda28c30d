"""A contact sheet: every prepared face in one PNG, to see what the network receives (§4.1)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from mffcnn.data.faceset import FaceSet


def contact_sheet(
    images: np.ndarray, captions: list[str] | None = None, *, columns: int = 20, scale: int = 2
) -> np.ndarray:
    """(n, S, S) uint8 faces → one grey image: a grid of faces, each with its caption below."""
    n, s = len(images), images.shape[1] if len(images) else 60
    columns = max(1, min(columns, n or 1))
    rows = -(-n // columns) if n else 1
    cell, text_h = s * scale, 14 if captions else 0
    sheet = np.full((rows * (cell + text_h + 2), columns * (cell + 2)), 255, np.uint8)
    for i, face in enumerate(images):
        r, c = divmod(i, columns)
        y, x = r * (cell + text_h + 2), c * (cell + 2)
        sheet[y : y + cell, x : x + cell] = cv2.resize(face, (cell, cell), interpolation=cv2.INTER_NEAREST)
        if captions:
            cv2.putText(
                sheet,
                captions[i][: cell // 6],
                (x + 1, y + cell + text_h - 3),
                cv2.FONT_HERSHEY_PLAIN,
                0.8,
                0,
                1,
                cv2.LINE_AA,
            )
    return sheet


def faceset_sheet(faceset: FaceSet, path: str | Path, *, columns: int = 20, originals_only: bool = True) -> Path:
    """Write the contact sheet of a prepared dataset (captions: class and file name) as a PNG.
    With originals_only, augmented copies (paths with '#') are left out."""
    keep = [i for i, p in enumerate(faceset.paths) if not (originals_only and "#" in p)]
    captions = [
        f"{faceset.class_names[faceset.labels[i]][:3]} {Path(faceset.paths[i].split('#')[0]).stem}" for i in keep
    ]
    sheet = contact_sheet(faceset.images[keep], captions, columns=columns)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), sheet):
        raise OSError(f"cannot write {path}")
    return path
