"""Synthetic scenes for face detection: the public-domain sample photo's face pasted onto generated canvases.

Used by bench/face_detectors.py (the synthetic rows of its table) and tests/test_face_detectors.py, so the
benchmark and the tests look at the same cases. Nothing here comes from a dataset: the face is the one of
mffcnn/samples/astronaut.png (public domain, NASA), the backgrounds are smooth noise drawn from a seed.

A face of size S means its Viola-Jones box (the cascade's box on the sample photo) is S pixels wide in the
scene; it is pasted with half a box of its surroundings on every side, feathered into the background.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from mffcnn.data.face import Box, DetectorSettings, detect_faces
from mffcnn.data.images import read_image, to_grey_uint8

SAMPLE = __import__("pathlib").Path(__file__).resolve().parent.parent / "mffcnn" / "samples" / "astronaut.png"


@dataclass
class Scene:
    """A grey canvas and where its faces are (their Viola-Jones boxes as pasted, and their in-plane angle)."""

    name: str
    grey: np.ndarray
    faces: list[Box] = field(default_factory=list)
    angle: float = 0.0


_cache: dict = {}


def sample_face() -> tuple[np.ndarray, Box]:
    """The sample photo (grey) and its face's Viola-Jones box (OpenCV's default settings)."""
    if "face" not in _cache:
        grey = to_grey_uint8(read_image(SAMPLE))
        _cache["face"] = (grey, detect_faces(grey, DetectorSettings())[0])
    return _cache["face"]


def background(w: int, h: int, seed: int) -> np.ndarray:
    """Smooth grey noise with a gradient: texture without anything face-like."""
    rng = np.random.default_rng(seed)
    low = cv2.resize(rng.uniform(60, 190, (max(2, h // 40), max(2, w // 40))), (w, h), interpolation=cv2.INTER_CUBIC)
    grain = cv2.GaussianBlur(rng.normal(0, 12, (h, w)), (0, 0), 1.5)
    ramp = np.linspace(-20, 20, w)[None, :]
    return np.clip(low + grain + ramp, 0, 255).astype(np.uint8)


def paste(canvas: np.ndarray, size: int, cx: float, cy: float, angle: float = 0.0) -> Box:
    """Paste the sample face, its box `size` px wide, centred at (cx, cy), turned by `angle`° (counter-
    clockwise), feathered; parts outside the canvas are cut. Returns the pasted face's box (unturned)."""
    grey, box = sample_face()
    k = size / box.w
    ctx = box.w // 2  # half a box of surroundings on every side
    x0, y0 = box.x - ctx, box.y - ctx
    patch = grey[max(0, y0) : box.y + box.h + ctx, max(0, x0) : box.x + box.w + ctx].astype(np.float32)
    ph, pw = patch.shape
    m = cv2.getRotationMatrix2D((pw / 2, ph / 2), angle, k)
    out_w, out_h = int(round(pw * k)), int(round(ph * k))
    m[:, 2] += (out_w / 2 - pw / 2, out_h / 2 - ph / 2)
    face = cv2.warpAffine(patch, m, (out_w, out_h), flags=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
    yy, xx = np.mgrid[0:out_h, 0:out_w]
    r = np.hypot((xx - out_w / 2) / (out_w / 2), (yy - out_h / 2) / (out_h / 2))
    alpha = np.clip((1 - r) / 0.3, 0, 1)  # feathered disc: no square edge for a detector to find
    fx, fy = int(round(cx - out_w / 2)), int(round(cy - out_h / 2))
    h, w = canvas.shape
    xa, ya, xb, yb = max(0, fx), max(0, fy), min(w, fx + out_w), min(h, fy + out_h)
    if xb > xa and yb > ya:
        sub = canvas[ya:yb, xa:xb].astype(np.float32)
        a = alpha[ya - fy : yb - fy, xa - fx : xb - fx]
        canvas[ya:yb, xa:xb] = np.clip(a * face[ya - fy : yb - fy, xa - fx : xb - fx] + (1 - a) * sub, 0, 255)
    # the face box's centre is the patch centre shifted by the box's offset within its patch, scaled and turned
    off = np.array([box.x + box.w / 2 - (max(0, x0) + pw / 2), box.y + box.h / 2 - (max(0, y0) + ph / 2)]) * k
    t = np.deg2rad(angle)
    off = np.array([off[0] * np.cos(t) + off[1] * np.sin(t), -off[0] * np.sin(t) + off[1] * np.cos(t)])
    return Box(int(round(cx + off[0] - size / 2)), int(round(cy + off[1] - size / 2)), size, size)


def one_face(w: int, h: int, size: int, *, angle: float = 0.0, at: tuple[float, float] | None = None, seed: int = 0):
    canvas = background(w, h, seed)
    cx, cy = at if at is not None else (w / 2, h / 2)
    box = paste(canvas, size, cx, cy, angle)
    return Scene(f"{w}×{h}, {size} px face", canvas, [box], angle)


def scenes() -> list[Scene]:
    """The synthetic cases of the issue "Find every face": wide canvases and frames, faces at 10 % of the
    shorter side, in-plane turns, faces at the border, several faces."""
    out = [
        one_face(1024, 512, 98, at=(700, 260)),
        one_face(1920, 1080, 196, at=(1300, 520)),
        one_face(1920, 1080, 206, at=(620, 600)),
        one_face(1920, 1080, 276),
        one_face(640, 480, 48, at=(200, 300)),
        one_face(1920, 1080, 108, at=(1500, 300)),
        one_face(640, 480, 160),
    ]
    out[4].name += " (10 % of the shorter side)"
    out[5].name += " (10 % of the shorter side)"
    for angle in (-30, -15, 15, 30):
        s = one_face(640, 480, 150, angle=angle, seed=1)
        s.name = f"640×480, 150 px face turned {angle:+d}°"
        out.append(s)
    for name, at in (("left", (60, 240)), ("top", (320, 60)), ("right", (580, 240)), ("bottom corner", (570, 410))):
        s = one_face(640, 480, 120, at=at, seed=2)
        s.name = f"640×480, 120 px face at the {name} border"
        out.append(s)
    out.append(group())
    return out


def group(w: int = 1280, h: int = 720, seed: int = 3) -> Scene:
    """Eight faces of 80–200 px spread over a 1280×720 canvas."""
    canvas = background(w, h, seed)
    spots = [(160, 180, 120), (480, 170, 90), (800, 200, 150), (1120, 180, 100)]
    spots += [(180, 520, 200), (520, 540, 80), (840, 520, 130), (1130, 540, 110)]
    boxes = [paste(canvas, size, x, y) for x, y, size in spots]
    return Scene(f"{w}×{h}, group of {len(boxes)} faces (80–200 px)", canvas, boxes)


def matched(found: list[Box], truth: list[Box]) -> int:
    """How many true faces some detection lies on: its centre inside the true box, its size within 2× of it."""
    hits = 0
    for t in truth:
        for f in found:
            cx, cy = f.x + f.w / 2, f.y + f.h / 2
            if t.x <= cx <= t.x + t.w and t.y <= cy <= t.y + t.h and 0.5 <= f.w / t.w <= 2:
                hits += 1
                break
    return hits
