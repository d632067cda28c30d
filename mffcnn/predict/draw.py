"""Annotated output: each face's box, label and score drawn on its image or video frame (`--save`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from mffcnn.data.images import to_grey_uint8
from mffcnn.errors import warn
from mffcnn.predict.results import Face
from mffcnn.predict.sources import Source

DEFAULT_FPS = 25.0  # for a video or webcam that does not say its frame rate
# Image formats OpenCV writes (a subset of data.images.IMAGE_SUFFIXES); other inputs are saved as PNG.
WRITABLE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
BOX_COLOUR = (0, 220, 0)  # BGR


class Sink:
    """Where annotated frames of one input go: an image file, or a video writer opened on the first frame."""

    def __init__(self, path: Path, *, video: bool, fps: float = DEFAULT_FPS):
        self.path, self.video, self.fps = path, video, fps
        self.writer = None

    def write(self, canvas: np.ndarray) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.video:
            if not cv2.imwrite(str(self.path), canvas):
                warn(f"{self.path}: could not write the annotated image")
            return
        if self.writer is None:
            h, w = canvas.shape[:2]
            self.writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (w, h))
            if not self.writer.isOpened():
                self.path = self.path.with_suffix(".avi")  # MJPG in AVI works without an MPEG-4 encoder
                self.writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"MJPG"), self.fps, (w, h))
        self.writer.write(canvas)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.release()
            self.writer = None


def sink_for(
    save_dir: Path | None, src: Source, used: set[str], *, video: bool, fps: float = DEFAULT_FPS
) -> Sink | None:
    """The Sink of one input under save_dir (None: nothing is saved); names already used get _2, _3, …"""
    if save_dir is None:
        return None
    if src.kind == "webcam":
        rel = f"webcam_{src.index}.mp4"
    else:
        rel = src.relative or Path(src.name).name
        if video:
            rel = str(Path(rel).with_suffix(".mp4"))
        elif Path(rel).suffix.lower() not in WRITABLE_SUFFIXES:
            rel = str(Path(rel).with_suffix(".png"))
    stem, n = rel, 2
    while rel in used:  # two inputs with the same name (from different folders) must not overwrite each other
        rel = str(Path(stem).with_name(f"{Path(stem).stem}_{n}{Path(stem).suffix}"))
        n += 1
    used.add(rel)
    return Sink(save_dir / rel, video=video, fps=fps)


def canvas(image: np.ndarray) -> np.ndarray:
    """An 8-bit BGR copy of any decoded image, to draw on."""
    if image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3:
        return image.copy()
    if image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return cv2.cvtColor(to_grey_uint8(image), cv2.COLOR_GRAY2BGR)


def annotate(image: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
    """A copy of an image (grey or BGR) with each face's box, label and score drawn on it; in a video, its
    track id and the smoothed label and score."""
    out = canvas(image)
    h, w = out.shape[:2]
    thick = max(1, round(min(h, w) / 300))
    for f in faces:
        x, y, bw, bh = f.box
        cv2.rectangle(out, (x, y), (x + bw, y + bh), BOX_COLOUR, thick, cv2.LINE_AA)
        label, score = (f.smoothed_label, f.smoothed_score) if f.smoothed_label else (f.label, f.score)
        text = (f"#{f.track} " if f.track is not None else "") + f"{label} {score:.2f}"  # a video's: smoothed
        scale = max(0.4, bw / 220)
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        top = y - th - base - 2 * thick if y - th - base - 2 * thick >= 0 else y + bh  # below the box at the top edge
        cv2.rectangle(out, (x, top), (x + tw + 2 * thick, top + th + base + 2 * thick), BOX_COLOUR, -1)
        cv2.putText(
            out, text, (x + thick, top + th + thick), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick, cv2.LINE_AA
        )
    return out
