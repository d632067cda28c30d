"""Tracking, smoothing and timelines of predict on the made clips (mffcnn/data/clips.py).

    python bench/tracking.py [--out BENCHMARKS.md] [--rounds 5]

Writes the `tracking` section of BENCHMARKS.md and docs/timeline.png:
1. identity switches per person of each clip (data.clips.identity_switches), predict at stride 1 and 3;
2. label changes per second on a steady face (`steady`, 10 s), raw and smoothed for several τ, read by a model
   trained here on the drawn person (train_reader), as are 3's;
3. the frame at which the smoothed label follows the known change of `change` (neutral → surprise at
   CHANGE_FRAME), for the same τ, at stride 1 and 3;
4. frames per second of predict on a 640×480 clip (`crossing`, two faces, 100 frames) with tracking and
   smoothing on and off, interleaved rounds, medians; and the start-up the tracker adds to a first video
   (importing norfair, in a fresh process). The machine is shared: times are medians and upper bounds.
τ other than predict's default are applied to the raw probabilities predict gave (smoothing.ema, the formula of
smoothing.Smoother; the default's are checked against predict's own smoothed output).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from markdown import write_section  # noqa: E402

from mffcnn.data.clips import CHANGE_FRAME, SCENES, identity_switches, make_clip  # noqa: E402
from mffcnn.predict import load_model, predict  # noqa: E402
from mffcnn.predict.smoothing import SMOOTHING, ema  # noqa: E402
from mffcnn.predict.tracking import MEMORY  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
TAUS = (0.25, SMOOTHING, 1.0)


def train_reader(preprocessing, path: Path) -> Path:
    """A 2-class MFF-CNN (neutral, surprise) trained on the change clip's drawn person, cut as `preprocessing`
    cuts faces (the bundled model's: BlazeFace, eyes levelled): 40 noise draws of each face on the clip's canvas.
    The bundled model learnt from photos of real faces and reads the drawn person as it likes (fear, mostly);
    a change from neutral to surprise is measured with a model that reads her. Saved to `path`, returned."""
    import cv2
    import torch

    from mffcnn.checkpoint import Checkpoint, save_checkpoint
    from mffcnn.data import clips
    from mffcnn.data.preprocess import Faces
    from mffcnn.model import MFFCNNConfig
    from mffcnn.predict import find_faces
    from mffcnn.predict.faces import choose_detector
    from mffcnn.train.loop import Training, fit
    from mffcnn.train.recipes import get_recipe

    detector = choose_detector(preprocessing, "blazeface")
    crops, labels = [], []
    for k in range(40):
        for label, amounts in ((0, {}), (1, {"surprise": 1.0})):
            face, _ = clips._drawn(clips.DRAWN_PERSON, lambda i, a=amounts: a)(0, np.random.default_rng(k))
            canvas = np.full((clips.HEIGHT, clips.WIDTH), 110 + k, np.uint8)
            y, x = (clips.HEIGHT - clips.FACE) // 2, (clips.WIDTH - clips.FACE) // 2 + (k % 7) - 3
            canvas[y : y + clips.FACE, x : x + clips.FACE] = cv2.cvtColor(face, cv2.COLOR_BGR2GRAY)
            _, found = find_faces(canvas, preprocessing, detector=detector)
            crops.append(found[0])
            labels.append(label)
    recipe = get_recipe("augmented").replace(warmup_epochs=0, flip=False, rotate=3.0, scale=0.05, shift=2.0)
    training = Training(MFFCNNConfig(num_classes=2), recipe, epochs=6, seed=0)
    model = fit(Faces(torch.from_numpy(np.stack(crops))), torch.tensor(labels), training)
    save_checkpoint(
        path, Checkpoint(model, ["neutral", "surprise"], preprocessing, {"dataset": "the drawn person's faces"})
    )
    return path


def changes(labels) -> int:
    return sum(a != b for a, b in zip(labels, labels[1:]))


def switches(model, clip, path, stride):
    r = predict(path, model=model, video_stride=stride)
    tracked = [[(f.box, f.track) for f in res.faces] for res in r.results]
    truth = [clip.truth[res.frame] for res in r.results]
    return identity_switches(truth, tracked)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(REPO / "BENCHMARKS.md"))
    ap.add_argument("--rounds", type=int, default=5, help="timing rounds of each of tracking on and off")
    args = ap.parse_args()
    model = load_model()
    tmp = Path(tempfile.mkdtemp())
    reader = load_model(train_reader(model.preprocessing, tmp / "reader.safetensors"))
    names = reader.class_names
    lines = [
        "Clips made by `mffcnn/data/clips.py` (640×480, 25 fps; the sample photo's face and synthetic faces).",
        "Identity switches and speed: the bundled model. Steady labels and following a change: the *reader*, a",
        "2-class model (neutral, surprise) trained here on the drawn person (train_reader; the bundled model reads",
        f"her as fear, mostly). Tracker: norfair (predict/tracking.py), memory {MEMORY:g} s; smoothing: EMA, τ in s.",
        "",
        "Identity switches (sw) and track ids per person; mixed: tracks given to more than one person.",
        "",
        "| clip | frames | stride 1 | stride 3 |",
        "|---|---|---|---|",
    ]
    for scene in SCENES:
        clip = make_clip(scene)
        path = clip.write(tmp / f"{scene}.avi")
        cells = []
        for stride in (1, 3):
            s = switches(model, clip, path, stride)
            cells.append(
                "; ".join(f"{p}: {v['switches']} sw, {len(v['tracks'])} ids" for p, v in sorted(s["people"].items()))
                + f"; mixed {s['mixed']}"
            )
        lines.append(f"| {scene} | {len(clip.frames)} | {cells[0]} | {cells[1]} |")

    steady = make_clip("steady", frames=250)
    path = steady.write(tmp / "steady_10s.avi")
    (track,) = predict(path, model=reader).tracks
    seconds = track.times[-1] - track.times[0]
    raw = np.asarray(track.probabilities)
    assert np.allclose(ema(track.times, raw, SMOOTHING), track.smoothed, atol=1e-5)  # = predict's own smoothing
    lines += [
        "",
        f"Label changes per second on a steady face (`steady`: one drawn face, a half surprise, 250 frames; "
        f"tracked in {len(track.frames)}, {seconds:.1f} s):",
        "",
        "| labels | changes | per second | most common label |",
        "|---|---|---|---|",
        f"| raw | {changes(track.labels)} | {changes(track.labels) / seconds:.2f} | "
        f"{max(set(track.labels), key=track.labels.count)} |",
    ]
    for tau in TAUS:
        labels = [names[k] for k in ema(track.times, raw, tau).argmax(1)]
        lines.append(
            f"| smoothed, τ = {tau:g} s{' (default)' if tau == SMOOTHING else ''} | {changes(labels)} | "
            f"{changes(labels) / seconds:.2f} | {max(set(labels), key=labels.count)} |"
        )

    change = make_clip("change")
    path = change.write(tmp / "change.avi")
    lines += [
        "",
        f"Following a real change (`change`: neutral, then surprise from frame {CHANGE_FRAME}, 25 fps): the first "
        "frame from which the label reads surprise for good, and its delay.",
        "",
        "| labels | stride 1: frame (delay) | stride 3: frame (delay) |",
        "|---|---|---|",
    ]
    rows: dict[str, list[str]] = {"raw": []} | {f"τ = {tau:g} s": [] for tau in TAUS}
    figure = None
    for stride in (1, 3):
        r = predict(path, model=reader, video_stride=stride, save_dir=tmp / f"change_s{stride}")
        (t,) = r.tracks
        if stride == 1:
            figure = tmp / "change_s1" / "timelines" / "change_track1.png"
        probs = np.asarray(t.probabilities)
        for key, labels in [("raw", t.labels)] + [
            (f"τ = {tau:g} s", [names[k] for k in ema(t.times, probs, tau).argmax(1)]) for tau in TAUS
        ]:
            after = [i for i, f in enumerate(t.frames) if f >= CHANGE_FRAME]
            last_other = max((i for i in after if labels[i] != "surprise"), default=None)
            first = t.frames[after[0]] if last_other is None else t.frames[last_other + 1]
            rows[key].append(f"{first} ({(first - CHANGE_FRAME) / change.fps:.2f} s)")
    lines += [f"| {k} | {v[0]} | {v[1]} |" for k, v in rows.items()]
    shutil.copy(figure, REPO / "docs" / "timeline.png")

    crossing = make_clip("crossing").write(tmp / "crossing_640x480.avi")
    predict(crossing, model=model)  # warm-up: the tracker's import, oneDNN caches
    fps = {True: [], False: []}
    for _ in range(args.rounds):
        for on in (True, False):
            r = predict(crossing, model=model, track=on, smoothing=SMOOTHING if on else 0.0)
            fps[on].append(r.summary.frames / r.summary.seconds)
    on, off = statistics.median(fps[True]), statistics.median(fps[False])
    code = "import time; t = time.perf_counter(); import norfair; print(time.perf_counter() - t)"
    imports = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(3)
    ]
    lines += [
        "",
        f"Speed of predict on a 640×480 clip (`crossing`, 2 faces, 100 frames; median of {args.rounds} interleaved "
        "rounds, in one process, the model loaded once):",
        "",
        "| tracking and smoothing | frames per second |",
        "|---|---|",
        f"| on | {on:.1f} |",
        f"| off (`--no-track`) | {off:.1f} |",
        f"| cost of tracking | {100 * (off - on) / off:.1f} % |",
        "",
        f"A process's first video also imports norfair (SciPy's stats among it): {statistics.median(imports):.2f} s"
        " (median of 3 fresh processes); photos never do.",
        "",
        "The timeline of `change` at stride 1 is docs/timeline.png.",
    ]
    write_section(args.out, "tracking", "Tracking, smoothing and timelines", lines)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
