"""Facial expressions of every face in photos, folders, video files and webcams (paper §3, §4.1 at use time).

    from mffcnn.predict import load_model, predict
    model = load_model()                      # the bundled default; or a checkpoint / .onnx / TorchScript file
    result = predict("photos/", model=model)  # a path (image, folder, video), a list of them, a numpy image, a webcam
    for r in result.results:                  # one per image or video frame, in input order
        for face in r.faces:
            print(r.file, r.frame, face.box, face.label, face.score)

How a face is found. As in training (§4.1), Viola-Jones (OpenCV's Haar cascade) finds faces and each is
cropped, grey, resized to 60×60 exactly as the model's training data was: the detector settings and crop
margin come from the checkpoint's Preprocessing. `predict` always detects, also for models trained on
datasets that come already cropped (CK+48: detect_face=False): their users bring whole photos, not crops.
Such a model's crop framing is checked against the detector by bench/train_default_model.py (it stores
the margin that makes a Haar box look like a CK+48 crop). Inputs that already are face crops take
`detect=False` (`--no-detect`): the whole image is then the face.

Every face in a frame is classified, not only the largest, and faces of many images or frames go through
the network together in batches. Nothing is dropped silently: an image without a face is a result with
status "no_face"; an unreadable file (corrupt, not an image) is a result with status "unreadable", a
warning, and a count in the summary.
"""

from __future__ import annotations

import json
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

import cv2
import numpy as np

from mffcnn.data.face import Box, DetectorSettings, crop_box, detect_faces
from mffcnn.data.images import IMAGE_SUFFIXES, ImageError, read_image, to_grey_uint8
from mffcnn.errors import MffcnnError, warn

if TYPE_CHECKING:
    from mffcnn.data.preprocess import Preprocessing

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
DEFAULT_MODEL = WEIGHTS_DIR / "default.safetensors"
SAMPLE_IMAGE = Path(__file__).resolve().parent / "samples" / "astronaut.png"  # NASA, public domain
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp"}
DEFAULT_BATCH = 128
_FLUSH_PIXELS = 50_000_000  # colour pixels of frames held for --save (≈150 MB) before a partial batch is classified


# ----------------------------------------------------------------------------------------------------------
# Models: a checkpoint (PyTorch), an ONNX file (ONNX Runtime) or a TorchScript file, behind one interface.


class Model:
    """A loaded classifier: its class names and preprocessing, and faces → probabilities."""

    def __init__(self, *, class_names: list[str], preprocessing: "Preprocessing", info: dict, backend: str,
                 path: Path, run: Callable[[np.ndarray], np.ndarray]):
        self.class_names = list(class_names)
        self.preprocessing = preprocessing
        self.info = info
        self.backend = backend  # "pytorch", "onnx" or "torchscript"
        self.path = path
        self._run = run

    def probabilities(self, faces: np.ndarray) -> np.ndarray:
        """(n, S, S) uint8 face crops → (n, C) float32 class probabilities."""
        if len(faces) == 0:
            return np.zeros((0, len(self.class_names)), np.float32)
        x = np.ascontiguousarray(faces, dtype=np.float32)[:, None]  # (n, 1, S, S), 0–255
        return np.asarray(self._run(x), dtype=np.float32)

    def predict(self, inputs, **options) -> "Predictions":
        """`predict(inputs, model=self, **options)`."""
        return predict(inputs, model=self, **options)

    def describe(self) -> dict:
        """What the output files say about the model that made them."""
        info = self.info or {}
        return {
            "path": str(self.path),
            "bundled": self.path.resolve() == DEFAULT_MODEL.resolve(),
            "backend": self.backend,
            "class_names": self.class_names,
            "trained_on": info.get("trained_on") or info.get("dataset"),
            "preprocessing": self.preprocessing.to_dict(),
        }

    def __repr__(self) -> str:
        return f"Model({str(self.path)!r}, backend={self.backend!r}, classes={self.class_names})"


def resolve_model_path(path: str | Path | None) -> Path:
    """None → the bundled default model, with a clear error when an install lacks it."""
    if path is None:
        if not DEFAULT_MODEL.is_file():
            raise MffcnnError(f"the bundled model is missing from this install ({DEFAULT_MODEL}); "
                              "reinstall mffcnn or pass --model PATH")
        return DEFAULT_MODEL
    path = Path(path).expanduser()
    if not path.is_file():
        raise MffcnnError(f"model {str(path)!r} does not exist")
    return path


def _sniff(path: Path) -> str:
    """Which kind of model file this is, from its first bytes (suffixes lie)."""
    with open(path, "rb") as f:
        head = f.read(9)
    if head.startswith(b"PK\x03\x04"):
        return "torchscript"  # a zip archive
    if len(head) == 9 and head[8:9] == b"{":
        return "safetensors"  # 8-byte header length, then the JSON header
    if path.suffix.lower() == ".onnx":
        return "onnx"
    return "safetensors"  # let the checkpoint loader explain what is wrong with it


def load_model(path: str | Path | None = None, *, threads: int | None = None) -> Model:
    """Load the bundled model (path=None), an mffcnn checkpoint (.safetensors), an exported ONNX file
    (run with ONNX Runtime) or an exported TorchScript file. None of them unpickles code."""
    path = resolve_model_path(path)
    kind = _sniff(path)
    if kind == "onnx":
        return _load_onnx(path, threads=threads)
    if kind == "torchscript":
        return _load_torchscript(path, threads=threads)
    return _load_checkpoint(path, threads=threads)


def _load_checkpoint(path: Path, *, threads: int | None) -> Model:
    import torch

    from mffcnn.export import InferenceModel
    from mffcnn.train.checkpoint import load_checkpoint

    if threads:
        torch.set_num_threads(threads)
    ckpt = load_checkpoint(path)
    # channels_last: oneDNN's convolutions run about 1.8× faster on batches in that layout (bench/speed.py).
    net = InferenceModel(ckpt.model, ckpt.preprocessing.normalisation).eval().to(memory_format=torch.channels_last)

    def run(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return net(torch.from_numpy(x).contiguous(memory_format=torch.channels_last)).numpy()

    return Model(class_names=ckpt.class_names, preprocessing=ckpt.preprocessing, info=ckpt.info,
                 backend="pytorch", path=path, run=run)


def _from_metadata(path: Path, raw: str | None) -> tuple[list[str], "Preprocessing", dict]:
    from mffcnn.data.preprocess import Preprocessing

    try:
        meta = json.loads(raw) if raw else None
    except json.JSONDecodeError:
        meta = None
    if not meta or meta.get("format") != "mffcnn-checkpoint":
        raise MffcnnError(f"{path} was not exported by mffcnn export (it carries no class names or preprocessing)")
    try:
        return list(meta["class_names"]), Preprocessing.from_dict(meta["preprocessing"]), meta.get("info", {})
    except (KeyError, TypeError, ValueError) as e:
        raise MffcnnError(f"{path}: its mffcnn metadata is damaged ({e})") from None


def _load_onnx(path: Path, *, threads: int | None) -> Model:
    try:
        import onnxruntime as ort
    except ImportError:
        raise MffcnnError("running an ONNX model needs onnxruntime: pip install onnxruntime") from None
    options = ort.SessionOptions()
    options.log_severity_level = 3  # no warnings about unused initialisers on stderr
    # Idle worker threads sleep instead of spinning: on a machine shared with other work (the usual case for
    # an application) spinning threads fight for the cores; measured in bench/speed.py.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads:
        options.intra_op_num_threads = threads
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own exception types for bad files
        raise MffcnnError(f"{path} is not a readable ONNX model ({str(e).splitlines()[0][:200]})") from None
    class_names, preprocessing, info = _from_metadata(path, session.get_modelmeta().custom_metadata_map.get("mffcnn"))
    input_name = session.get_inputs()[0].name

    def run(x: np.ndarray) -> np.ndarray:
        return session.run(None, {input_name: x})[0]

    return Model(class_names=class_names, preprocessing=preprocessing, info=info, backend="onnx", path=path, run=run)


def _load_torchscript(path: Path, *, threads: int | None) -> Model:
    import torch

    if threads:
        torch.set_num_threads(threads)
    import warnings

    extra = {"mffcnn.json": ""}
    try:
        # TorchScript runs in its own interpreter, not Python's unpickler; still, load only files you trust.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # PyTorch 2.10+ deprecates TorchScript
            net = torch.jit.load(str(path), map_location="cpu", _extra_files=extra).eval()
    except Exception as e:  # torch raises RuntimeError or others for foreign zips
        why = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise MffcnnError(f"{path} is not a TorchScript file from mffcnn export ({why})") from None
    raw = extra["mffcnn.json"]
    class_names, preprocessing, info = _from_metadata(path, raw.decode() if isinstance(raw, bytes) else raw)

    def run(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return net(torch.from_numpy(x)).numpy()

    return Model(class_names=class_names, preprocessing=preprocessing, info=info, backend="torchscript",
                 path=path, run=run)


# ----------------------------------------------------------------------------------------------------------
# Results: plain dataclasses that turn into JSON and CSV.


@dataclass
class Face:
    box: list[int]  # [x, y, w, h] in the image's own pixels
    label: str
    score: float  # probability of the label
    probabilities: dict[str, float]  # every class, in the model's order


@dataclass
class FrameResult:
    """One image, one video frame, or one input that could not be used."""

    file: str  # the path, "webcam:N" or "<array N>"
    frame: int | None = None  # video or webcam frame index, from 0 (None for photos)
    time: float | None = None  # seconds from the start of the video (None for photos)
    width: int = 0
    height: int = 0
    status: str = "ok"  # "ok", "no_face" or "unreadable"
    error: str | None = None  # why a file was unreadable
    faces: list[Face] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = asdict(self)
        if d["error"] is None:
            del d["error"]
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
    seconds: float = 0.0

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
            parts.append(f"{self.images_without_faces} image{'' if self.images_without_faces == 1 else 's'} "
                         "without a face")
        if self.frames:
            parts.append(f"{self.frames_without_faces} frame{'' if self.frames_without_faces == 1 else 's'} "
                         "without a face")
        parts.append(n(self.unreadable, "unreadable file"))
        return "; ".join(parts) + f" ({self.seconds:.1f} s)"


@dataclass
class Predictions:
    results: list[FrameResult]
    summary: Summary
    class_names: list[str]
    model: dict

    def to_dict(self) -> dict:
        return {
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
                rows.append({**base, "face": None, "x": None, "y": None, "w": None, "h": None, "label": "",
                             "score": None, **{f"p_{c}": None for c in self.class_names}})
            for i, f in enumerate(r.faces):
                x, y, w, h = f.box
                rows.append({**base, "face": i, "x": x, "y": y, "w": w, "h": h, "label": f.label,
                             "score": f.score, **{f"p_{c}": f.probabilities[c] for c in self.class_names}})
        return rows


# ----------------------------------------------------------------------------------------------------------
# Inputs: what a path, folder, video, array or webcam index turns into.


@dataclass
class _Source:
    kind: str  # "image", "video", "array", "webcam", "unusable"
    name: str
    path: Path | None = None
    array: np.ndarray | None = None
    index: int | None = None
    reason: str | None = None
    relative: str | None = None  # where --save puts its output, relative to the output folder


def parse_webcam(value) -> int | None:
    """0, "0" (with webcam=True) or "webcam:0" → 0; anything else → None."""
    if isinstance(value, str) and value.lower().startswith("webcam:"):
        index = value.split(":", 1)[1]
        if not index.isdigit():
            raise MffcnnError(f"webcam index must be a number, got {value!r} (e.g. webcam:0)")
        return int(index)
    return None


def _sources(inputs, *, recursive: bool) -> list[_Source]:
    if isinstance(inputs, (str, Path, np.ndarray, int)):
        inputs = [inputs]
    sources: list[_Source] = []
    arrays = 0
    for item in inputs:
        if isinstance(item, np.ndarray):
            sources.append(_Source("array", f"<array {arrays}>", array=item, relative=f"array_{arrays}.png"))
            arrays += 1
            continue
        if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            sources.append(_Source("webcam", f"webcam:{int(item)}", index=int(item)))
            continue
        cam = parse_webcam(item) if isinstance(item, str) else None
        if cam is not None:
            sources.append(_Source("webcam", f"webcam:{cam}", index=cam))
            continue
        path = Path(item).expanduser()
        if path.is_dir():
            found = sorted(p for p in (path.rglob("*") if recursive else path.glob("*")) if p.is_file())
            if not found:
                warn(f"{path}: no files in this folder")
            for p in found:
                sources.append(_classify(p, p.relative_to(path).as_posix()))
        elif path.is_file():
            sources.append(_classify(path, path.name))
        else:
            raise MffcnnError(f"input {str(item)!r} does not exist")
    return sources


def _classify(path: Path, relative: str) -> _Source:
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return _Source("image", str(path), path=path, relative=relative)
    if suffix in VIDEO_SUFFIXES:
        return _Source("video", str(path), path=path, relative=relative)
    return _Source("unusable", str(path), path=path, reason="not an image or video file (unknown type)")


# ----------------------------------------------------------------------------------------------------------
# Frames → faces → batched classification.


@dataclass
class _Pending:
    result: FrameResult
    boxes: list[Box]
    first: int  # index of its first face in the pending batch
    canvas: np.ndarray | None  # colour frame to annotate (only with save)
    sink: "_Sink | None"


class _Sink:
    """Where annotated frames of one input go: an image file, or a video writer opened on first frame."""

    def __init__(self, path: Path, *, video: bool, fps: float = 25.0):
        self.path, self.video, self.fps = path, video, fps
        self.writer = None

    def write(self, canvas: np.ndarray) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.video:
            ok = cv2.imwrite(str(self.path), canvas)
            if not ok:
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


class _Batcher:
    """Collects faces of many frames and classifies them together; emits frames in input order."""

    def __init__(self, model: Model, batch_size: int):
        self.model, self.batch_size = model, max(1, batch_size)
        self.pending: list[_Pending] = []
        self.crops: list[np.ndarray] = []
        self.held_pixels = 0  # frames kept only to be annotated once their faces are classified

    def add(self, result: FrameResult, boxes: list[Box], crops: list[np.ndarray], canvas, sink) -> list[FrameResult]:
        self.pending.append(_Pending(result, boxes, len(self.crops), canvas, sink))
        self.crops.extend(crops)
        self.held_pixels += canvas.size if canvas is not None else 0
        if len(self.crops) >= self.batch_size or self.held_pixels >= _FLUSH_PIXELS:
            return self.flush()
        return []

    def flush(self) -> list[FrameResult]:
        probs = self.model.probabilities(np.stack(self.crops)) if self.crops else None
        names = self.model.class_names
        done = []
        for p in self.pending:
            for k, box in enumerate(p.boxes):
                row = probs[p.first + k]
                best = int(row.argmax())
                p.result.faces.append(Face(box=box.to_list(), label=names[best], score=round(float(row[best]), 6),
                                           probabilities={c: round(float(v), 6) for c, v in zip(names, row)}))
            if p.sink is not None and p.canvas is not None:
                p.sink.write(annotate(p.canvas, p.result.faces))
            done.append(p.result)
        self.pending, self.crops, self.held_pixels = [], [], 0
        return done


def find_faces(grey: np.ndarray, preprocessing: "Preprocessing", *, detect: bool = True,
               detector: DetectorSettings | None = None) -> tuple[list[Box], list[np.ndarray]]:
    """Boxes and size×size crops of every face in a grey image, cropped as the model's training data was."""
    h, w = grey.shape
    if not detect:
        return [Box(0, 0, w, h)], [preprocessing.resize(grey)]
    boxes = detect_faces(grey, detector or preprocessing.detector)
    boxes.sort(key=lambda b: (b.x, b.y))  # left to right reads better than largest first in outputs
    crops = [crop_box(grey, b, margin=preprocessing.margin, size=preprocessing.size) for b in boxes]
    return boxes, crops


def detector_for_min_face(settings: DetectorSettings, fraction: float) -> DetectorSettings:
    """Detector settings that find faces down to `fraction` of the image's shorter side. The image is shrunk
    to at most max_side before detection; that is raised when needed so such a face keeps ≥ 24 px there (the
    cascade's window), e.g. 0.05 → 640 px, 0.02 → 1600 px: small faces in group photos cost detection time."""
    if not 0 < fraction <= 1:
        raise MffcnnError("the smallest face is a fraction of the image's shorter side, in (0, 1]")
    return replace(settings, min_size=fraction, max_side=max(settings.max_side, int(np.ceil(32 / fraction))))


def collect_faces(images: Iterable[str | Path], *, preprocessing: "Preprocessing") -> np.ndarray:
    """Every face of some image files as (n, S, S) uint8 crops (for export's parity check and benchmarks)."""
    crops = []
    for path in images:
        try:
            crops += find_faces(to_grey_uint8(read_image(path)), preprocessing)[1]
        except ImageError as e:
            warn(f"{path}: {e}; skipped")
    size = preprocessing.size
    return np.stack(crops) if crops else np.zeros((0, size, size), np.uint8)


def predict(
    inputs,
    *,
    model: Model | str | Path | None = None,
    batch_size: int = DEFAULT_BATCH,
    detect: bool = True,
    detector: DetectorSettings | None = None,
    recursive: bool = True,
    video_stride: int = 1,
    max_frames: int | None = None,
    save_dir: str | Path | None = None,
    progress: bool = False,
    on_frame: Callable[[FrameResult], None] | None = None,
) -> Predictions:
    """Classify every face in `inputs`: a path (image, folder — recursive —, video file), a list of them, a
    numpy image (H×W grey or H×W×3 BGR), a webcam index (int, or "webcam:N").

    model: a Model, a path, or None for the bundled default. batch_size: faces per network call.
    detect=False: each image is already a face crop. detector: override the model's detector settings.
    video_stride: classify every n-th video frame. max_frames: stop each video or webcam after that many
    classified frames (a webcam otherwise runs until Ctrl-C). save_dir: write annotated images and videos
    there. on_frame: called with each finished result, in order (live webcam output).
    """
    if batch_size < 1:
        raise MffcnnError("--batch-size must be at least 1")
    if video_stride < 1:
        raise MffcnnError("--video-stride must be at least 1")
    start = time.perf_counter()
    sources = _sources(inputs, recursive=recursive)  # a mistyped path fails before the model loads
    if not sources:
        raise MffcnnError("nothing to predict on: no input files")
    model = model if isinstance(model, Model) else load_model(model)
    save_dir = Path(save_dir) if save_dir is not None else None
    results: list[FrameResult] = []
    summary = Summary()
    batcher = _Batcher(model, batch_size)
    used_names: set[str] = set()

    def emit(done: list[FrameResult]) -> None:
        for r in done:
            if r.status == "ok" and not r.faces:
                r.status = "no_face"
            if r.status == "no_face":
                if r.frame is None:
                    summary.images_without_faces += 1
                    small = max(r.width, r.height) <= 256  # maybe a face crop already, as CK+48's 48×48
                    hint = " (if the images are face crops already, use --no-detect)" if detect and small else ""
                    warn(f"{r.file}: no face found{hint}")
                else:
                    summary.frames_without_faces += 1
            summary.faces += len(r.faces)
            results.append(r)
            if on_frame:
                on_frame(r)

    files = [s for s in sources if s.kind in ("image", "video", "unusable")]
    bar = _progress(len(files), "files", progress and len(files) > 1)
    try:
        for src in sources:
            if src.kind != "webcam":
                summary.files += 1
            if src.kind == "unusable":
                summary.unreadable += 1
                warn(f"{src.name}: {src.reason}; skipped")
                emit(batcher.flush())
                emit([FrameResult(file=src.name, status="unreadable", error=src.reason)])
            elif src.kind in ("image", "array"):
                try:
                    image = read_image(src.path) if src.kind == "image" else np.asarray(src.array)
                    grey = to_grey_uint8(image)
                except ImageError as e:
                    summary.unreadable += 1
                    warn(f"{src.name}: {e}; skipped")
                    emit(batcher.flush())
                    emit([FrameResult(file=src.name, status="unreadable", error=str(e))])
                else:
                    summary.images += 1
                    boxes, crops = find_faces(grey, model.preprocessing, detect=detect, detector=detector)
                    sink = _sink(save_dir, src, used_names, video=False)
                    canvas = _canvas(image) if sink else None
                    h, w = grey.shape
                    emit(batcher.add(FrameResult(file=src.name, width=w, height=h), boxes, crops, canvas, sink))
            else:  # video or webcam
                emit(batcher.flush())
                _run_stream(src, model, batcher, emit, summary, detect=detect, detector=detector,
                            video_stride=video_stride, max_frames=max_frames, save_dir=save_dir,
                            used_names=used_names, progress=progress)
            if src.kind != "array" and src.kind != "webcam":
                bar.update(1)
        emit(batcher.flush())
    finally:
        bar.close()
    summary.seconds = round(time.perf_counter() - start, 3)
    return Predictions(results=results, summary=summary, class_names=model.class_names, model=model.describe())


def _run_stream(src: _Source, model: Model, batcher: _Batcher, emit, summary: Summary, *, detect, detector,
                video_stride, max_frames, save_dir, used_names, progress) -> None:
    webcam = src.kind == "webcam"
    with _quiet_opencv():
        cap = cv2.VideoCapture(src.index) if webcam else cv2.VideoCapture(str(src.path))
    if not cap.isOpened():
        cap.release()
        if webcam:
            raise MffcnnError(f"cannot open webcam {src.index} (no camera at that index, it is in use, "
                              "or this user may not access it)")
        reason = "not a readable video (corrupt, or a codec OpenCV cannot decode)"
        summary.unreadable += 1
        warn(f"{src.name}: {reason}; skipped")
        emit([FrameResult(file=src.name, status="unreadable", error=reason)])
        return
    fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
    fps = fps if 0 < fps < 1000 else 0.0
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0) if not webcam else 0
    sink = _sink(save_dir, src, used_names, video=True, fps=(fps or 25.0) / video_stride)
    bar = _progress(total or None, "frames", progress and not webcam, desc=Path(src.name).name)
    started = time.monotonic()
    index = classified = 0
    try:
        try:
            while max_frames is None or classified < max_frames:
                ok, frame = cap.read()
                if not ok or frame is None:
                    break
                bar.update(1)
                if index % video_stride == 0:
                    grey = to_grey_uint8(frame)
                    boxes, crops = find_faces(grey, model.preprocessing, detect=detect, detector=detector)
                    if webcam:
                        t = time.monotonic() - started
                    else:
                        t = index / fps if fps else cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
                    h, w = grey.shape
                    result = FrameResult(file=src.name, frame=index, time=round(t, 4), width=w, height=h)
                    summary.frames += 1
                    classified += 1
                    done = batcher.add(result, boxes, crops, frame if sink else None, sink)
                    emit(done + batcher.flush() if webcam else done)  # a webcam answers every frame at once
                index += 1
        except KeyboardInterrupt:
            if not webcam:
                raise
            # Ctrl-C is how a webcam run ends: what was seen is still reported and written.
        emit(batcher.flush())
    finally:
        bar.close()
        cap.release()
        if sink:
            sink.close()
    if webcam:
        summary.webcams += 1
    else:
        summary.videos += 1
        if index == 0:
            summary.videos -= 1
            summary.unreadable += 1
            reason = "no frame could be decoded"
            warn(f"{src.name}: {reason}; skipped")
            emit([FrameResult(file=src.name, status="unreadable", error=reason)])


@contextmanager
def _quiet_opencv():
    """Silence OpenCV's and FFmpeg's own stderr chatter ("can't open camera by index", "moov atom not
    found") while a capture opens: predict says what went wrong in one line of its own."""
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET; read when FFmpeg is first used
    log = getattr(getattr(cv2, "utils", None), "logging", None)
    old = log.getLogLevel() if log else None
    if log:
        log.setLogLevel(log.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        if log:
            log.setLogLevel(old)


def _progress(total, unit: str, enabled: bool, desc: str | None = None):
    from tqdm import tqdm

    return tqdm(total=total, unit=unit[:-1] if unit.endswith("s") else unit, desc=desc or "predict",
                disable=not enabled, leave=False, file=sys.stderr)


def _sink(save_dir: Path | None, src: _Source, used: set[str], *, video: bool, fps: float = 25.0) -> _Sink | None:
    if save_dir is None:
        return None
    if src.kind == "webcam":
        rel = f"webcam_{src.index}.mp4"
    else:
        rel = src.relative or Path(src.name).name
        suffix = Path(rel).suffix.lower()
        if video:
            rel = str(Path(rel).with_suffix(".mp4"))
        elif suffix not in {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}:
            rel = str(Path(rel).with_suffix(".png"))
    stem, n = rel, 2
    while rel in used:  # two inputs with the same name (from different folders) must not overwrite each other
        rel = str(Path(stem).with_name(f"{Path(stem).stem}_{n}{Path(stem).suffix}"))
        n += 1
    used.add(rel)
    return _Sink(save_dir / rel, video=video, fps=fps)


def _canvas(image: np.ndarray) -> np.ndarray:
    """An 8-bit BGR copy of any decoded image, to draw on."""
    if image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3:
        return image.copy()
    if image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return cv2.cvtColor(to_grey_uint8(image), cv2.COLOR_GRAY2BGR)


def annotate(image: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
    """A copy of an image (grey or BGR) with each face's box, label and score drawn on it."""
    canvas = _canvas(image)
    h, w = canvas.shape[:2]
    thick = max(1, round(min(h, w) / 300))
    for f in faces:
        x, y, bw, bh = f.box
        cv2.rectangle(canvas, (x, y), (x + bw, y + bh), (0, 220, 0), thick, cv2.LINE_AA)
        text = f"{f.label} {f.score:.2f}"
        scale = max(0.4, bw / 220)
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        top = y - th - base - 2 * thick if y - th - base - 2 * thick >= 0 else y + bh  # below the box at the top edge
        cv2.rectangle(canvas, (x, top), (x + tw + 2 * thick, top + th + base + 2 * thick), (0, 220, 0), -1)
        cv2.putText(canvas, text, (x + thick, top + th + thick), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick,
                    cv2.LINE_AA)
    return canvas


# ----------------------------------------------------------------------------------------------------------
# Writers, one per output format (as whisper's get_writer).


class WriteJSON:
    extension = "json"

    def write(self, predictions: Predictions, path: Path) -> None:
        path.write_text(json.dumps(predictions.to_dict(), indent=1, ensure_ascii=False) + "\n")


class WriteCSV:
    extension = "csv"

    def write(self, predictions: Predictions, path: Path) -> None:
        import csv

        fields = ["file", "frame", "time", "status", "face", "x", "y", "w", "h", "label", "score",
                  *(f"p_{c}" for c in predictions.class_names), "error"]
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            for row in predictions.rows():
                writer.writerow({k: ("" if v is None else v) for k, v in row.items()})


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
