"""What `predict` reads: paths (images, folders, videos), numpy images and webcams, as a list of Sources."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mffcnn.data.files import files_under
from mffcnn.data.images import IMAGE_SUFFIXES
from mffcnn.errors import MffcnnError, warn
from mffcnn.predict.results import display_name

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp"}


@dataclass
class Source:
    kind: str  # "image", "video", "array", "webcam", "unusable"
    name: str  # the path, "webcam:N" or "<array N>": the `file` of its results
    path: Path | None = None
    array: np.ndarray | None = None
    index: int | None = None  # webcam index
    reason: str | None = None  # why it cannot be used
    relative: str | None = None  # where --save puts its output, relative to the output folder


def parse_webcam(value) -> int | None:
    """ "webcam:0" → 0; anything else → None."""
    if isinstance(value, str) and value.lower().startswith("webcam:"):
        index = value.split(":", 1)[1]
        if not index.isdigit():
            raise MffcnnError(f"webcam index must be a number, got {value!r} (e.g. webcam:0)")
        return int(index)
    return None


def list_sources(inputs, *, recursive: bool) -> list[Source]:
    """The inputs as Sources, folders expanded (sorted); a path that does not exist is an error."""
    if isinstance(inputs, (str, Path, np.ndarray, int)):
        inputs = [inputs]
    sources: list[Source] = []
    arrays = 0
    for item in inputs:
        if isinstance(item, np.ndarray):
            sources.append(Source("array", f"<array {arrays}>", array=item, relative=f"array_{arrays}.png"))
            arrays += 1
            continue
        if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            sources.append(Source("webcam", f"webcam:{int(item)}", index=int(item)))
            continue
        cam = parse_webcam(item) if isinstance(item, str) else None
        if cam is not None:
            sources.append(Source("webcam", f"webcam:{cam}", index=cam))
            continue
        path = Path(item).expanduser()
        if path.is_dir():
            found = files_under(path, recursive=recursive)  # says what it cannot list
            if not found:
                warn(f"{path}: no files in this folder")
            sources += [classify(p, p.relative_to(path).as_posix()) for p in found]
        elif path.is_file():
            sources.append(classify(path, path.name))
        else:
            raise MffcnnError(f"input {str(item)!r} does not exist")
    return sources


def classify(path: Path, relative: str) -> Source:
    """An image, a video or an unusable file, by its suffix (the decoder has the last word). Its name, and
    where --save writes it, are display_name's: valid UTF-8 whatever bytes the file name has."""
    suffix = path.suffix.lower()
    name, relative = display_name(str(path)), display_name(relative)
    if suffix in IMAGE_SUFFIXES:
        return Source("image", name, path=path, relative=relative)
    if suffix in VIDEO_SUFFIXES:
        return Source("video", name, path=path, relative=relative)
    return Source("unusable", name, path=path, reason="not an image or video file (unknown type)")
