"""Tracking: a stable `track` id per person across the frames of one video or webcam (issue 18).

The stage takes each frame's face boxes, in frame order, and gives every box a track id (1, 2, … per input);
a person who leaves and comes back later than `memory` seconds gets a new id (there is no appearance model
to recognise them). It sees only the frames predict classifies: with --video-stride N the tracker gets every
N-th frame, and its memory is counted in seconds, so it lasts as long at any stride.

The tracker is norfair's (Tryolabs; the maintained fork `norfair-enough` on PyPI, imported as `norfair`): a
Kalman filter per track and IoU matching, with nothing to learn. Chosen by measurement (bench/tracker_choice.py,
BENCHMARKS.md "tracker choice"), against supervision's ByteTrack on the clips of data/clips.py: the same
identity switches on the made clips, and what it brings in: only itself (NumPy, SciPy and rich are here
already). supervision 0.26 (the last with ByteTrack) and Roboflow's `trackers` (its successor) require
`opencv-python`, whose cv2 would overwrite opencv-python-headless's in the same environment; supervision ≥
0.27 has no tracker; norfair 2.3 (the original) pins NumPy < 2. norfair is imported on the first video only,
so `mffcnn predict photo.jpg` does not pay for its start-up (SciPy's stats).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mffcnn.data.face import Box

# Choices where the issue is silent (measured on the made clips, bench/tracker_choice.py):
MEMORY = 1.0  # s a track lives on without a detection: a face missed for a few frames, or hidden behind another
MAX_DISTANCE = 0.9  # 1 − IoU above which a box is not the same face as a track's prediction (norfair's threshold)
# A new track's first CONFIRM frames give its boxes no id yet (track None): the cascade now and then finds a face
# twice (a second, offset box) for one frame, and when such a box got an id at once it opened a second track that
# the person's box then flipped to (2 switches on `moving`, bench/tracker_choice.py).
CONFIRM = 2


class Tracker:
    """Track ids for the face boxes of one video or webcam, frame after frame (one Tracker per input).

    fps: frames per second the tracker is given (the video's rate / stride), which turns `memory` seconds into
    the frames norfair counts."""

    def __init__(self, fps: float, *, memory: float = MEMORY, max_distance: float = MAX_DISTANCE):
        from norfair import Tracker as Norfair  # noqa: PLC0415  (on the first video: see the module's docstring)

        frames = max(2, round(memory * fps))
        self._norfair = Norfair(
            distance_function="iou",
            distance_threshold=max_distance,
            hit_counter_max=frames,
            initialization_delay=min(CONFIRM, frames - 1),
            pointwise_hit_counter_max=frames,
        )
        self._ids: dict[int, int] = {}  # norfair's ids → 1, 2, … in order of first use
        self._frame = 0

    def update(self, boxes: Sequence[Box]) -> list[int | None]:
        """The track id of each box of the next frame, in the boxes' order, None for a box whose track is not
        confirmed yet (CONFIRM); an empty frame ages the tracks."""
        from norfair import Detection  # noqa: PLC0415

        self._frame += 1
        detections = [
            Detection(points=np.array([[b.x, b.y], [b.x + b.w, b.y + b.h]], dtype=float), data=(self._frame, i))
            for i, b in enumerate(boxes)
        ]
        ids: list[int | None] = [None] * len(boxes)
        for obj in self._norfair.update(detections=detections):
            frame, i = obj.last_detection.data  # norfair keeps a copy of the detection it matched last
            if frame == self._frame:  # matched in this frame, not a track coasting on its prediction
                ids[i] = self._ids.setdefault(obj.id, len(self._ids) + 1)
        return ids
