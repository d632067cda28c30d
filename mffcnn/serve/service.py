"""The work of one POST /predict, off the event loop: headers → decode → faces → shared batches → results.

The model is loaded once and shared by every request. What costs CPU time runs in threads, never on the
event loop, so that a slow image does not stall the other requests: the images' decoding and face detection
in a pool of `threads` workers (the pool's size also caps how many decoded images are in memory at once), the
network in the FaceBatcher's own thread, where the faces of concurrent requests are classified together.

The answer has the schema of `mffcnn predict`'s predictions.json (predict.results.Predictions): one result
per file, with its status ("ok", "no_face", "unreadable") and its faces. A request fails as a whole (an HTTP
error) only when nothing in it could be used: 413 when its images have too many pixels, 415 when none of
its files is an image.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mffcnn.data.detectors import Settings
from mffcnn.data.face import Box
from mffcnn.data.images import ImageError, ImageTooLarge, decode_image, header_pixels, to_grey_uint8
from mffcnn.predict.backends import FLIP, Backend
from mffcnn.predict.faces import find_faces
from mffcnn.predict.results import FrameResult, Predictions, Summary, faces_from
from mffcnn.serve.batching import FaceBatcher
from mffcnn.serve.limits import PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, Limits, RequestError, too_many_pixels
from mffcnn.serve.uploads import Upload

# The formats whose size Pillow reads from the header and OpenCV decodes; anything else is refused (415)
# before a decoder sees it, so that no file escapes the pixel limit.
READABLE = "PNG, JPEG, WebP, BMP, TIFF, GIF, PPM/PGM"
NOT_AN_IMAGE = f"not an image this server reads ({READABLE})"


@dataclass
class _Found:
    """One file after decoding and detection: its size, boxes and crops, or why it cannot be used."""

    width: int = 0
    height: int = 0
    boxes: list[Box] = field(default_factory=list)
    crops: list[np.ndarray] = field(default_factory=list)
    error: str | None = None
    too_large: bool = False


class Service:
    """The shared model, its batcher and the worker threads; `await predict(uploads, …)` per request."""

    def __init__(self, model: Backend, *, limits: Limits, threads: int | None = None, flip: bool = FLIP):
        self.model, self.limits, self.flip = model, limits, flip
        self.workers = max(1, threads or os.cpu_count() or 1)
        self.pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="mffcnn-faces")
        self.batcher = FaceBatcher(functools.partial(model.probabilities, flip=flip))
        self.started = time.time()

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.batcher.close()

    async def predict(
        self, uploads: list[Upload], *, detect: bool = True, detector: Settings | None = None
    ) -> Predictions:
        """Classify every face of every upload; RequestError when none of them can be used."""
        start = time.perf_counter()
        loop = asyncio.get_running_loop()
        pixels = await loop.run_in_executor(self.pool, _header_pixels, uploads)
        known = sum(p for p in pixels if p is not None)
        if known > self.limits.max_pixels:
            raise too_many_pixels(known, self.limits)  # before anything is decoded
        readable = [i for i, p in enumerate(pixels) if p is not None]
        jobs = (loop.run_in_executor(self.pool, self._find, uploads[i].data, detect, detector) for i in readable)
        found = [_Found(error=NOT_AN_IMAGE) for _ in uploads]
        for i, f in zip(readable, await asyncio.gather(*jobs)):
            found[i] = f
        if all(f.error for f in found):
            self._refuse(uploads, found)
        crops = [c for f in found for c in f.crops]
        size = self.model.preprocessing.size
        probs = await self.batcher.classify(np.stack(crops) if crops else np.zeros((0, size, size), np.uint8))
        results, summary, first = [], Summary(files=len(uploads)), 0
        for upload, f in zip(uploads, found):
            r = FrameResult(file=upload.name, width=f.width, height=f.height)
            if f.error:
                r.status, r.error = "unreadable", f.error
            else:
                rows = probs[first : first + len(f.boxes)]
                r.faces = faces_from([b.to_list() for b in f.boxes], rows, self.model.class_names)
                r.status = "ok" if r.faces else "no_face"
                first += len(f.boxes)
            summary.add(r)
            results.append(r)
        summary.seconds = round(time.perf_counter() - start, 4)
        return Predictions(
            results=results, summary=summary, class_names=self.model.class_names, model=self.describe_model()
        )

    def _find(self, data: bytes, detect: bool, detector: Settings | None) -> _Found:
        """Decode one file (pixel limit checked again), find and crop its faces; in a worker thread."""
        try:
            grey = to_grey_uint8(decode_image(data, max_pixels=self.limits.max_pixels))
        except ImageTooLarge as e:
            return _Found(error=str(e), too_large=True)
        except ImageError as e:
            return _Found(error=str(e))
        boxes, crops = find_faces(grey, self.model.preprocessing, detect=detect, detector=detector)
        h, w = grey.shape
        return _Found(width=w, height=h, boxes=boxes, crops=crops)

    @staticmethod
    def _refuse(uploads: list[Upload], found: list[_Found]) -> None:
        """No file of the request could be used: the HTTP error that says why (the first file's reason)."""
        too_large = next((f for f in found if f.too_large), None)
        first = too_large or found[0]
        name = next(u.name for u, f in zip(uploads, found) if f is first)
        status = PAYLOAD_TOO_LARGE if too_large else UNSUPPORTED_MEDIA_TYPE
        code = "too_many_pixels" if too_large else "not_an_image"
        more = f" (and {len(found) - 1} more unusable files)" if len(found) > 1 else ""
        raise RequestError(status, code, f"{name}: {first.error}{more}")

    def describe_model(self) -> dict:
        """The model as predictions.json describes it, without the server's own file paths."""
        described = self.model.describe()
        return {**described, "path": Path(described["path"]).name, "flip": self.flip}

    def model_card(self) -> dict:
        """GET /model: the classes, what the model was trained on, and the licence terms of that data."""
        info = self.model.info or {}
        trained = info.get("trained_on")
        datasets = [
            {k: d.get(k) for k in ("dataset", "images", "class_counts", "licence")}
            for d in (trained if isinstance(trained, list) else [])
            if isinstance(d, dict)
        ]
        return {
            "class_names": self.model.class_names,
            "backend": self.model.backend,
            "file": Path(self.model.path).name,
            "bundled": self.describe_model()["bundled"],
            "trained_on": datasets or info.get("dataset") or trained,
            "licence": info.get("licence")
            or "not stated in the model file; the licences of its training data apply to it",
            "scores": info.get("scores"),
            "quantization": info.get("quantization"),
            "preprocessing": self.model.preprocessing.to_dict(),
            "flip": self.flip,
        }


def _header_pixels(uploads: list[Upload]) -> list[int | None]:
    return [header_pixels(u.data) for u in uploads]
