"""Steady labels: each track's class probabilities smoothed over time (issue 18).

An exponential moving average with a time constant τ in seconds, per track:

    s(t) = s(t′) + α · (p(t) − s(t′)),   α = 1 − exp(−(t − t′) / τ)

where t′ is the time of the track's previous frame. Counting in seconds, not frames, makes the smoothing the
same at any --video-stride and frame rate, and a track seen again after a gap follows its new face at once
(α → 1). A track starts from its first probabilities. The smoothed label is the most probable class of s.

τ = 0.5 s by default: bench/tracking.py measures label changes per second on a steady face and the delay to
follow a real change for several τ (BENCHMARKS.md "tracking"); 0.5 s is chosen from that trade-off.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SMOOTHING = 0.5  # s: τ, the default time constant (0 turns smoothing off)


def ema(times: Sequence[float], probabilities: np.ndarray, tau: float) -> np.ndarray:
    """The smoothed rows of a (n, C) sequence of probabilities seen at `times` (seconds, increasing)."""
    probabilities = np.asarray(probabilities, dtype=float)
    out = probabilities.copy()
    for i in range(1, len(out)):
        a = _alpha(times[i] - times[i - 1], tau)
        out[i] = out[i - 1] + a * (probabilities[i] - out[i - 1])
    return out


def _alpha(dt: float, tau: float) -> float:
    return 1.0 if tau <= 0 else float(1.0 - np.exp(-max(dt, 0.0) / tau))


class Smoother:
    """The running average of every track of one video or webcam; `update` is called in frame order."""

    def __init__(self, tau: float = SMOOTHING):
        self.tau = tau
        self._last: dict[int, tuple[float, np.ndarray]] = {}

    def update(self, track: int, time: float, probabilities: np.ndarray) -> np.ndarray:
        """The track's smoothed probabilities once it is seen at `time` with these."""
        p = np.asarray(probabilities, dtype=float)
        if track in self._last:
            t0, s0 = self._last[track]
            p = s0 + _alpha(time - t0, self.tau) * (p - s0)
        self._last[track] = (time, p)
        return p

    def smooth(self, time: float, faces: Sequence, class_names: Sequence[str]) -> None:
        """Set the smoothed label, score and probabilities of each tracked face of one frame (results.Face)."""
        for face in faces:
            if face.track is None:
                continue
            s = self.update(face.track, time, np.array([face.probabilities[c] for c in class_names]))
            best = int(s.argmax())
            face.smoothed_label = class_names[best]
            face.smoothed_score = round(float(s[best]), 6)
            face.smoothed_probabilities = {c: round(float(v), 6) for c, v in zip(class_names, s)}
