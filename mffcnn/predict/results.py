"""What `predict` returns — plain dataclasses — and one writer per output format (as whisper's get_writer).

Nothing is dropped silently: an image or frame without a face is a result with status "no_face", an input
that cannot be used (corrupt, not an image, a video that does not open) one with status "unreadable" and
the reason. The Summary counts them all from the results themselves, in one place (Summary.add).

A run stopped by Ctrl-C returns (and the CLI writes) what it has: `partial` is true, and every input it did
not reach is a result with status "not_done", so that no file is missing from predictions.json/csv either.
Files are written to a temporary name in their folder and renamed into place (os.replace is atomic): a
crash or a second Ctrl-C never leaves a half-written predictions file.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from mffcnn.errors import MffcnnError


@dataclass
class Face:
    box: list[int]  # [x, y, w, h] in the image's own pixels
    label: str
    score: float  # probability of the label
    probabilities: dict[str, float]  # every class, in the model's order
    # Videos and webcams (predict/tracking.py, predict/smoothing.py): the person's track id within the input,
    # and the label, score and probabilities smoothed over the track's frames. None for photos, untracked runs,
    # and a face whose track is not confirmed yet.
    track: int | None = None
    smoothed_label: str | None = None
    smoothed_score: float | None = None
    smoothed_probabilities: dict[str, float] | None = None


_VIDEO_ONLY = ("track", "smoothed_label", "smoothed_score", "smoothed_probabilities")


def faces_from(
    boxes: Sequence[list[int]],
    probabilities: np.ndarray,
    class_names: Sequence[str],
    tracks: Sequence[int | None] | None = None,
) -> list[Face]:
    """One Face per box, from its row of class probabilities (n, C): the label is the most probable class."""
    faces = []
    for k, (box, row) in enumerate(zip(boxes, probabilities)):
        best = int(row.argmax())
        faces.append(
            Face(
                box=list(box),
                label=class_names[best],
                score=round(float(row[best]), 6),
                probabilities={c: round(float(v), 6) for c, v in zip(class_names, row)},
                track=tracks[k] if tracks is not None else None,
            )
        )
    return faces


@dataclass
class FrameResult:
    """One image, one video frame, or one input that could not be used."""

    file: str  # the path, "webcam:N" or "<array N>"
    frame: int | None = None  # video or webcam frame index, from 0 (None for photos)
    time: float | None = None  # seconds from the start of the video (None for photos)
    width: int = 0
    height: int = 0
    # "ok", "no_face", "unreadable"; "incomplete": a video that ended before the frames its container announced
    # (after its frames' results); "not_done": the run was interrupted before this input (or during it)
    status: str = "ok"
    error: str | None = None  # why a file was unreadable
    faces: list[Face] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = asdict(self)
        if d["error"] is None:
            del d["error"]
        if self.frame is None:  # a photo's faces keep the keys they had before tracking
            for face in d["faces"]:
                for key in _VIDEO_ONLY:
                    face.pop(key)
        return d


@dataclass
class Summary:
    files: int = 0  # inputs: image and video files, numpy images, and files that could not be used
    images: int = 0
    videos: int = 0
    webcams: int = 0
    frames: int = 0  # video and webcam frames classified
    faces: int = 0
    images_without_faces: int = 0
    frames_without_faces: int = 0
    unreadable: int = 0  # corrupt files, non-images, videos that do not open
    incomplete_videos: int = 0  # videos with fewer decodable frames than their container announced
    not_done: int = 0  # inputs an interrupted run did not reach
    seconds: float = 0.0

    def add(self, r: FrameResult) -> None:
        """Count one finished result."""
        if r.status == "not_done":
            self.not_done += 1
            return
        if r.status == "incomplete":
            self.incomplete_videos += 1
            return
        if r.status == "unreadable":
            self.unreadable += 1
            return
        if r.frame is None:
            self.images += 1
            self.images_without_faces += not r.faces
        else:
            self.frames += 1
            self.frames_without_faces += not r.faces
        self.faces += len(r.faces)

    def line(self) -> str:
        def n(k: int, word: str) -> str:
            return f"{k} {word}{'' if k == 1 else 's'}"

        media = [n(self.images, "image")] if self.images or not (self.videos or self.webcams) else []
        media += [n(self.videos, "video")] if self.videos else []
        media += [n(self.webcams, "webcam")] if self.webcams else []
        head = (f"{n(self.files, 'file')}: " if self.files else "") + ", ".join(media)
        head += f" ({n(self.frames, 'frame')})" if self.frames else ""
        parts = [head, n(self.faces, "face")]
        if self.images:
            parts.append(
                f"{self.images_without_faces} image{'' if self.images_without_faces == 1 else 's'} without a face"
            )
        if self.frames:
            parts.append(
                f"{self.frames_without_faces} frame{'' if self.frames_without_faces == 1 else 's'} without a face"
            )
        parts.append(n(self.unreadable, "unreadable file"))
        if self.incomplete_videos:
            parts.append(n(self.incomplete_videos, "incomplete video"))
        if self.not_done:
            parts.append(f"interrupted: {n(self.not_done, 'input')} not done")
        return "; ".join(parts) + f" ({self.seconds:.1f} s)"


@dataclass
class Predictions:
    results: list[FrameResult]
    summary: Summary
    class_names: list[str]
    model: dict
    partial: bool = False  # stopped by Ctrl-C: the inputs it did not reach are results with status "not_done"

    @property
    def tracks(self) -> list:
        """One timeline.Track per person of each video or webcam: its frames, times, boxes, raw and smoothed
        probabilities, and `summary()` (share of time and onset of each expression)."""
        from mffcnn.predict.timeline import tracks_of  # noqa: PLC0415

        return tracks_of(self.results, self.class_names)

    def to_dict(self) -> dict:
        return {
            "partial": self.partial,
            "model": self.model,
            "class_names": self.class_names,
            "summary": asdict(self.summary),
            "results": [r.to_dict() for r in self.results],
        }

    def rows(self) -> list[dict]:
        """Flat rows, one per face; an image or frame without a face, or an unreadable file, is one row
        with empty face columns (so that it is never silently missing from a table)."""
        rows = []
        for r in self.results:
            base = {"file": r.file, "frame": r.frame, "time": r.time, "status": r.status, "error": r.error or ""}
            if not r.faces:
                rows.append(
                    {
                        **base,
                        "face": None,
                        "x": None,
                        "y": None,
                        "w": None,
                        "h": None,
                        "label": "",
                        "score": None,
                        **{f"p_{c}": None for c in self.class_names},
                        "track": None,
                        "smoothed_label": "",
                        "smoothed_score": None,
                        **{f"s_{c}": None for c in self.class_names},
                    }
                )
            for i, f in enumerate(r.faces):
                x, y, w, h = f.box
                rows.append(
                    {
                        **base,
                        "face": i,
                        "x": x,
                        "y": y,
                        "w": w,
                        "h": h,
                        "label": f.label,
                        "score": f.score,
                        **{f"p_{c}": f.probabilities[c] for c in self.class_names},
                        "track": f.track,
                        "smoothed_label": f.smoothed_label or "",
                        "smoothed_score": f.smoothed_score,
                        **{f"s_{c}": (f.smoothed_probabilities or {}).get(c) for c in self.class_names},
                    }
                )
        return rows


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped predict; `predictions` holds what it did (partial=True, the rest "not_done")."""

    def __init__(self, predictions: Predictions):
        super().__init__()
        self.predictions = predictions


def write_atomically(path: Path, data: bytes) -> None:
    """Write a file under a temporary name in its folder, then rename it into place: readers see the old file
    or the whole new one, never half of it (also when the process is killed mid-write)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def display_name(name: str) -> str:
    """A file name as predictions.json/csv and messages show it. Linux allows names that are not valid UTF-8
    (Python keeps their bytes as surrogates, which UTF-8 output cannot encode); each such byte is shown as
    `\\xNN` (Python's backslashreplace), so every output stays valid UTF-8 and the name stays recognisable.
    Chosen over dropping or replacing the bytes with '?': two names must not become one."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")


class WriteJSON:
    extension = "json"

    def write(self, predictions: Predictions, path: Path) -> None:
        text = json.dumps(predictions.to_dict(), indent=1, ensure_ascii=False) + "\n"
        write_atomically(path, text.encode("utf-8", "backslashreplace"))


class WriteCSV:
    extension = "csv"

    def write(self, predictions: Predictions, path: Path) -> None:
        fields = [
            "file",
            "frame",
            "time",
            "status",
            "face",
            "x",
            "y",
            "w",
            "h",
            "label",
            "score",
            *(f"p_{c}" for c in predictions.class_names),
            "track",
            "smoothed_label",
            "smoothed_score",
            *(f"s_{c}" for c in predictions.class_names),
            "error",
        ]
        f = io.StringIO(newline="")
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for row in predictions.rows():
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
        write_atomically(path, f.getvalue().encode("utf-8", "backslashreplace"))


WRITERS = {"json": WriteJSON, "csv": WriteCSV}
OUTPUT_FORMATS = (*WRITERS, "all")


def get_writer(
    output_format: str, output_dir: str | Path, name: str = "predictions"
) -> Callable[[Predictions], list[Path]]:
    """A function that writes predictions as output_dir/name.{json,csv} and returns the paths written."""
    if output_format not in OUTPUT_FORMATS:
        raise MffcnnError(f"unknown output format {output_format!r}; choose from {', '.join(OUTPUT_FORMATS)}")
    writers = [w() for w in WRITERS.values()] if output_format == "all" else [WRITERS[output_format]()]
    output_dir = Path(output_dir)

    def write_all(predictions: Predictions) -> list[Path]:
        output_dir.mkdir(parents=True, exist_ok=True)
        paths = []
        for w in writers:
            path = output_dir / f"{name}.{w.extension}"
            w.write(predictions, path)
            paths.append(path)
        return paths

    return write_all
