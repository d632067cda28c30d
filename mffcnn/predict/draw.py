"""Annotated output: each face's box, label and score drawn on its image or video frame (`--save`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from mffcnn.data.images import to_grey_uint8
from mffcnn.errors import MffcnnError, warn
from mffcnn.predict.results import Face, write_atomically
from mffcnn.predict.sources import Source

DEFAULT_FPS = 25.0  # for a video or webcam that does not say its frame rate
# Image formats OpenCV writes (a subset of data.images.IMAGE_SUFFIXES); other inputs are saved as PNG.
WRITABLE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
BOX_COLOUR = (0, 220, 0)  # BGR


class Sink:
    """Where annotated frames of one input go: an image file, or a video writer opened on the first frame.

    Nothing appears under the final name half-written: an image is encoded in memory and written atomically,
    a video is written under a hidden temporary name and renamed when it is closed (also when Ctrl-C ends
    the run: the frames written so far make a complete, shorter video)."""

    def __init__(self, path: Path, *, video: bool, fps: float = DEFAULT_FPS):
        self.path, self.video, self.fps = path, video, fps
        self.writer = None

    def write(self, canvas: np.ndarray) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.video:
            ok, encoded = cv2.imencode(self.path.suffix, canvas)
            if not ok:
                warn(f"{self.path}: could not write the annotated image")
                return
            write_atomically(self.path, encoded.tobytes())
            return
        if self.writer is None:
            h, w = canvas.shape[:2]
            self.writer = cv2.VideoWriter(str(self._tmp()), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (w, h))
            if not self.writer.isOpened():
                self.path = self.path.with_suffix(".avi")  # MJPG in AVI works without an MPEG-4 encoder
                self.writer = cv2.VideoWriter(str(self._tmp()), cv2.VideoWriter_fourcc(*"MJPG"), self.fps, (w, h))
        self.writer.write(canvas)

    def _tmp(self) -> Path:
        return self.path.with_name(f".{self.path.stem}.partial{self.path.suffix}")  # the suffix picks the container

    def close(self) -> None:
        if self.writer is not None:
            self.writer.release()
            self.writer = None
            if self._tmp().exists():
                os.replace(self._tmp(), self.path)


def refuse_inputs_in(save_dir: Path | None, sources: Sequence[Source]) -> None:
    """--save writes annotated copies under the inputs' own names: an output folder that holds any input file
    is refused before anything is read. Refusing, rather than writing beside under new names, keeps the
    output folder a plain mirror of the inputs' tree (what --save promises) and a user's photos untouched
    whichever names they have; an output folder inside an input folder that holds no input is allowed."""
    if save_dir is None:
        return
    out = os.path.realpath(save_dir)
    inside = [
        s.name for s in sources if s.path is not None and os.path.commonpath([out, os.path.realpath(s.path)]) == out
    ]
    if inside:
        more = f" and {len(inside) - 1} more" if len(inside) > 1 else ""
        raise MffcnnError(
            f"--output {save_dir} holds inputs ({inside[0]}{more}): --save would write annotated copies over "
            "them; choose a new or empty folder (default: a new runs/predict/expN)"
        )


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
