"""Which tracker predict uses: norfair against supervision's ByteTrack, on the clips of mffcnn/data/clips.py.

    pip install --no-deps --target /tmp/trackers norfair-enough==2.4.3 supervision==0.26.1
    python bench/tracker_choice.py --extra-path /tmp/trackers [--out BENCHMARKS.md]

Both trackers get the same boxes (predict's Viola-Jones detector, run once per frame of each clip, at stride 1
and 3) and nothing else. Measured per clip: identity switches per person and the tracks given to more than
one person (data.clips.identity_switches), and the median time of one update. Also: what each brings into the
environment (from `pip install --dry-run --report` on this environment, when pip can reach the index), and
the import time of each in a fresh process (median of 3). supervision is installed with --no-deps into the
extra path, beside this environment's opencv-python-headless, only to be measured: as a dependency it would
install opencv-python (see mffcnn/predict/tracking.py). Writes the `tracker-choice` section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from markdown import write_section  # noqa: E402

from mffcnn.data.clips import SCENES, identity_switches, make_clip  # noqa: E402
from mffcnn.data.face import PREDICT_DETECTOR, detect_faces  # noqa: E402
from mffcnn.data.images import to_grey_uint8  # noqa: E402
from mffcnn.predict.tracking import MEMORY, Tracker  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


class ByteTrack:
    """supervision 0.26's ByteTrack with predict's boxes (confidence 1: the cascade gives none), the same memory."""

    def __init__(self, fps: float):
        import supervision as sv

        self.sv = sv
        self.tracker = sv.ByteTrack(
            lost_track_buffer=max(1, round(MEMORY * fps)), frame_rate=round(fps), minimum_consecutive_frames=1
        )

    def update(self, boxes) -> list[int]:
        n = len(boxes)
        xyxy = np.array([[b.x, b.y, b.x + b.w, b.y + b.h] for b in boxes], float).reshape(n, 4)
        d = self.sv.Detections(xyxy=xyxy, confidence=np.ones(n), class_id=np.zeros(n, int), data={"i": np.arange(n)})
        out = self.tracker.update_with_detections(d)
        ids = [0] * n
        for i, t in zip(out.data.get("i", []), out.tracker_id):
            ids[int(i)] = int(t)
        return ids


def run(make, clip, boxes, stride: int):
    """Track ids per kept frame and the update times."""
    tracker, tracked, times = make(clip.fps / stride), [], []
    for frame_boxes in boxes[::stride]:
        t = time.perf_counter()
        ids = tracker.update(frame_boxes)
        times.append(time.perf_counter() - t)
        tracked.append([(b.to_list(), i or None) for b, i in zip(frame_boxes, ids)])
    return identity_switches(clip.truth[::stride], tracked), times


def import_seconds(module: str, extra: str) -> float:
    code = f"import sys, time; sys.path.insert(0, {extra!r}); t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    return statistics.median(
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(3)
    )


def brings(requirement: str) -> str:
    """The packages pip would add or change in this environment to install `requirement`."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "r.json"
        p = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--dry-run", "-q", "--report", str(report), requirement],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if p.returncode or not report.exists():
            return "(pip could not resolve it here)"
        names = [
            f"{i['metadata']['name']} {i['metadata']['version']}" for i in json.loads(report.read_text())["install"]
        ]
    return ", ".join(names) or "nothing (installed already)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--extra-path", required=True, help="folder where both candidates are installed (--no-deps)")
    ap.add_argument("--out", default=str(REPO / "BENCHMARKS.md"))
    args = ap.parse_args()
    sys.path.insert(0, args.extra_path)
    candidates = {"norfair (norfair-enough 2.4.3)": Tracker, "ByteTrack (supervision 0.26.1)": ByteTrack}
    rows, times = [], {name: [] for name in candidates}
    for scene in SCENES:
        clip = make_clip(scene)
        boxes = [detect_faces(to_grey_uint8(f), PREDICT_DETECTOR) for f in clip.frames]
        boxes = [sorted(b, key=lambda b: (b.x, b.y)) for b in boxes]  # as predict orders them
        for stride in (1, 3):
            cells = []
            for name, make in candidates.items():
                score, t = run(make, clip, boxes, stride)
                times[name] += t
                people = score["people"]
                cells.append(
                    "; ".join(f"{p}: {v['switches']} sw, {len(v['tracks'])} ids" for p, v in sorted(people.items()))
                    + f"; mixed {score['mixed']}"
                )
            rows.append(f"| {scene} | {stride} | " + " | ".join(cells) + " |")
    head = "| clip | stride | " + " | ".join(candidates) + " |"
    lines = [
        "Identity switches (sw) and ids per person of each made clip (100 frames at 25 fps, 640×480), the same",
        f"boxes for both, memory {MEMORY:g} s; mixed: tracks given to more than one person.",
        "",
        head,
        "|---|---|" + "---|" * len(candidates),
        *rows,
        "",
        "| tracker | median update (ms) | import (s) | pip would add here |",
        "|---|---|---|---|",
        f"| norfair (norfair-enough 2.4.3) | {1000 * statistics.median(times[list(candidates)[0]]):.3f} | "
        f"{import_seconds('norfair', args.extra_path):.2f} | {brings('norfair-enough==2.4.3')} |",
        f"| ByteTrack (supervision 0.26.1) | {1000 * statistics.median(times[list(candidates)[1]]):.3f} | "
        f"{import_seconds('supervision', args.extra_path):.2f} | {brings('supervision==0.26.1')} |",
        f"| (norfair 2.3.0, the original) | — | — | {brings('norfair==2.3.0')} |",
        f"| (trackers 2.6.1, ByteTrack's successor) | — | — | {brings('trackers==2.6.1')} |",
    ]
    write_section(args.out, "tracker-choice", "Tracker choice", lines)


if __name__ == "__main__":
    main()
