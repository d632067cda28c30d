"""Reading an image file of any common kind into one grey uint8 array, or a clear ImageError.

Handles what real datasets contain: palette and 16-bit TIFFs (JAFFE), RGBA and grey+alpha
PNGs, float images, and corrupt or truncated files (OpenCV returns None, or raises).

A file's size on disk says little about what decoding it costs: a 0.9 MB PNG of 30,000 × 30,000 grey
pixels decodes to 900 MB (and took `mffcnn predict` 14 s and 2 GB before it answered "no face"). So the
image's width and height are read from its header first (Pillow's lazy open reads the header only), and an
image of more than `max_pixels` is refused before anything is decoded: ImageTooLarge.
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".pgm", ".ppm", ".webp"}
# 40 megapixels: a 48-MP phone's default photo is 12 MP (pixel binning), a full-frame camera's 24–45 MP;
# decoded as BGR that is at most 120 MB per image. Raise it per call (max_pixels=None: no limit).
MAX_PIXELS = 40_000_000
MEGA = 1_000_000
# Pillow warns about headers over its own limit (89 MP), and its format plugins about damaged metadata (corrupt
# EXIF in a TIFF): here it reads sizes only, the limit that counts is max_pixels, and OpenCV decides whether the
# file decodes. Module-level filters, narrow ones, not catch_warnings(), which is not thread-safe (mffcnn serve
# reads headers in several threads).
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.\w+ImagePlugin")


class ImageError(ValueError):
    """This file cannot be used as an image; the message says why."""


class ImageTooLarge(ImageError):
    """The image has more pixels than allowed; found from its header, before decoding."""

    def __init__(self, pixels: int, max_pixels: int):
        self.pixels, self.max_pixels = pixels, max_pixels
        super().__init__(
            f"image of {pixels / MEGA:,.1f} megapixels is over the limit of {max_pixels / MEGA:g}; it was not decoded"
        )


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def read_image(path: str | Path, *, max_pixels: int | None = MAX_PIXELS) -> np.ndarray:
    """Decode an image file as it is (grey or BGR, 8 or 16 bits), turned upright by its EXIF
    orientation (phone photos); a clear ImageError when it cannot be decoded, ImageTooLarge (before
    decoding) when it has more than max_pixels pixels."""
    try:
        data = np.fromfile(path, dtype=np.uint8)  # works with any path characters, unlike cv2.imread
    except OSError as e:
        raise ImageError(f"cannot read file ({e.strerror or e})") from None
    return decode_image(data, max_pixels=max_pixels)


def decode_image(data: bytes | np.ndarray, *, max_pixels: int | None = MAX_PIXELS) -> np.ndarray:
    """Decode the bytes of an image file (as read_image does a file): the header's size is checked against
    max_pixels first, then OpenCV decodes."""
    buffer = np.frombuffer(data, dtype=np.uint8) if isinstance(data, (bytes, bytearray, memoryview)) else data
    if buffer.size == 0:
        raise ImageError("empty file")
    if max_pixels is not None:
        pixels = header_pixels(buffer)
        if pixels is not None and pixels > max_pixels:
            raise ImageTooLarge(pixels, max_pixels)
    try:
        # ANYDEPTH|ANYCOLOR keeps 16-bit and grey images; unlike IMREAD_UNCHANGED it applies EXIF orientation
        # (and drops alpha, which carries no face).
        image = cv2.imdecode(buffer, cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR)
    except cv2.error:
        image = None
    if image is None:
        raise ImageError("not a readable image (corrupt, truncated or unknown format)")
    h, w = image.shape[:2]
    if max_pixels is not None and h * w > max_pixels:
        # A format whose header Pillow does not read (Radiance HDR, PFM): checked after decoding, under
        # OpenCV's own cap of 2^30 pixels.
        raise ImageTooLarge(h * w, max_pixels)
    return image


def header_pixels(data: bytes | np.ndarray) -> int | None:
    """Width × height from an image's header, without decoding its pixels; None when Pillow does not know
    the format (OpenCV may still decode it) or the header is damaged (the decoder then says so)."""
    try:
        with Image.open(io.BytesIO(memoryview(data))) as image:
            w, h = image.size
            return w * h
    except Image.DecompressionBombError as e:
        # Pillow refuses a header of more than twice its own limit (179 MP) before it tells the size;
        # its message has the number of pixels.
        found = re.search(r"\((\d+) pixels\)", str(e))
        return int(found.group(1)) if found else None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        return None


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
