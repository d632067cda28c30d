"""The face detectors behind one interface: `haar` (Viola-Jones, data/face.py, the paper's) and `blazeface`
(MediaPipe's BlazeFace with six landmarks, data/blazeface.py).

A detector is named by its settings: DetectorSettings runs the Haar cascade, BlazeFaceSettings runs BlazeFace.
Both give Face records with the box in one convention, the Viola-Jones box (BlazeFace's own box is mapped onto
it, `HAAR_BOX_FROM_BLAZEFACE`), so a crop of the box with a margin frames a face alike whichever detector found
it, and models trained on Haar crops keep their framing under BlazeFace. Only BlazeFace gives landmarks.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from mffcnn.data.blazeface import BORDER, BORDERED_MIN_FACE, BlazeFaceSettings, detect_blazeface, detect_bordered
from mffcnn.data.face import Box, DetectorSettings, detect_faces

DETECTORS = ("haar", "blazeface")
Settings = DetectorSettings | BlazeFaceSettings

# BlazeFace's box → the Viola-Jones box of the same face: (side factor, centre shift x, centre shift y), the
# shifts in BlazeFace box sides. Medians over the 213 JAFFE photos, where both find every face
# (bench/face_detectors.py measures them and writes them to BENCHMARKS.md).
HAAR_BOX_FROM_BLAZEFACE = (1.140, -0.008, -0.123)

# A loose face crop (a dataset's 96×96 or 48×48 face) is looked at with a border added, as BlazeFace looks at
# an image a face fills (blazeface.detect_bordered: BORDER, BORDERED_MIN_FACE); the Haar cascade the same way.
# A loose crop is known to hold a face, so when none scores BlazeFaceSettings.score the best one scoring
# LOOSE_SCORE or more is taken rather than the whole crop (bench/face_detectors.py counts the crops aligned so).
# Only the second look lowers the bar: a lower bar in the first would also let larger false boxes and stray
# landmarks into the faces found at the normal one. 0.25 and 0.4 were tried in a scratch run on SFEW 2.0 Val
# and AffectNet valid: 0.25 aligned the most crops; with flip both scored alike.
LOOSE_SCORE = 0.25


@dataclass(frozen=True)
class Face:
    """One detected face: its box (Viola-Jones convention, image pixels), its six landmarks (6×2, x and y in
    image pixels, in blazeface.LANDMARKS' order; None from the Haar cascade) and its score (1.0 for Haar)."""

    box: Box
    landmarks: np.ndarray | None = None
    score: float = 1.0


def settings_for(name: str, haar: DetectorSettings, blazeface: BlazeFaceSettings) -> Settings:
    """The settings object of the detector called `name`."""
    if name not in DETECTORS:
        raise ValueError(f"the face detector must be one of {DETECTORS}")
    return haar if name == "haar" else blazeface


def detector_name(settings: Settings) -> str:
    return "blazeface" if isinstance(settings, BlazeFaceSettings) else "haar"


def detect(grey: np.ndarray, settings: Settings, near: list[Box] | None = None) -> list[Face]:
    """Every face of a grey uint8 image, largest first, by the detector these settings belong to. near: where
    faces were a moment ago (their boxes, the frame before in a video): BlazeFace then looks only near them and
    for large faces (detect_blazeface); the Haar cascade searches the whole image whatever it is told."""
    if isinstance(settings, BlazeFaceSettings):
        return [
            Face(_haar_box(d.box), d.landmarks, d.score)
            for d in detect_blazeface(grey, settings, near)  # largest first
        ]
    return [Face(b) for b in detect_faces(grey, settings)]


def detect_loose(grey: np.ndarray, settings: Settings) -> list[Face]:
    """The faces of a loose face crop (the face fills most of it), in the crop's own coordinates: BlazeFace's
    detect_bordered (with LOOSE_SCORE's second look), or the Haar cascade with the same border."""
    if isinstance(settings, BlazeFaceSettings):
        found = detect_bordered(grey, settings)
        if not found and settings.score > LOOSE_SCORE:
            low = detect_bordered(grey, replace(settings, score=LOOSE_SCORE))
            found = sorted(low, key=lambda d: -d.score)[:1]
        return [Face(_haar_box(d.box), d.landmarks, d.score) for d in found]
    h, w = grey.shape
    pad = max(1, round(BORDER * max(h, w)))
    padded = cv2.copyMakeBorder(grey, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    # the face fills most of the crop: looking for faces under BORDERED_MIN_FACE of it costs time and finds none
    settings = replace(settings, min_size=max(settings.min_size, BORDERED_MIN_FACE))
    return [Face(Box(b.x - pad, b.y - pad, b.w, b.h)) for b in detect_faces(padded, settings)]


def _haar_box(b: Box) -> Box:
    k, dx, dy = HAAR_BOX_FROM_BLAZEFACE
    side = b.w * k
    cx, cy = b.x + b.w / 2 + dx * b.w, b.y + b.h / 2 + dy * b.w
    return Box(int(round(cx - side / 2)), int(round(cy - side / 2)), int(round(side)), int(round(side)))
