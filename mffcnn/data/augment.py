"""The paper's JAFFE augmentation (§4.1): each photo in 8 versions, fixed before the folds.

"We flipped the original images horizontally and rotated them by angles of 5, 10 and 15 degrees
clockwise and counterclockwise. With data augmentation, we obtained seven diverse versions of
samples besides original images" — the original, its mirror image, and the original rotated by
±5°, ±10°, ±15°: 183 × 8 = 1464 images (Table 1).

How a version is made (the paper is silent): the face is found once, on the original photo;
each rotation turns the *original photo* about the centre of that face box and then crops the
same box. Two alternatives were rejected:

* rotating the 60×60 crop would have to invent its corners (up to 13 % of the face at 15°),
  filled with black or smeared border, when the real pixels are right there in the photo;
* running the detector again on each rotated photo would move and rescale the box from copy to
  copy (the Haar cascade is not rotation invariant and may miss a face at 15°), so the copies
  would differ by more than the rotation.

The mirror image is the crop flipped left-right (the same as cropping the mirrored photo at the
mirrored box). Without a face box (detection off, or the whole image standing in) the whole
image is rotated about its centre, with its border replicated into the corners.

Every copy keeps its photo's group and subject (faceset.build_faceset), so subject-independent
folds keep a photo's copies, and all photos of a person, on one side. The paper's random folds
put copies of one photo on both sides, which flatters its accuracy; we reproduce it and report
the subject-independent protocol beside it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from mffcnn.data.detectors import Face
from mffcnn.data.face import Box
from mffcnn.data.preprocess import Preprocessing


@dataclass(frozen=True)
class Augmentation:
    flip: bool = True
    angles: tuple[float, ...] = (5.0, -5.0, 10.0, -10.0, 15.0, -15.0)  # degrees, + = counter-clockwise

    @property
    def n_views(self) -> int:
        return 1 + int(self.flip) + len(self.angles)

    def to_dict(self) -> dict:
        return asdict(self)


PAPER = Augmentation()  # §4.1: 8 versions


def augmented_crops(
    grey: np.ndarray, face: Face | Box | None, preprocessing: Preprocessing, augmentation: Augmentation
) -> list[tuple[str, np.ndarray]]:
    """(tag, size×size face) for every version of one photo: "" (the original), "flip", "rot+5", …
    The rotated versions are cut at the upright face's place (its box, or its landmarks for aligned crops),
    so the turn stays in the crop."""
    original = preprocessing.crop_at(grey, face)
    box = face.box if isinstance(face, Face) else face
    views = [("", original)]
    if augmentation.flip:
        views.append(("flip", np.ascontiguousarray(original[:, ::-1])))
    h, w = grey.shape
    centre = (box.x + box.w / 2, box.y + box.h / 2) if box is not None else (w / 2, h / 2)
    for angle in augmentation.angles:
        m = cv2.getRotationMatrix2D(centre, angle, 1.0)
        rotated = cv2.warpAffine(grey, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        views.append((f"rot{angle:+g}", preprocessing.crop_at(rotated, face)))
    return views
