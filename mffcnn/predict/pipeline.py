"""The prediction pipeline: inputs → frames → faces → batched classification → results, in input order.

Faces of many images or frames go through the network together in batches (Batcher); each finished
frame is emitted in order, counted in the Summary, and handed to `on_frame` (live webcam output). An
image without a face, or an input that cannot be used, is a result like any other (results.py).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from mffcnn.data.detectors import Settings
from mffcnn.data.face import Box
from mffcnn.data.images import MAX_PIXELS, ImageError, ImageTooLarge, read_image, to_grey_uint8
from mffcnn.errors import MffcnnError, warn
from mffcnn.predict.backends import FLIP, Backend, load_backend
from mffcnn.predict.draw import DEFAULT_FPS, Sink, annotate, canvas, refuse_inputs_in, sink_for
from mffcnn.predict.faces import RESCAN_FRAMES, VideoFaces, choose_detector, find_faces
from mffcnn.predict.results import FrameResult, Interrupted, Predictions, Summary, faces_from
from mffcnn.predict.smoothing import SMOOTHING, Smoother
from mffcnn.predict.sources import Source, list_sources
from mffcnn.predict.timeline import write_timelines
from mffcnn.predict.tracking import Tracker
from mffcnn.progress import progress as progress_bar

DEFAULT_BATCH = 128
FLUSH_PIXELS = 50_000_000  # colour pixels of frames held for --save (≈150 MB) before a partial batch is classified
SMALL_IMAGE = 256  # px: an image without a face this small may be a face crop already (hint: --no-detect)


class Model(Backend):
    """A loaded classifier (mffcnn.load_model()): its class names and preprocessing, faces → probabilities,
    and `predict(inputs)` on photos, folders, videos and webcams."""

    def predict(self, inputs, **options) -> Predictions:
        """`predict(inputs, model=self, **options)`."""
        return predict(inputs, model=self, **options)


def load_model(path: str | Path | None = None, *, threads: int | None = None) -> Model:
    """Load the bundled model (path=None), an mffcnn checkpoint (.safetensors), an exported ONNX file (run with
    ONNX Runtime) or an exported TorchScript file. None of them unpickles code."""
    return load_backend(path, threads=threads, kind=Model)


@dataclass
class Options:
    """How one call of predict finds faces, reads videos and saves (the arguments of predict)."""

    detect: bool = True
    detector: Settings | None = None
    flip: bool = FLIP  # each face's probabilities averaged with its mirror image's (Backend.probabilities)
    video_stride: int = 1
    video_rescan: int = RESCAN_FRAMES  # videos and webcams: a full face search at least every n-th frame (VideoFaces)
    max_frames: int | None = None
    save_dir: Path | None = None
    progress: bool = False
    max_pixels: int | None = MAX_PIXELS
    track: bool = True  # videos and webcams: a track id per person (tracking.py)
    smoothing: float = SMOOTHING  # s: τ of each track's smoothed probabilities (smoothing.py); 0: off


@dataclass
class _Pending:
    result: FrameResult
    boxes: list[Box]
    first: int  # index of its first face in the pending batch
    canvas: np.ndarray | None  # colour frame to annotate (only with save)
    sink: Sink | None
    tracks: list[int | None] | None = None  # the boxes' track ids (videos and webcams)
    smoother: Smoother | None = None  # its input's smoother, applied as the frame is classified, in order


class Batcher:
    """Collects faces of many frames and classifies them together; returns frames in input order."""

    def __init__(self, model: Backend, batch_size: int, flip: bool = FLIP):
        self.model, self.batch_size, self.flip = model, max(1, batch_size), flip
        self.pending: list[_Pending] = []
        self.crops: list[np.ndarray] = []
        self.held_pixels = 0  # frames kept only to be annotated once their faces are classified

    def add(
        self, result: FrameResult, boxes: list[Box], crops: list[np.ndarray], frame, sink, tracks=None, smoother=None
    ) -> list[FrameResult]:
        self.pending.append(_Pending(result, boxes, len(self.crops), frame, sink, tracks, smoother))
        self.crops.extend(crops)
        self.held_pixels += frame.size if frame is not None else 0
        if len(self.crops) >= self.batch_size or self.held_pixels >= FLUSH_PIXELS:
            return self.flush()
        return []

    def flush(self) -> list[FrameResult]:
        probs = self.model.probabilities(np.stack(self.crops), flip=self.flip) if self.crops else None
        names = self.model.class_names
        done = []
        for p in self.pending:
            if p.boxes:
                rows = probs[p.first : p.first + len(p.boxes)]
                faces = faces_from([b.to_list() for b in p.boxes], rows, names, p.tracks)
                if p.smoother is not None:
                    p.smoother.smooth(p.result.time or 0.0, faces, names)
                p.result.faces += faces
            if p.sink is not None and p.canvas is not None:
                p.sink.write(annotate(p.canvas, p.result.faces))
            done.append(p.result)
        self.pending, self.crops, self.held_pixels = [], [], 0
        return done


class _Run:
    """One call of predict: the model, the batcher, the options, and the results in order with their summary."""

    def __init__(self, model: Backend, batch_size: int, options: Options, on_frame):
        self.model, self.options, self.on_frame = model, options, on_frame
        self.detector = options.detector or choose_detector(model.preprocessing)
        self.batcher = Batcher(model, batch_size, options.flip)
        self.results: list[FrameResult] = []
        self.summary = Summary()
        self.saved_names: set[str] = set()

    def emit(self, done: list[FrameResult]) -> None:
        for r in done:
            if r.status == "ok" and not r.faces:
                r.status = "no_face"
            if r.status == "no_face" and r.frame is None:
                small = max(r.width, r.height) <= SMALL_IMAGE  # maybe a face crop already, as CK+48's 48×48
                hint = (
                    " (if the images are face crops already, use --no-detect)" if self.options.detect and small else ""
                )
                warn(f"{r.file}: no face found{hint}")
            self.summary.add(r)
            self.results.append(r)
            if self.on_frame:
                self.on_frame(r)

    def unusable(self, name: str, reason: str) -> None:
        warn(f"{name}: {reason}; skipped")
        self.emit(self.batcher.flush())  # results stay in input order
        self.emit([FrameResult(file=name, status="unreadable", error=reason)])

    def incomplete(self, name: str, reason: str) -> None:
        """A video that ended early: its frames are results; one more, status "incomplete", says so."""
        warn(f"{name}: {reason} could be decoded")
        self.emit([FrameResult(file=name, status="incomplete", error=f"{reason} could be decoded")])

    def faces(self, grey: np.ndarray):
        return find_faces(grey, self.model.preprocessing, detect=self.options.detect, detector=self.detector)

    def image(self, src: Source) -> None:
        try:
            image = (
                read_image(src.path, max_pixels=self.options.max_pixels, strict_jpeg=True)
                if src.kind == "image"
                else np.asarray(src.array)
            )
            grey = to_grey_uint8(image)
        except ImageTooLarge as e:
            self.unusable(src.name, f"{e} (--max-megapixels raises the limit)")
            return
        except ImageError as e:
            self.unusable(src.name, str(e))
            return
        boxes, crops = self.faces(grey)
        sink = sink_for(self.options.save_dir, src, self.saved_names, video=False)
        h, w = grey.shape
        self.emit(
            self.batcher.add(
                FrameResult(file=src.name, width=w, height=h), boxes, crops, canvas(image) if sink else None, sink
            )
        )

    def stream(self, src: Source) -> None:
        """Every video_stride-th frame of a video file or a webcam (until max_frames, Ctrl-C or its end)."""
        webcam = src.kind == "webcam"
        with _quiet_opencv():
            cap = cv2.VideoCapture(src.index) if webcam else cv2.VideoCapture(str(src.path))
        if not cap.isOpened():
            cap.release()
            if webcam:
                raise MffcnnError(
                    f"cannot open webcam {src.index} (no camera at that index, it is in use, "
                    "or this user may not access it)"
                )
            self.unusable(src.name, "not a readable video (corrupt, or a codec OpenCV cannot decode)")
            return
        self.emit(self.batcher.flush())
        fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
        fps = fps if 0 < fps < 1000 else 0.0
        stride, limit = self.options.video_stride, self.options.max_frames
        sink = sink_for(self.options.save_dir, src, self.saved_names, video=True, fps=(fps or DEFAULT_FPS) / stride)
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0) if not webcam else 0
        tracker = Tracker((fps or DEFAULT_FPS) / stride) if self.options.track else None
        faces = VideoFaces(
            self.model.preprocessing,
            detect=self.options.detect,
            detector=self.detector,
            rescan=self.options.video_rescan,
        )
        smoother = Smoother(self.options.smoothing) if tracker and self.options.smoothing > 0 else None
        bar = progress_bar(
            total or None,
            desc=Path(src.name).name,
            unit="frame",
            disable=not self.options.progress or webcam,
            leave=False,
        )
        started = time.monotonic()
        index = classified = 0
        try:
            try:
                while limit is None or classified < limit:
                    ok, frame = cap.read()
                    if not ok or frame is None:
                        break
                    bar.update(1)
                    if index % stride == 0:
                        grey = to_grey_uint8(frame)
                        t = (
                            time.monotonic() - started
                            if webcam
                            else (index / fps if fps else cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0)
                        )
                        h, w = grey.shape
                        result = FrameResult(file=src.name, frame=index, time=round(t, 4), width=w, height=h)
                        classified += 1
                        boxes, crops = faces(grey)
                        tracks = tracker.update(boxes) if tracker else None
                        done = self.batcher.add(result, boxes, crops, frame if sink else None, sink, tracks, smoother)
                        self.emit(done + self.batcher.flush() if webcam else done)  # a webcam answers at once
                    index += 1
            except KeyboardInterrupt:
                if not webcam:
                    raise
                # Ctrl-C is how a webcam run ends: what was seen is still reported and written.
            self.emit(self.batcher.flush())
        finally:
            bar.close()
            cap.release()
            if sink:
                sink.close()
        if index == 0 and not webcam:
            self.unusable(src.name, "no frame could be decoded")
        elif webcam:
            self.summary.webcams += 1
        else:
            self.summary.videos += 1
            if (limit is None or classified < limit) and index < total:
                # The container announced more frames than could be decoded: a truncated or damaged file.
                self.incomplete(src.name, f"incomplete video: {index} of the {total} frames its container announces")


def predict(
    inputs,
    *,
    model: Backend | str | Path | None = None,
    batch_size: int = DEFAULT_BATCH,
    detect: bool = True,
    detector: Settings | None = None,
    flip: bool = FLIP,
    recursive: bool = True,
    video_stride: int = 1,
    video_rescan: int = RESCAN_FRAMES,
    max_frames: int | None = None,
    save_dir: str | Path | None = None,
    progress: bool = False,
    on_frame: Callable[[FrameResult], None] | None = None,
    max_pixels: int | None = MAX_PIXELS,
    track: bool = True,
    smoothing: float = SMOOTHING,
) -> Predictions:
    """Classify every face in `inputs`: a path (image, folder — recursive —, video file), a list of them, a
    numpy image (H×W grey or H×W×3 BGR), a webcam index (int, or "webcam:N").

    model: a Model, a path, or None for the bundled default. batch_size: faces per network call.
    detect=False: each image is already a face crop. detector: the face detector's settings (DetectorSettings:
    Haar, BlazeFaceSettings: BlazeFace; None: BlazeFace with the checkpoint's settings, faces.choose_detector).
    flip: average each face's probabilities with its mirror image's (on by default, backends.FLIP; twice the
    network's time; recorded in the output's model description). video_stride: classify every n-th video
    frame. video_rescan: in videos and webcams, search a frame in full at least every n-th classified frame,
    and in between only near the faces of the frame before and for large faces (faces.VideoFaces; 1: every
    frame in full). max_frames: stop each video or webcam after that many classified frames (a webcam
    otherwise runs until Ctrl-C). save_dir: write annotated images and videos there. on_frame: called with
    each finished result, in order (live webcam output). max_pixels: an image file with more pixels (read
    from its header, before decoding) is an unreadable file (None: no limit).
    track: give each face of a video or webcam its person's track id. smoothing: τ in seconds of each track's
    smoothed probabilities (0: none). With save_dir, each track's timeline is plotted there too (timeline.py).
    """
    if batch_size < 1:
        raise MffcnnError("--batch-size must be at least 1")
    if video_stride < 1:
        raise MffcnnError("--video-stride must be at least 1")
    if video_rescan < 1:
        raise MffcnnError("--video-rescan must be at least 1")
    if smoothing < 0:
        raise MffcnnError("--smooth is a time constant in seconds, 0 or more")
    start = time.perf_counter()
    sources = list_sources(inputs, recursive=recursive)  # a mistyped path fails before the model loads
    if not sources:
        raise MffcnnError("nothing to predict on: no input files")
    refuse_inputs_in(Path(save_dir) if save_dir is not None else None, sources)
    model = model if isinstance(model, Backend) else load_model(model)
    options = Options(
        detect=detect,
        detector=detector,
        flip=flip,
        video_stride=video_stride,
        video_rescan=video_rescan,
        max_frames=max_frames,
        save_dir=Path(save_dir) if save_dir is not None else None,
        progress=progress,
        max_pixels=max_pixels,
        track=track,
        smoothing=smoothing,
    )
    run = _Run(model, batch_size, options, on_frame)
    files = [s for s in sources if s.kind in ("image", "video", "unusable")]
    bar = progress_bar(len(files), desc="predict", unit="file", disable=not (progress and len(files) > 1), leave=False)
    done = 0  # sources finished
    try:
        for src in sources:
            if src.kind != "webcam":
                run.summary.files += 1
            if src.kind == "unusable":
                run.unusable(src.name, src.reason)
            elif src.kind in ("image", "array"):
                run.image(src)
            else:
                run.stream(src)
            done += 1
            if src in files:
                bar.update(1)
        run.emit(run.batcher.flush())
    except KeyboardInterrupt:
        # Ctrl-C: what was read is classified and returned, marked partial, with every input not reached.
        run.emit(run.batcher.flush())
        _not_done(run, sources[done:])
        run.summary.seconds = round(time.perf_counter() - start, 3)
        raise Interrupted(_predictions(run, model, partial=True)) from None
    finally:
        bar.close()
    run.summary.seconds = round(time.perf_counter() - start, 3)
    result = _predictions(run, model)
    if options.save_dir is not None:
        write_timelines(result.tracks, options.save_dir)
    return result


def _predictions(run: _Run, model: Backend, *, partial: bool = False) -> Predictions:
    return Predictions(
        results=run.results,
        summary=run.summary,
        class_names=model.class_names,
        model={**model.describe(), "flip": run.options.flip},
        partial=partial,
    )


def _not_done(run: _Run, sources: list[Source]) -> None:
    """The inputs an interrupted run did not reach (or reached but did not finish) as "not_done" results."""
    for i, src in enumerate(sources):
        if src.kind == "webcam":
            continue
        if i > 0:
            run.summary.files += 1
        started = i == 0 and any(r.file == src.name for r in run.results)
        if started and src.kind != "video":
            continue  # an image whose result was emitted just before Ctrl-C: it is done
        why = "interrupted while reading it: later frames not classified" if started else "interrupted before it"
        run.emit([FrameResult(file=src.name, status="not_done", error=why)])


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
