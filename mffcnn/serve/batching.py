"""Faces of concurrent requests classified together: one network call for all the faces that are waiting.

The network costs much less per face in a batch than one face at a time (BENCHMARKS.md, speed: ONNX Runtime
0.3 ms for one face, 0.2 ms per face at batch 100), and a server under load has many requests' faces waiting
at once. The batcher runs the network in one worker thread of its own; while it runs, the faces of new
requests queue, and the next call takes all of them (up to max_batch faces). No timer: a lone request is
never held back to wait for company (the "continuous batching" of inference servers), and under load the
batches grow by themselves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

MAX_BATCH = 256  # faces per network call: beyond ~100 the time per face no longer falls (BENCHMARKS.md)


@dataclass
class BatchStats:
    """What the batcher has done, for /health and the load benchmark: is batching happening?"""

    calls: int = 0  # network calls
    faces: int = 0
    requests: int = 0  # classify() calls answered
    largest: int = 0  # most faces in one call

    def to_dict(self) -> dict:
        mean = self.faces / self.calls if self.calls else 0.0
        return {
            "calls": self.calls,
            "faces": self.faces,
            "requests": self.requests,
            "largest": self.largest,
            "mean_faces_per_call": round(mean, 2),
        }


@dataclass
class _Waiting:
    crops: np.ndarray  # (n, S, S) uint8
    answer: asyncio.Future


class FaceBatcher:
    """`await classify(crops)` → their probabilities, computed together with other requests' faces."""

    def __init__(self, probabilities: Callable[[np.ndarray], np.ndarray], *, max_batch: int = MAX_BATCH):
        self._probabilities = probabilities
        self.max_batch = max(1, max_batch)
        self._waiting: list[_Waiting] = []
        self._running = False
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mffcnn-network")
        self.stats = BatchStats()

    async def classify(self, crops: np.ndarray) -> np.ndarray:
        """(n, S, S) uint8 face crops → (n, C) float32 probabilities."""
        loop = asyncio.get_running_loop()
        answer = loop.create_future()
        self._waiting.append(_Waiting(crops, answer))
        if not self._running:
            self._running = True
            loop.create_task(self._drain())
        return await answer

    async def _drain(self) -> None:
        """Run the network until nothing waits; every call takes all that waits (up to max_batch faces)."""
        loop = asyncio.get_running_loop()
        try:
            while self._waiting:
                taken, faces = [], 0
                while self._waiting and (not taken or faces + len(self._waiting[0].crops) <= self.max_batch):
                    item = self._waiting.pop(0)
                    taken.append(item)
                    faces += len(item.crops)
                batch = np.concatenate([w.crops for w in taken])
                try:
                    probs = await loop.run_in_executor(self._worker, self._probabilities, batch)
                except Exception as e:  # the requests that wait on this call fail with it; the server goes on
                    for w in taken:
                        if not w.answer.done():
                            w.answer.set_exception(e)
                    continue
                self.stats.calls += 1
                self.stats.faces += faces
                self.stats.requests += len(taken)
                self.stats.largest = max(self.stats.largest, faces)
                start = 0
                for w in taken:
                    if not w.answer.done():  # a request whose client left is cancelled
                        w.answer.set_result(probs[start : start + len(w.crops)])
                    start += len(w.crops)
        finally:
            self._running = False

    def close(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)
