"""Viola-Jones face detection and cropping (paper §4.1, ref. [31]): OpenCV's Haar cascade.

"we applied Viola-Jones face detector to detect human face in each sample. The facial region
was resized to 60×60." The detector finds every face; training crops take the largest, and
`predict` classifies them all. The cascade file ships inside opencv-python(-headless) < 5.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from mffcnn.data.images import ImageError

# The frontal-face cascade's own window, in pixels: the smallest face it can find.
CASCADE_WINDOW = 20


class NoFaceError(ImageError):
    """The detector found no face in the image."""


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        return self.w * self.h

    def to_list(self) -> list[int]:
        return [self.x, self.y, self.w, self.h]


@dataclass(frozen=True)
class DetectorSettings:
    """OpenCV detectMultiScale settings. Defaults: OpenCV's own, with a minimum face size of
    1/8 of the shorter side, run on the image shrunk to at most `max_side` pixels (speed)."""

    cascade: str = "haarcascade_frontalface_default.xml"
    scale_factor: float = 1.1
    min_neighbors: int = 5
    min_size: float = 0.125  # fraction of the shorter image side
    max_side: int = 640

    def to_dict(self) -> dict:
        return asdict(self)


# The detector settings every model that mffcnn writes carries for `predict`: the image shrunk to at most
# 320 px and a coarser scale step (1.2): as many JAFFE faces found as with OpenCV's defaults, in a fraction of
# the time per 640×480 frame (bench/speed.py measures both for a grid of settings). Datasets are still prepared
# with the defaults above, as the paper's Viola-Jones.
PREDICT_DETECTOR = DetectorSettings(scale_factor=1.2, max_side=320)


_per_thread = threading.local()


def _cascade(name: str) -> cv2.CascadeClassifier:
    """The loaded cascade, one per thread: OpenCV's CascadeClassifier keeps the image it is scanning inside
    itself, so two threads that share one get each other's faces (mffcnn serve detects in several threads)."""
    loaded = _per_thread.__dict__.setdefault("cascades", {})
    if name not in loaded:
        loaded[name] = _load_cascade(name)
    return loaded[name]


def _load_cascade(name: str) -> cv2.CascadeClassifier:
    path = Path(name)
    if not path.exists():
        path = Path(cv2.data.haarcascades) / name
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise ImageError(f"cannot load the Haar cascade {name!r} (opencv-python-headless < 5 ships it)")
    return cascade


def detect_faces(grey: np.ndarray, settings: DetectorSettings = DetectorSettings()) -> list[Box]:
    """All faces in a grey uint8 image, largest first, in the image's own pixel coordinates."""
    h, w = grey.shape
    shrink = min(1.0, settings.max_side / max(h, w))
    sw, sh = round(w * shrink), round(h * shrink)
    if min(sw, sh) < CASCADE_WINDOW:  # no face fits (and a 2000×3 strip would shrink to nothing)
        return []
    small = cv2.resize(grey, (sw, sh), interpolation=cv2.INTER_AREA) if shrink < 1 else grey
    side = max(int(min(small.shape) * settings.min_size), CASCADE_WINDOW)
    found = _cascade(settings.cascade).detectMultiScale(
        cv2.equalizeHist(small),
        scaleFactor=settings.scale_factor,
        minNeighbors=settings.min_neighbors,
        minSize=(side, side),
    )
    boxes = [Box(*(int(round(v / shrink)) for v in b)) for b in (found if len(found) else [])]
    return sorted(boxes, key=lambda b: b.area, reverse=True)


def crop_box(grey: np.ndarray, box: Box, *, margin: float, size: int) -> np.ndarray:
    """The box grown by `margin` (a fraction of its side) on every side, squared, resized to size×size.

    Parts outside the image are filled by replicating its border, so a face at the edge keeps its place."""
    side = max(box.w, box.h) * (1 + 2 * margin)
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    s = max(int(round(side)), 1)
    h, w = grey.shape
    pad = max(0, -x0, -y0, x0 + s - w, y0 + s - h)
    if pad:
        grey = cv2.copyMakeBorder(grey, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        x0, y0 = x0 + pad, y0 + pad
    return resize_square(grey[y0 : y0 + s, x0 : x0 + s], size)


def resize_square(grey: np.ndarray, size: int) -> np.ndarray:
    """H×W uint8 → size×size uint8 (the network's input size, §4.1)."""
    h, w = grey.shape
    if (h, w) == (size, size):
        return grey
    # INTER_AREA averages when shrinking (no aliasing); cubic keeps edges when enlarging (CK+48 is 48×48).
    interp = cv2.INTER_AREA if min(h, w) > size else cv2.INTER_CUBIC
    return cv2.resize(grey, (size, size), interpolation=interp)
