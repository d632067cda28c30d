"""Reading an image file of any common kind into one grey uint8 array, or a clear ImageError.

Handles what real datasets contain: palette and 16-bit TIFFs (JAFFE), RGBA and grey+alpha
PNGs, float images, and corrupt or truncated files (OpenCV returns None, or raises).

A file's size on disk says little about what decoding it costs: a 0.9 MB PNG of 30,000 × 30,000 grey
pixels decodes to 900 MB (and took `mffcnn predict` 14 s and 2 GB before it answered "no face"). So the
image's width and height are read from its header first (Pillow's lazy open reads the header only), and an
image of more than `max_pixels` is refused before anything is decoded: ImageTooLarge. A file whose header
Pillow cannot read is not decoded at all while a limit is set (NoHeader): OpenCV also decodes formats Pillow
does not know (Radiance HDR, PFM, PAM), and an 8000 × 8000 HDR named .png would otherwise be decoded (1.85 GB)
before its size is known. mffcnn serve refuses the same files (415).

GIFs are read (their first frame), by predict, prepare, gradcam and serve alike: Pillow reads their header
and OpenCV (≥ 4.8) decodes them.
"""

from __future__ import annotations

import io
import os
import re
import sys
import tempfile
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".pgm", ".ppm", ".webp", ".gif"}
# The formats whose size Pillow reads from the header and OpenCV decodes: the images read under a pixel limit.
READABLE = "PNG, JPEG, WebP, BMP, TIFF, GIF, PPM/PGM"
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

    def __init__(self, pixels: int, max_pixels: int, *, decoded: bool = False):
        self.pixels, self.max_pixels = pixels, max_pixels
        done = "it was decoded (its header said less) but is not used" if decoded else "it was not decoded"
        super().__init__(f"image of {pixels / MEGA:,.1f} megapixels is over the limit of {max_pixels / MEGA:g}; {done}")


class NoHeader(ImageError):
    """Under a pixel limit, a file whose size cannot be read from its header is not decoded."""

    def __init__(self, data: np.ndarray):
        head = bytes(data[:12])
        if any(head.startswith(m) for m in MAGIC) or head[8:12] == b"WEBP":
            super().__init__("corrupt or truncated: its header cannot be read; it was not decoded")
        else:
            super().__init__(f"not an image in a format read here ({READABLE}); it was not decoded")


# The first bytes of the READABLE formats (WebP: RIFF....WEBP).
MAGIC = (b"\xff\xd8", b"\x89PNG", b"GIF8", b"BM", b"II*\0", b"MM\0*", b"P2", b"P3", b"P5", b"P6")


class CorruptJPEG(ImageError):
    """libjpeg decoded the file but reported damaged data: the pixels are partly garbage."""


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def read_image(path: str | Path, *, max_pixels: int | None = MAX_PIXELS, strict_jpeg: bool = False) -> np.ndarray:
    """Decode an image file as it is (grey or BGR, 8 or 16 bits), turned upright by its EXIF
    orientation (phone photos); a clear ImageError when it cannot be decoded, ImageTooLarge (before
    decoding) when it has more than max_pixels pixels. strict_jpeg: see decode_image."""
    try:
        data = np.fromfile(path, dtype=np.uint8)  # works with any path characters, unlike cv2.imread
    except OSError as e:
        raise ImageError(f"cannot read file ({e.strerror or e})") from None
    return decode_image(data, max_pixels=max_pixels, strict_jpeg=strict_jpeg)


def decode_image(
    data: bytes | np.ndarray, *, max_pixels: int | None = MAX_PIXELS, strict_jpeg: bool = False
) -> np.ndarray:
    """Decode the bytes of an image file (as read_image does a file): the header's size is checked against
    max_pixels first (a file without a readable header is not decoded: NoHeader), then OpenCV decodes.

    strict_jpeg: a JPEG whose data libjpeg reports damaged ("Corrupt JPEG data", "Premature end of JPEG
    file") is a CorruptJPEG instead of the partly grey or smeared image OpenCV returns. libjpeg says so only on
    the process's stderr, which is captured around the decode (one decode at a time, under a lock), so only
    single-threaded callers ask for it: mffcnn predict, where a garbled photo would read as "no face"."""
    buffer = np.frombuffer(data, dtype=np.uint8) if isinstance(data, (bytes, bytearray, memoryview)) else data
    if buffer.size == 0:
        raise ImageError("empty file")
    if max_pixels is not None:
        pixels = header_pixels(buffer)
        if pixels is None:
            raise NoHeader(buffer)
        if pixels > max_pixels:
            raise ImageTooLarge(pixels, max_pixels)
    jpeg = strict_jpeg and buffer.size > 2 and buffer[0] == 0xFF and buffer[1] == 0xD8
    with _libjpeg_messages() if jpeg else _no_messages() as messages:
        try:
            # ANYDEPTH|ANYCOLOR keeps 16-bit and grey images; unlike IMREAD_UNCHANGED it applies EXIF orientation
            # (and drops alpha, which carries no face).
            image = cv2.imdecode(buffer, cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR)
        except cv2.error:
            image = None
    damaged = [m for m in messages if "Corrupt JPEG" in m or "Premature end" in m]
    if image is not None and damaged:
        raise CorruptJPEG(f"corrupt JPEG: its data is damaged, the decoded pixels are partly garbage ({damaged[0]})")
    if image is None:
        raise ImageError("not a readable image (corrupt, truncated or unknown format)")
    h, w = image.shape[:2]
    if max_pixels is not None and h * w > max_pixels:  # a header that said less than the file holds
        raise ImageTooLarge(h * w, max_pixels, decoded=True)
    return image


_stderr_lock = threading.Lock()


@contextmanager
def _no_messages():
    yield []


@contextmanager
def _libjpeg_messages():
    """The lines libjpeg (inside OpenCV) writes to file descriptor 2 meanwhile; other lines are passed on."""
    lines: list[str] = []
    with _stderr_lock, tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode("utf-8", "replace")
            lines += [line.strip() for line in text.splitlines() if line.strip()]
            other = [line for line in lines if "JPEG" not in line]
            if other:
                print("\n".join(other), file=sys.stderr)


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
