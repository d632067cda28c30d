"""Faces in a video, frame after frame: BlazeFace's full search on every frame against predict's VideoFaces
(a full search every --video-rescan frames, the frames between only near the faces of the frame before).

    python bench/video_faces.py [--frames 90] [--rounds 3] [--out BENCHMARKS.md]

The clip is made here: bench/speed.py's 640×480 frame (the sample photo scaled to 480 rows, a 92 px face)
sliding 2 px a frame to the right and back, with a slow sway up and down, written as an .mp4. For each way of
searching, at 1 thread and at every core: ms per frame for grey → faces → crop → classify (predict's own
functions, the bundled model by ONNX Runtime and by PyTorch), CPU ms per frame (the process's, all threads),
BlazeFace's network runs per frame, and the faces found against the face's true place in each frame; then
`mffcnn.predict` on the .mp4 itself (tracking and smoothing on, as the command line runs) in frames per second.
Writes BENCHMARKS.md's section `video_faces`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cv2  # noqa: E402
import face_scenes  # noqa: E402
import numpy as np  # noqa: E402
from markdown import write_section  # noqa: E402
from speed import benchmark_frame, set_threads  # noqa: E402

from mffcnn.data import blazeface  # noqa: E402
from mffcnn.data.face import Box  # noqa: E402
from mffcnn.export import export  # noqa: E402
from mffcnn.predict import load_model, predict  # noqa: E402
from mffcnn.predict.faces import RESCAN_FRAMES, VideoFaces, choose_detector  # noqa: E402


def make_clip(frames: int) -> tuple[list[np.ndarray], list[Box]]:
    """The 640×480 frame moved 2 px a frame to the right and back, and up to 12 px up and down: BGR frames, and
    the face's box in each (the still frame's largest face, found by a full search, moved with it)."""
    from mffcnn.predict.faces import find_faces

    base = benchmark_frame()
    pre = load_model(None).preprocessing
    face = max(find_faces(base, pre, detector=choose_detector(pre))[0], key=lambda b: b.w)
    out, truth = [], []
    for i in range(frames):
        dx = 2 * (i if i < frames // 2 else frames - i) - frames // 2
        dy = 12 * np.sin(2 * np.pi * i / frames)
        m = np.float32([[1, 0, dx], [0, 1, dy]])
        grey = cv2.warpAffine(base, m, (640, 480), borderMode=cv2.BORDER_REPLICATE)
        out.append(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR))
        truth.append(Box(round(face.x + dx), round(face.y + dy), face.w, face.h))
    return out, truth


def write_clip(frames: list[np.ndarray], path: Path, fps: float = 30.0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (640, 480))
    for f in frames:
        writer.write(f)
    writer.release()
    return path


class Runs:
    """Counts BlazeFace's network runs (blazeface._run's calls) and their input pixels (a run's time grows with
    them: a run over a whole scaled image costs several of a 128×128 tile)."""

    def __init__(self):
        self.n = 0
        self.pixels = 0
        self.real = blazeface._run

    def __enter__(self):
        def counted(grey, *a, **k):
            self.n += 1
            self.pixels += grey.size
            return self.real(grey, *a, **k)

        blazeface._run = counted
        return self

    def __exit__(self, *exc):
        blazeface._run = self.real


def per_frame(model, clip: list[np.ndarray], rescan: int, rounds: int, flip: bool = False) -> dict:
    """ms and CPU ms per frame (medians over rounds of the whole clip), runs per frame, the boxes found. flip:
    each face classified with its mirror image too (predict's default, backends.FLIP)."""
    detector = choose_detector(model.preprocessing)
    walls, cpus = [], []
    for r in range(rounds + 1):  # round 0 warms up
        faces = VideoFaces(model.preprocessing, detect=True, detector=detector, rescan=rescan)
        boxes = []
        with Runs() as runs:
            w, c = time.perf_counter(), time.process_time()
            for bgr in clip:
                grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
                b, crops = faces(grey)
                if crops:
                    model.probabilities(np.stack(crops), flip=flip)
                boxes.append(b)
            wall, cpu = time.perf_counter() - w, time.process_time() - c
        if r:
            walls.append(wall / len(clip))
            cpus.append(cpu / len(clip))
    return {
        "ms": 1e3 * statistics.median(walls),
        "cpu_ms": 1e3 * statistics.median(cpus),
        "runs": runs.n / len(clip),
        "pixels": runs.pixels / len(clip),
        "full": faces.full_searches,
        "boxes": boxes,
    }


def found(boxes: list[list[Box]], truth: list[Box]) -> tuple[int, int, int]:
    """Frames whose face is found (face_scenes.matched), other detections, and the largest distance of a found
    face's box from the true one (px: corner or side)."""
    hits = sum(face_scenes.matched(b, [t]) for b, t in zip(boxes, truth))
    shift = max(
        (min(max(abs(x.x - t.x), abs(x.y - t.y), abs(x.w - t.w)) for x in b) for b, t in zip(boxes, truth) if b),
        default=0,
    )
    return hits, sum(len(b) for b in boxes) - hits, shift


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=90)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()
    start = time.perf_counter()
    load = os.getloadavg()[0]
    clip, truth = make_clip(args.frames)
    cores = os.cpu_count() or 1
    rows, e2e = [], []
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = export(None, out=Path(tmp) / "model.onnx").path
        video = write_clip(clip, Path(tmp) / "clip.mp4")
        for threads in sorted({1, cores}):
            set_threads(threads)
            for backend, path in (("ONNX Runtime", onnx_path), ("PyTorch", None)):
                model = load_model(path, threads=threads)
                full = per_frame(model, clip, 1, args.rounds)
                fast = per_frame(model, clip, RESCAN_FRAMES, args.rounds)
                for name, r in (("every frame in full", full), (f"VideoFaces, rescan {RESCAN_FRAMES}", fast)):
                    hits, more, shift = found(r["boxes"], truth)
                    rows.append(
                        f"| {backend} | {threads} | {name} | {r['ms']:.1f} | {r['cpu_ms']:.1f} | {r['runs']:.1f} | "
                        f"{r['pixels']:,.0f} | "
                        f"{r['full']} | {hits}/{len(truth)} | {more} | {shift} |"
                    )
            model = load_model(onnx_path, threads=threads)
            for rescan in (1, RESCAN_FRAMES):
                fps = []
                for _ in range(args.rounds):
                    res = predict(video, model=model, video_rescan=rescan)
                    fps.append(len(res.results) / res.summary.seconds)
                hits, more, _ = found([[Box(*f.box) for f in r.faces] for r in res.results], truth)
                e2e.append(
                    f"| {threads} | {rescan} | {len(res.results)} | {hits} | {more} | {statistics.median(fps):.1f} |"
                )
    lines = [
        f"A {args.frames}-frame 640×480 clip made here (bench/speed.py's frame, a 92 px face, sliding 2 px a frame "
        "and swaying up to 12 px). Per frame: grey → faces → crop → classify with the bundled model, medians of "
        f"{args.rounds} rounds of the whole clip; *runs*: BlazeFace's network runs per frame; *input px*: their input pixels per frame (a run's time "
        "grows with them); *full searches*: "
        "frames searched in full; *found*: frames whose face is found; *more*: other detections; *off*: the largest "
        f"distance of a found box from the face's (px, a corner or the side; the face is about 105 px). Load average {load:.1f} at the start (a shared machine: times are upper bounds).",
        "",
        "| classifier | threads | search | ms per frame | CPU ms per frame | runs | input px | full searches | found | more "
        "| off |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "`mffcnn.predict` on the clip as an .mp4 (ONNX Runtime, tracking and smoothing on; frames per second from "
        "its own summary, median of the rounds):",
        "",
        "| threads | --video-rescan | frames | found | more | frames per second |",
        "|---:|---:|---:|---:|---:|---:|",
        *e2e,
        "",
        f"Run time {time.perf_counter() - start:.0f} s.",
    ]
    write_section(args.out, "video_faces", "Faces in a video: full search against VideoFaces", lines)


if __name__ == "__main__":
    main()
