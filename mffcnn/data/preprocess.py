"""From a decoded grey image to the network's input (paper §4.1): a 60×60 grey face, normalised.

The Preprocessing record travels inside every checkpoint, so `predict` prepares a face exactly
as training did.

Normalisation (the paper is silent): each face is standardised to zero mean and unit variance
on its own. This removes global brightness and contrast, which differ between datasets,
cameras and the synthetic set, and which carry no expression; "unit" (plain x/255) is kept for
comparison.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from mffcnn.data.align import ALIGNS, EYE_DISTANCE, EYE_Y, align_crop, landmarks_from_box
from mffcnn.data.blazeface import BlazeFaceSettings
from mffcnn.data.detectors import DETECTORS, Face, Settings, detect, detect_loose, settings_for
from mffcnn.data.face import PREDICT_DETECTOR, Box, DetectorSettings, NoFaceError, crop_box, resize_square

if TYPE_CHECKING:  # torch is imported where a tensor is made: predicting with ONNX Runtime never loads it
    import torch

NORMALISATIONS = ("per_image", "unit")
NO_FACE = ("skip", "whole")
MIN_MARGIN = -0.25  # a crop inside the detector's box: at most half of its side cut away


@dataclass(frozen=True)
class Preprocessing:
    size: int = 60
    normalisation: str = "per_image"
    # Viola-Jones (mffcnn.data.face). Each dataset module sets its own default: on for the
    # uncropped ones (CK+, JAFFE, Oulu-CASIA), off for those that come aligned (CK+48, FER2013,
    # SFEW's aligned faces), which use the whole image.
    detect_face: bool = False
    margin: float = 0.0  # the paper crops the detector's box as it is; < 0 cuts inside it
    no_face: str = "skip"  # when no face is found: skip the image (counted) or use the whole image
    detector: DetectorSettings = field(default_factory=DetectorSettings)  # the Haar cascade's settings
    # Which detector finds the face (data/detectors.py): "haar" (Viola-Jones, the paper's; every dataset's
    # default) or "blazeface" (landmarks; what models written for predict carry, for_predict).
    face_detector: str = "haar"
    blazeface: BlazeFaceSettings = field(default_factory=BlazeFaceSettings)
    # The crop geometry (data/align.py): "box", the detector's box grown by margin, axis-aligned (the paper's);
    # "eyes", rotated so the eyes are level and scaled by the face's size: eye_distance of the crop's side
    # between the eyes, the eye line at eye_y of its height (margin is not used). With detect_face off, "eyes"
    # treats each image as a loose face crop: the face is found in it (with a border added) and aligned; when
    # none is found the whole image is used (counted, as no_face="whole").
    align: str = "box"
    eye_distance: float = EYE_DISTANCE
    eye_y: float = EYE_Y

    def __post_init__(self) -> None:
        if self.normalisation not in NORMALISATIONS:
            raise ValueError(f"normalisation must be one of {NORMALISATIONS}")
        if self.no_face not in NO_FACE:
            raise ValueError(f"no_face must be one of {NO_FACE}")
        if self.face_detector not in DETECTORS:
            raise ValueError(f"face_detector must be one of {DETECTORS}")
        if self.align not in ALIGNS:
            raise ValueError(f"align must be one of {ALIGNS}")
        if not 0.05 <= self.eye_distance <= 0.9 or not 0 <= self.eye_y <= 1:
            raise ValueError("eye_distance must be in [0.05, 0.9] and eye_y in [0, 1] (fractions of the crop's side)")
        if not MIN_MARGIN <= self.margin <= 2:
            raise ValueError(
                f"margin must be between {MIN_MARGIN} and 2 (a fraction of the face box's side; "
                "negative cuts inside the box)"
            )

    def resize(self, grey: np.ndarray) -> np.ndarray:
        """H×W uint8 → size×size uint8."""
        return resize_square(grey, self.size)

    def crop(self, grey: np.ndarray) -> np.ndarray:
        """The face of a grey image as the network sees it (size×size uint8): the largest detected
        face, or the whole image when detection is off. Raises NoFaceError when none is found and
        no_face is "skip"; with "whole" the whole image stands in (crop_or_whole says which)."""
        return self.crop_or_whole(grey)[0]

    def crop_or_whole(self, grey: np.ndarray) -> tuple[np.ndarray, bool]:
        """(face, True) for a detected face; (whole image, False) when falling back."""
        box, found = self.find_face(grey)
        return self.crop_at(grey, box), found

    @property
    def detector_settings(self) -> Settings:
        """The settings of the detector this preprocessing uses (DetectorSettings: Haar; BlazeFaceSettings)."""
        return settings_for(self.face_detector, self.detector, self.blazeface)

    def find_face(self, grey: np.ndarray) -> tuple[Face | None, bool]:
        """Where the face is: (the largest detected face, True); (None, True) with detection off, since the image
        is the face already (align="eyes": the face found inside it, or (None, False) when none is); (None,
        False) when no face is found and no_face is "whole". Raises NoFaceError when none is found and no_face
        is "skip"."""
        if not self.detect_face:
            if self.align != "eyes":
                return None, True
            faces = detect_loose(grey, self.detector_settings)
            return (faces[0], True) if faces else (None, False)
        faces = detect(grey, self.detector_settings)
        if faces:
            return faces[0], True
        if self.no_face == "whole":
            return None, False
        raise NoFaceError("no face found")

    def find_faces(
        self, grey: np.ndarray, settings: Settings | None = None, near: list[Box] | None = None
    ) -> list[Face]:
        """Every face of a photo (largest first) by this preprocessing's detector, or the one these settings
        name (predict's --detector and --min-face). near: boxes of the frame before (detectors.detect)."""
        return detect(grey, settings or self.detector_settings, near)

    def crop_at(self, grey: np.ndarray, face: Face | Box | None) -> np.ndarray:
        """The size×size face for a face from find_face (None: the whole image; a bare Box: a Haar box)."""
        if isinstance(face, Box):
            face = Face(face)
        if self.align == "eyes":
            if face is None:  # the whole image: as a face box of its own size, centred
                h, w = grey.shape
                side = min(h, w)
                face = Face(Box((w - side) // 2, (h - side) // 2, side, side))
            landmarks = face.landmarks if face.landmarks is not None else landmarks_from_box(face.box)
            return align_crop(grey, landmarks, size=self.size, eye_distance=self.eye_distance, eye_y=self.eye_y)
        if face is None:
            return self.resize(grey)
        return crop_box(grey, face.box, margin=self.margin, size=self.size)

    def replace(self, **changes) -> Preprocessing:
        """A copy with the given fields changed (dataclasses.replace)."""
        return replace(self, **changes)

    def to_tensor(self, faces: np.ndarray) -> torch.Tensor:
        """(n, S, S) uint8 → (n, 1, S, S) float32, normalised."""
        return normalise(faces, self.normalisation)

    def faces(self, faces: np.ndarray) -> Faces:
        """(n, S, S) uint8 → Faces, normalised a batch at a time (a quarter of to_tensor's memory)."""
        import torch  # noqa: PLC0415

        return Faces(torch.from_numpy(np.ascontiguousarray(faces, dtype=np.uint8)), self.normalisation)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Preprocessing:
        d = dict(d)  # a checkpoint from before a field existed gets its default: Haar, box crops, as then
        d["detector"] = DetectorSettings(**d.get("detector", {}))
        d["blazeface"] = BlazeFaceSettings(**d.get("blazeface", {}))
        return cls(**d)


def for_predict(preprocessing: Preprocessing, face_detector: str = "blazeface") -> Preprocessing:
    """The preprocessing a trained model's checkpoint carries: its training crops' geometry, with the detector
    predict uses: BlazeFace by default (it finds turned, small and tilted faces the cascade misses; the box
    mapped onto the Viola-Jones box, so box crops keep their framing), and for Haar the settings
    PREDICT_DETECTOR (the same face, found faster)."""
    return replace(preprocessing, detector=PREDICT_DETECTOR, face_detector=face_detector)


# Aligned crops with BlazeFace, for photos (detect_face=True) and loose face crops (detect_face=False).
ALIGNED = Preprocessing(detect_face=True, face_detector="blazeface", align="eyes")


@dataclass(frozen=True)
class AlignedFace:
    """One face as the network sees it: crop (size×size uint8), the face (box, 6×2 landmarks in image pixels,
    score; None when the whole image stood in) and found (False: no face was found, the fallback geometry
    was used)."""

    crop: np.ndarray
    face: Face | None
    found: bool


def align_faces(grey: np.ndarray, preprocessing: Preprocessing = ALIGNED, *, every: bool = True) -> list[AlignedFace]:
    """The faces of a grey uint8 image, cut by this preprocessing (ALIGNED: found by BlazeFace, eyes level,
    60×60). With detect_face on: every face (largest first; every=False: the largest), [] when none is found;
    with it off (a loose face crop): one face, found inside the image, or the whole image (found=False)."""
    if not preprocessing.detect_face:
        face, found = preprocessing.find_face(grey)
        return [AlignedFace(preprocessing.crop_at(grey, face), face, found)]
    faces = preprocessing.find_faces(grey)
    faces = faces if every else faces[:1]
    return [AlignedFace(preprocessing.crop_at(grey, f), f, True) for f in faces]


@dataclass(frozen=True)
class Faces:
    """Faces as they are stored, (n, S, S) uint8, made into network input one batch at a time.

    Training and evaluation index batches out of it; only the batch becomes float32. FER+'s 28,558
    faces take 103 MB this way instead of 411 MB as one normalised float tensor, and 300,000 faces
    1.1 GB instead of 4.3. The numbers are the same: normalisation is per face (normalise_pixels)."""

    pixels: torch.Tensor  # (n, S, S) uint8
    normalisation: str = "per_image"

    def __len__(self) -> int:
        return len(self.pixels)

    def __getitem__(self, index) -> Faces:
        """The faces at these indices (an array, a list or a slice), still uint8."""
        if not isinstance(index, slice):
            import torch  # noqa: PLC0415

            index = torch.as_tensor(np.asarray(index), dtype=torch.long)
        return Faces(self.pixels[index], self.normalisation)

    def batch(self, index=slice(None)) -> torch.Tensor:
        """(B, 1, S, S) float32 network input of the faces at these indices."""
        return normalise_pixels(self.pixels[index].float().unsqueeze(1), self.normalisation)


def normalise(faces: np.ndarray, how: str) -> torch.Tensor:
    """(n, S, S) uint8 → (n, 1, S, S) float32 network input."""
    import torch  # noqa: PLC0415

    return normalise_pixels(torch.from_numpy(np.ascontiguousarray(faces)).float().unsqueeze(1), how)


def normalise_pixels(x: torch.Tensor, how: str) -> torch.Tensor:
    """(n, 1, S, S) float pixel values 0–255 → network input. Plain tensor operations, so that the
    exported graphs (mffcnn/export.py) carry the very same normalisation."""
    x = x / 255.0
    if how == "unit":
        return x
    mean = x.mean(dim=(2, 3), keepdim=True)
    std = x.std(dim=(2, 3), keepdim=True)
    return (x - mean) / (std + 1e-3)  # eps keeps a flat (e.g. all-black) image finite
