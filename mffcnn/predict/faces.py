"""Every face of a grey image, found and cut as the model's training faces were (§4.1 at use time).

A detector (data/detectors.py: BlazeFace, predict's and serve's default, or the Haar cascade) finds the faces;
each is cut by the checkpoint's crop geometry (its box with the margin, or aligned on the eyes), grey, 60×60.
The geometry comes from the checkpoint's Preprocessing, so the crop matches the training crops
(bench/crop_geometry.py measures how aligned datasets frame a face).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import numpy as np

from mffcnn.data.blazeface import BlazeFaceSettings
from mffcnn.data.detectors import DETECTORS, Settings, settings_for
from mffcnn.data.face import CASCADE_WINDOW, Box
from mffcnn.data.files import files_under
from mffcnn.data.images import ImageError, is_image_file, read_image, to_grey_uint8
from mffcnn.data.preprocess import Preprocessing
from mffcnn.errors import MffcnnError, warn

# The detector predict and serve use unless told otherwise (--detector): it finds turned, small, tilted and
# partly hidden faces the cascade misses, with landmarks (bench/face_detectors.py measures both).
PREDICT_DETECTOR_NAME = "blazeface"

# Room to spare above the cascade's window for the smallest face asked for: it is found reliably from about
# 1.6 windows up, not at the window's very size.
MIN_FACE_WINDOWS = 1.6


def find_faces(
    grey: np.ndarray,
    preprocessing: Preprocessing,
    *,
    detect: bool = True,
    detector: Settings | None = None,
    near: list[Box] | None = None,
) -> tuple[list[Box], list[np.ndarray]]:
    """Boxes and size×size crops of every face in a grey image, cropped as the model's training data was.
    detector: the settings of the detector to use (DetectorSettings: Haar, BlazeFaceSettings: BlazeFace; None:
    the checkpoint's own). detect=False: the image is a face crop already (with an aligned model, the face is
    aligned inside it, as its loose training crops were). near: the boxes of the frame before (VideoFaces)."""
    h, w = grey.shape
    if not detect:
        if preprocessing.align == "eyes":
            loose = preprocessing.replace(detect_face=False)
            return [Box(0, 0, w, h)], [loose.crop_at(grey, loose.find_face(grey)[0])]
        return [Box(0, 0, w, h)], [preprocessing.resize(grey)]
    faces = preprocessing.find_faces(grey, detector, near)
    faces.sort(key=lambda f: (f.box.x, f.box.y))  # left to right reads better than largest first in outputs
    return [f.box for f in faces], [preprocessing.crop_at(grey, f) for f in faces]


# A video's frames are searched in full (every window of BlazeFace's pyramid) at least this often.
RESCAN_FRAMES = 10


class VideoFaces:
    """find_faces for the frames of one video, one after another, with far fewer network runs.

    Most of BlazeFace's time on a frame goes to the finest level of its pyramid, which finds the small faces (of
    the 124,928 input pixels of a 640×480 frame's three runs, 86,016). A face in a video moves little from one
    frame to the next, so between full searches only the
    whole frame (faces of a fifth of its longer side and up, anywhere) and one tile around each face of the frame
    before are looked in (blazeface.near_windows; bench/video_faces.py measures the time per frame). A full
    search is made on the first frame, every RESCAN_FRAMES-th frame, and at once on any frame where fewer faces
    are found than on the frame before: a face is never lost to the shortcut, and a new small face is found at
    most RESCAN_FRAMES - 1 frames late. The Haar cascade searches every frame in full (it shrinks the frame
    instead; the shortcut would not pay)."""

    def __init__(self, preprocessing: Preprocessing, *, detect: bool, detector: Settings, rescan: int = RESCAN_FRAMES):
        self.preprocessing, self.detect, self.detector, self.rescan = preprocessing, detect, detector, rescan
        self.last: list[Box] | None = None  # the boxes of the frame before; None: search the next frame in full
        self.since = 0  # frames since the last full search
        self.full_searches = 0

    def __call__(self, grey: np.ndarray) -> tuple[list[Box], list[np.ndarray]]:
        find = lambda near: find_faces(grey, self.preprocessing, detect=self.detect, detector=self.detector, near=near)
        shortcut = self.detect and isinstance(self.detector, BlazeFaceSettings)
        found = None
        if shortcut and self.last is not None and self.since < self.rescan:
            found = find(self.last)
            if len(found[0]) < len(self.last):  # a face not found near where it was: look everywhere
                found = None
        if found is None:
            found = find(None)
            self.since, self.full_searches = 0, self.full_searches + 1
        self.since += 1
        self.last = found[0] if shortcut else None
        return found


def choose_detector(preprocessing: Preprocessing, name: str | None = None, min_face: float | None = None) -> Settings:
    """The detector settings predict and serve use: the one named (None: PREDICT_DETECTOR_NAME), with the
    checkpoint's settings for it, finding faces down to min_face of the shorter side when given."""
    name = name or PREDICT_DETECTOR_NAME
    if name not in DETECTORS:
        raise MffcnnError(f"unknown face detector {name!r}; choose from {', '.join(DETECTORS)}")
    settings = settings_for(name, preprocessing.detector, preprocessing.blazeface)
    return settings if min_face is None else detector_for_min_face(settings, min_face)


def detector_for_min_face(settings: Settings, fraction: float) -> Settings:
    """Detector settings that find faces down to `fraction` of the image's shorter side.

    Haar: the image is shrunk to at most max_side before detection; that is raised when needed so such a face
    keeps MIN_FACE_WINDOWS cascade windows there, e.g. 0.05 → 640 px, 0.02 → 1600 px. BlazeFace: the image is
    cut into more, smaller tiles (data/blazeface.py). Small faces in group photos cost time either way."""
    if not 0 < fraction <= 1:
        raise MffcnnError("the smallest face is a fraction of the image's shorter side, in (0, 1]")
    if isinstance(settings, BlazeFaceSettings):
        return replace(settings, min_size=fraction)
    needed = int(np.ceil(MIN_FACE_WINDOWS * CASCADE_WINDOW / fraction))
    return replace(settings, min_size=fraction, max_side=max(settings.max_side, needed))


def collect_faces(images: Iterable[str | Path], *, preprocessing: Preprocessing, detect: bool = True) -> np.ndarray:
    """Every face of some image files and folders (recursive) as (n, S, S) uint8 crops (for export's parity
    check and int8 calibration, and benchmarks). detect=False: each image is a face crop already."""
    crops = []
    for path in _image_files(images):
        try:
            crops += find_faces(to_grey_uint8(read_image(path)), preprocessing, detect=detect)[1]
        except ImageError as e:
            warn(f"{path}: {e}; skipped")
    size = preprocessing.size
    return np.stack(crops) if crops else np.zeros((0, size, size), np.uint8)


def _image_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files given, and the image files in the folders given (sorted, recursive)."""
    paths = [Path(p) for p in paths]
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise MffcnnError(f"{missing[0]} does not exist")
    folder = lambda root: [p for p in files_under(root) if is_image_file(p)]  # says what it cannot list
    return [f for p in paths for f in (folder(p) if p.is_dir() else [p])]
