"""Short videos made in code, with their ground truth: who is where in every frame, showing what (issue 18).

The tests and bench/tracking.py measure tracking, smoothing and timelines on them; nothing here comes from a
dataset. Two kinds of face appear: the public-domain sample photo's face (the astronaut, NASA) and the synthetic
dataset's drawn faces (data/datasets/synthetic.py), which the bundled model reads as neutral or surprise
depending on the drawn action. Every frame is 640×480 BGR at 25 fps, on a fixed textured background with a
little sensor noise per frame; a drawn face is drawn anew each frame (its own gamma, blur and noise), so a
steady face still varies a little from frame to frame, as a filmed one does.

The scenes (`make_clip(name)`):
- `moving`: the astronaut walks a wave across the frame and back (one person, no crossing: 0 switches expected);
- `crossing`: a drawn face walks left to right, the astronaut right to left, in front of it: mid-clip she
  hides it completely for a few frames;
- `leave_return`: the astronaut walks out of the right edge, stays away 1 s, and comes back;
- `change`: a drawn face holds still, neutral, and turns to surprise at frame `CHANGE_FRAME` (ground truth);
- `steady`: a drawn face holds still with one mild, ambiguous expression: raw labels flicker, smoothed ones
  should not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from mffcnn.data.datasets.synthetic import _DELTAS, _NEUTRAL, _identity, draw_face

WIDTH, HEIGHT, FPS = 640, 480, 25.0
FACE = 150  # px: side of a drawn person's square (the Haar cascade wants faces ≥ 1/8 of 480 = 60 px)
PHOTO_FACE = 220  # px: side of the astronaut's square: the photo's own pixels, her face 98 px wide in it
FRAMES = 100  # 4 s at 25 fps: the default length of every scene
CHANGE_FRAME = 50  # `change`: the first frame that shows surprise
SCENES = ("moving", "crossing", "leave_return", "change", "steady")
# Drawn people: (seed, subject) of the synthetic identity. Both were picked because the bundled model reads
# their neutral face as neutral and their full surprise as surprise in 8 of 8 noise draws each.
DRAWN_PERSON = (7, 1)
OTHER_PERSON = (7, 4)
SAMPLE_PHOTO = Path(__file__).resolve().parent.parent / "samples" / "astronaut.png"  # = predict.SAMPLE_IMAGE
STEADY_ACTION = {"surprise": 0.45}  # a half surprise: between neutral and surprise, so raw labels flicker


@dataclass(frozen=True)
class Seen:
    """One person in one frame, as drawn: the square they occupy (clipped to the frame) and their expression."""

    person: str
    box: tuple[int, int, int, int]  # x, y, w, h
    expression: str


@dataclass
class Clip:
    name: str
    frames: list[np.ndarray]  # BGR uint8, HEIGHT×WIDTH×3
    truth: list[list[Seen]]  # per frame, front-most person last
    fps: float = FPS

    def write(self, path: str | Path) -> Path:
        """The clip as a video file: .avi (Motion JPEG) or .mp4 (MPEG-4 Part 2), as OpenCV writes them, or .y4m."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() == ".y4m":
            return self._write_y4m(path)
        fourcc = cv2.VideoWriter_fourcc(*("MJPG" if path.suffix.lower() == ".avi" else "mp4v"))
        writer = cv2.VideoWriter(str(path), fourcc, self.fps, (WIDTH, HEIGHT))
        if not writer.isOpened():
            raise OSError(f"{path}: OpenCV cannot write this video format")
        for frame in self.frames:
            writer.write(frame)
        writer.release()
        return path

    def _write_y4m(self, path: Path) -> Path:
        """Uncompressed YUV 4:2:0 (what Chromium's fake camera reads: --use-file-for-fake-video-capture)."""
        with open(path, "wb") as f:
            f.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F{round(self.fps)}:1 Ip A1:1 C420jpeg\n".encode())
            for frame in self.frames:
                f.write(b"FRAME\n" + cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
        return path


def person_at(truth: list[Seen], x: float, y: float) -> Seen | None:
    """The front-most person whose square holds the point (x, y): who a detection centred there belongs to."""
    for seen in reversed(truth):
        bx, by, bw, bh = seen.box
        if bx <= x < bx + bw and by <= y < by + bh:
            return seen
    return None


def _background(rng: np.random.Generator) -> np.ndarray:
    """Soft blobs whose grey levels fill 30–230 evenly: texture for a tracker to ignore, with no face-like
    pattern. Even levels matter: the detector equalises the whole frame's histogram, and a flat background
    (one big spike) would squash the faces' own contrast until the cascade misses them."""
    blobs = cv2.GaussianBlur(rng.normal(0, 1, (HEIGHT, WIDTH)).astype(np.float32), (0, 0), 25)
    grey = 30 + 200 * blobs.ravel().argsort().argsort().reshape(blobs.shape) / blobs.size
    return np.clip(np.stack([grey * 0.92, grey, grey * 1.06], axis=-1), 0, 255).astype(np.float32)


def _astronaut() -> Callable[[int, np.random.Generator], tuple[np.ndarray, str]]:
    """The sample photo's face and hair, PHOTO_FACE px square, as in the photo: the same (happy) face in every
    frame."""
    photo = cv2.imread(str(SAMPLE_PHOTO))  # 512×512; Eileen Collins' face at about x 174, y 66, 98 px
    face = photo[16 : 16 + PHOTO_FACE, 113 : 113 + PHOTO_FACE]
    return lambda _i, _rng: (face, "happy")


def _drawn(who: tuple[int, int], expression: Callable[[int], dict[str, float]]):
    """A synthetic person (data/datasets/synthetic.py) whose action at frame i is neutral plus the given
    amounts of each expression's facial actions; labelled with the strongest one (neutral below 0.5)."""
    ident = _identity(np.random.default_rng(list(who)))

    def look(i: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
        amounts = expression(i)
        action = _NEUTRAL + ident["quirk"] + sum((a * np.asarray(_DELTAS[e]) for e, a in amounts.items()), 0.0)
        grey = draw_face(ident, action, rng, size=FACE)
        strongest = max(amounts.items(), key=lambda kv: kv[1], default=("neutral", 0.0))
        return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR), strongest[0] if strongest[1] >= 0.5 else "neutral"

    return look


def _scene(name: str, n: int, change_at: int):
    """(person name, look, side, path) per person, front-most last; path(i) is the square's top-left, or None
    while the person is away."""
    t = lambda i: i / max(n - 1, 1)  # 0 → 1 over the clip
    middle = lambda side: ((WIDTH - side) / 2, (HEIGHT - side) / 2)
    if name == "moving":
        s = PHOTO_FACE
        path = lambda i: (20 + (WIDTH - s - 40) * (1 - abs(1 - 2 * t(i))), middle(s)[1] + 60 * np.sin(2 * np.pi * t(i)))
        return [("astronaut", _astronaut(), s, path)]
    if name == "crossing":
        d, s = FACE, PHOTO_FACE
        left = lambda i: (10 + (WIDTH - d - 20) * t(i), middle(d)[1] - 20)  # hidden behind her square mid-way
        right = lambda i: (WIDTH - s - 10 - (WIDTH - s - 20) * t(i), middle(s)[1])
        return [("drawn", _drawn(OTHER_PERSON, lambda i: {}), d, left), ("astronaut", _astronaut(), s, right)]
    if name == "leave_return":
        s, gone = PHOTO_FACE, round(FPS)  # 1 s off screen
        out = (n - gone) // 2  # frames to walk from the centre out of the right edge (and as many back)
        walk = (WIDTH + s) / 2  # from the centre until the square has left the frame

        def path(i: int):
            if i < out:
                return middle(s)[0] + walk * i / out, middle(s)[1]
            if i < out + gone:
                return None
            return WIDTH - walk * (i - out - gone) / max(n - out - gone - 1, 1), middle(s)[1]

        return [("astronaut", _astronaut(), s, path)]
    if name == "change":
        look = _drawn(DRAWN_PERSON, lambda i: {"surprise": 1.0} if i >= change_at else {})
        return [("drawn", look, FACE, lambda i: (middle(FACE)[0] + 3 * np.sin(i / 4), middle(FACE)[1]))]
    if name == "steady":
        return [("drawn", _drawn(DRAWN_PERSON, lambda i: STEADY_ACTION), FACE, lambda i: middle(FACE))]
    raise ValueError(f"unknown scene {name!r}; choose from {', '.join(SCENES)}")


def make_clip(name: str, *, frames: int = FRAMES, seed: int = 0, change_at: int = CHANGE_FRAME) -> Clip:
    """Scene `name` (see SCENES), `frames` long, the same for the same seed; `change` turns at change_at."""
    people = _scene(name, frames, change_at)
    background = _background(np.random.default_rng([seed, 99]))
    clip = Clip(name=name, frames=[], truth=[])
    for i in range(frames):
        rng = np.random.default_rng([seed, i])
        frame = background + 2.0 * rng.standard_normal(background.shape, dtype=np.float32)
        seen = []
        for person, look, side, path in people:
            at = path(i)
            if at is None:
                continue
            face, expression = look(i, rng)
            x, y = int(round(at[0])), int(round(at[1]))
            x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + side, WIDTH), min(y + side, HEIGHT)
            if x1 <= x0 or y1 <= y0:
                continue
            frame[y0:y1, x0:x1] = face[y0 - y : y1 - y, x0 - x : x1 - x]
            seen.append(Seen(person, (x0, y0, x1 - x0, y1 - y0), expression))
        clip.frames.append(np.clip(frame, 0, 255).astype(np.uint8))
        clip.truth.append(seen)
    return clip


def identity_switches(truth: list[list[Seen]], tracked: list[list[tuple[list[int], int | None]]]) -> dict:
    """How well track ids follow the people of a clip, from each frame's (box, track id) pairs.

    A detection belongs to the front-most person whose square holds its centre (person_at). Per person: the
    frames in which one of their detections has a track, the ids they got in order of first use, and the
    switches: times their id differs from the one of the last frame they were tracked in (the CLEAR-MOT
    count, Bernardin & Stiefelhagen 2008). `mixed` counts the tracks given to more than one person."""
    people: dict[str, dict] = {}
    owners: dict[int, set[str]] = {}
    for seen, pairs in zip(truth, tracked):
        for box, track in pairs:
            who = person_at(seen, box[0] + box[2] / 2, box[1] + box[3] / 2)
            if who is None or track is None:
                continue
            p = people.setdefault(who.person, {"frames": 0, "tracks": [], "switches": 0, "last": None})
            p["frames"] += 1
            if track not in p["tracks"]:
                p["tracks"].append(track)
            p["switches"] += p["last"] is not None and track != p["last"]
            p["last"] = track
            owners.setdefault(track, set()).add(who.person)
    for p in people.values():
        del p["last"]
    return {"people": people, "mixed": sum(len(o) > 1 for o in owners.values())}
