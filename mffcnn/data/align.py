"""Face alignment: the eyes level, the face scaled to one size, cut as a size×size grey crop.

One crop geometry (stored in every checkpoint's Preprocessing: `align="eyes"`, `eye_distance`, `eye_y`) is
used at training and at prediction alike. The crop is a similarity transform of the image:

- rotation: the line through the two eyes is made horizontal;
- scale: the face's size `s` = max(eye distance, eye-to-mouth distance / EYE_MOUTH_RATIO) becomes
  eye_distance × size pixels. The max keeps the scale when the head turns (yaw shortens the eye distance, not
  the eye-to-mouth one) or nods (the other way round);
- position: the midpoint of the eyes goes to (size/2, eye_y × size).

The defaults frame a face as the paper's Viola-Jones box does (margin 0): on the 213 JAFFE photos the
cascade's box is 2.634 eye distances wide with the eyes 0.264 eye distances above its centre, i.e. the eye
distance is 0.38 of the crop's side and the eye line at 0.40 of its height (bench/face_detectors.py measures
it and writes it to BENCHMARKS.md).

A face without landmarks (the Haar cascade's, or the whole image when no face is found) gets the landmarks an
upright face has in its box on average (`landmarks_from_box`): its aligned crop is its box crop.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from mffcnn.data.face import Box

ALIGNS = ("box", "eyes")
EYE_DISTANCE = 0.38  # of the crop's side
EYE_Y = 0.40  # the eye line's height, of the crop's side
EYE_MOUTH_RATIO = 1.043  # eye midpoint to mouth over the eye distance (median, JAFFE, BlazeFace landmarks)
# Where an upright face's eyes are in its Viola-Jones box (JAFFE medians): the box is BOX_SIDE_EYES eye
# distances wide, its centre BOX_CENTRE_BELOW_EYES eye distances below the eyes' midpoint.
BOX_SIDE_EYES = 2.634
BOX_CENTRE_BELOW_EYES = 0.264


def landmarks_from_box(box: Box) -> np.ndarray:
    """The six landmarks (blazeface.LANDMARKS' order) an upright frontal face has in this Viola-Jones box,
    on average: eyes, nose, mouth, ears."""
    de = box.w / BOX_SIDE_EYES
    cx = box.x + box.w / 2
    ey = box.y + box.h / 2 - BOX_CENTRE_BELOW_EYES * de
    my = ey + EYE_MOUTH_RATIO * de
    return np.array(
        [
            [cx - de / 2, ey],
            [cx + de / 2, ey],
            [cx, (ey + my) / 2],
            [cx, my],
            [cx - 0.9 * de, ey + 0.2 * de],
            [cx + 0.9 * de, ey + 0.2 * de],
        ]
    )


def alignment(landmarks: np.ndarray, *, size: int, eye_distance: float = EYE_DISTANCE, eye_y: float = EYE_Y):
    """The 2×3 similarity that maps image pixels onto the size×size aligned crop."""
    eye_a, eye_b, mouth = landmarks[0], landmarks[1], landmarks[3]
    mid = (eye_a + eye_b) / 2
    d = eye_b - eye_a
    de = float(np.hypot(*d))
    s = max(de, float(np.hypot(*(mouth - mid))) / EYE_MOUTH_RATIO, 1e-3)
    angle = math.degrees(math.atan2(d[1], d[0])) if de > 1e-3 else 0.0
    m = cv2.getRotationMatrix2D((float(mid[0]), float(mid[1])), angle, eye_distance * size / s)
    m[:, 2] += np.array([size / 2, eye_y * size]) - mid
    return m


def align_crop(
    grey: np.ndarray, landmarks: np.ndarray, *, size: int, eye_distance: float = EYE_DISTANCE, eye_y: float = EYE_Y
) -> np.ndarray:
    """The size×size aligned grey crop of the face with these landmarks (parts outside the image: its border
    replicated). A face much larger than the crop is first shrunk by area averaging (no aliasing)."""
    m = alignment(landmarks, size=size, eye_distance=eye_distance, eye_y=eye_y)
    scale = float(np.hypot(m[0, 0], m[0, 1]))
    if scale < 0.5:  # shrink the face's surroundings with INTER_AREA first, then the warp is about 1:1
        inv = cv2.invertAffineTransform(m)
        corners = np.array([[0, 0], [size, 0], [0, size], [size, size]], float) @ inv[:, :2].T + inv[:, 2]
        h, w = grey.shape
        x0, y0 = np.floor(corners.min(0)).astype(int) - 2
        x1, y1 = np.ceil(corners.max(0)).astype(int) + 2
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x1 - x0 >= 2 and y1 - y0 >= 2:
            k = 2 * scale  # leave the warp a factor 2 to do, its linear interpolation is fine at that
            region = grey[y0:y1, x0:x1]
            small = cv2.resize(
                region,
                (max(1, round(region.shape[1] * k)), max(1, round(region.shape[0] * k))),
                interpolation=cv2.INTER_AREA,
            )
            kx, ky = small.shape[1] / region.shape[1], small.shape[0] / region.shape[0]
            # image → small: x' = (x - x0) kx; so m_small = m ∘ (small → image)
            to_image = np.array([[1 / kx, 0, x0], [0, 1 / ky, y0]])
            m = np.hstack([m[:, :2] @ to_image[:, :2], (m[:, :2] @ to_image[:, 2] + m[:, 2])[:, None]])
            grey = small
    return cv2.warpAffine(grey, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
