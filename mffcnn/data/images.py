"""Reading an image file of any common kind into one grey uint8 array, or a clear ImageError.

Handles what real datasets contain: palette and 16-bit TIFFs (JAFFE), RGBA and grey+alpha
PNGs, float images, and corrupt or truncated files (OpenCV returns None, or raises).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".pgm", ".ppm", ".webp"}


class ImageError(ValueError):
    """This file cannot be used as an image; the message says why."""


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def read_image(path: str | Path) -> np.ndarray:
    """Decode an image file as it is (grey or BGR, 8 or 16 bits), turned upright by its EXIF
    orientation (phone photos); a clear ImageError when it cannot be decoded."""
    try:
        data = np.fromfile(path, dtype=np.uint8)  # works with any path characters, unlike cv2.imread
    except OSError as e:
        raise ImageError(f"cannot read file ({e.strerror or e})") from None
    if data.size == 0:
        raise ImageError("empty file")
    try:
        # ANYDEPTH|ANYCOLOR keeps 16-bit and grey images; unlike IMREAD_UNCHANGED it applies EXIF orientation
        # (and drops alpha, which carries no face).
        image = cv2.imdecode(data, cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR)
    except cv2.error:
        image = None
    if image is None:
        raise ImageError("not a readable image (corrupt, truncated or unknown format)")
    return image


def read_grey(path: str | Path) -> np.ndarray:
    """Decode a file to a 2-D uint8 grey image."""
    return to_grey_uint8(read_image(path))


def to_grey_uint8(image: np.ndarray) -> np.ndarray:
    """Any decoded array (H×W, H×W×1..4; uint8/uint16/float) → H×W uint8; BGR order as OpenCV decodes."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 3:
        channels = image.shape[2]
        if channels == 2:  # grey + alpha
            image = image[:, :, 0]
        elif channels in (3, 4):
            # Alpha carries no face. Scale to 8 bits first (one scale for all three channels), then mix.
            colour = _scale_to_uint8(np.ascontiguousarray(image[:, :, :3]))
            return cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY)
        else:
            raise ImageError(f"unsupported channel count {channels}")
    if image.ndim != 2:
        raise ImageError(f"unsupported image shape {image.shape}")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ImageError("image has no pixels")
    return _scale_to_uint8(image)


def _scale_to_uint8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.bool_:
        return image.astype(np.uint8) * 255
    if np.issubdtype(image.dtype, np.integer):
        info = np.iinfo(image.dtype)
        # 16-bit scans often use only the low bits (e.g. 12-bit sensors): stretch by the data's own
        # maximum when it is far below the type's, so the face does not come out black.
        top = float(image.max()) if image.max() > 0 else 1.0
        top = top if top < info.max / 16 else float(info.max)
        low = min(0.0, float(image.min()))
        return np.clip((image.astype(np.float64) - low) / (top - low) * 255.0, 0, 255).round().astype(np.uint8)
    if np.issubdtype(image.dtype, np.floating):
        finite = np.nan_to_num(image.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        top = 1.0 if finite.max() <= 1.0 else 255.0
        return (np.clip(finite, 0.0, top) / top * 255.0).round().astype(np.uint8)  # clip first: no overflow
    raise ImageError(f"unsupported pixel type {image.dtype}")
