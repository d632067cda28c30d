"""Camera sessions of the page: a tracker and a smoother per client, so live frames get track ids and steady
labels as a video's do (predict/tracking.py, predict/smoothing.py; issue 18).

The page's camera mode sends `POST /predict?track=<session id>` (an id it makes up when the camera starts).
The frames of one session are one stream: the nth is frame n, its time the seconds since the session's first
frame on the server's clock (frames are sent one at a time, each when the last answer came back). A session
unused for IDLE seconds is forgotten, and at most SESSIONS are kept (the oldest goes first): a client that
makes up a new id per frame costs a little memory, never more.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from mffcnn.data.face import Box
from mffcnn.predict.results import FrameResult
from mffcnn.predict.smoothing import SMOOTHING, Smoother
from mffcnn.predict.tracking import Tracker

IDLE = 60.0  # s without a frame before a session is forgotten
SESSIONS = 256  # sessions kept at most
CAMERA_FPS = 10.0  # frames per second the tracker assumes for its memory: about what a page gets answered
MAX_ID = 128  # characters of a session id


@dataclass
class _Session:
    tracker: Tracker
    smoother: Smoother
    started: float
    frames: int = 0
    last: float = field(default=0.0)


class Sessions:
    def __init__(self, *, idle: float = IDLE, most: int = SESSIONS, smoothing: float = SMOOTHING):
        self.idle, self.most, self.smoothing = idle, most, smoothing
        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._sessions)

    def follow(self, session: str, result: FrameResult, class_names: list[str]) -> None:
        """Make `result` (one camera frame, classified) the next frame of `session`: its frame index and time,
        each face's track id and smoothed label."""
        now = time.monotonic()
        with self._lock:
            for key in [k for k, s in self._sessions.items() if now - s.last > self.idle]:
                del self._sessions[key]
            s = self._sessions.get(session)
            if s is None:
                s = _Session(Tracker(CAMERA_FPS), Smoother(self.smoothing), started=now)
                self._sessions[session] = s
                while len(self._sessions) > self.most:
                    self._sessions.popitem(last=False)
            self._sessions.move_to_end(session)
            s.last = now
            result.frame, result.time = s.frames, round(now - s.started, 4)
            s.frames += 1
            ids = s.tracker.update([Box(*f.box) for f in result.faces])
            for face, track in zip(result.faces, ids):
                face.track = track
            s.smoother.smooth(result.time, result.faces, class_names)
