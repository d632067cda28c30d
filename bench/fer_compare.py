"""mffcnn against the `fer` package (github.com/justinshenk/fer) on the same machine and the same faces.

    python3 -m venv ../fer-venv && ../fer-venv/bin/pip install fer      # once: fer and TensorFlow, apart
    python bench/fer_compare.py --jaffe ../shared/data/jaffe [--fer-python ../fer-venv/bin/python] \\
        [--model PATH] [--out BENCHMARKS.md]

fer ships its weights (a mini-Xception, 7 classes with neutral, as TFLite and Keras) and needs TensorFlow,
so it lives in its own virtual environment (`python3 -m venv fer-venv && fer-venv/bin/pip install fer`) and
runs in a subprocess (bench/fer_worker.py); this script never imports it.

Accuracy is measured on a dataset neither model was trained on: JAFFE's 183 non-neutral photos (fer was
trained on FER2013; our model must be one trained without JAFFE — the script refuses one whose checkpoint
says otherwise). Both models get the same Viola-Jones box on each photo (ours, from the model's detector
settings; the largest box) and crop it as each was trained: ours by crop_box with the checkpoint's margin,
fer by its own square-and-offset crop at 64×64. A photo where no face is found counts as wrong for both.
6 classes: fer's neutral output is left out of its argmax (it scores neutral among 7; the 7-way figure is
reported too). Speed is per face on the same crops, and for one 640×480 frame end to end.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# As the mffcnn command does (mffcnn/cli.py), before torch loads OpenMP; OMP_WAIT_POLICY=ACTIVE to compare.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from jaffe_photos import jaffe_photos, largest_faces, per_class  # noqa: E402
from markdown import write_section  # noqa: E402

BASIC6 = ["anger", "disgust", "fear", "happy", "sadness", "surprise"]
FER_NAMES = {
    "angry": "anger",
    "disgust": "disgust",
    "fear": "fear",
    "happy": "happy",
    "sad": "sadness",
    "surprise": "surprise",
    "neutral": "neutral",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jaffe", required=True, help="the JAFFE folder (flat, as distributed)")
    ap.add_argument(
        "--fer-python",
        default=os.environ.get("FER_PYTHON", "../fer-venv/bin/python"),
        help="python of a venv with fer installed (default: $FER_PYTHON or ../fer-venv/bin/python)",
    )
    ap.add_argument("--model", help="an mffcnn checkpoint trained without JAFFE (default: the bundled model)")
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()

    from mffcnn.data.images import read_grey
    from mffcnn.predict import choose_detector, find_faces, load_model, resolve_model_path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from speed import benchmark_frame, timed

    checkpoint = resolve_model_path(args.model)
    model = load_model(checkpoint)
    trained_on = json.dumps(model.info.get("trained_on") or model.info.get("dataset") or "").lower()
    if "jaffe" in trained_on:
        raise SystemExit(
            f"{checkpoint} was trained with JAFFE; train one without it, e.g.\n  python "
            "bench/train_default_model.py ckplus48:../shared/data/ckplus48 "
            "--out runs/no_jaffe.safetensors"
        )
    if not all(c in model.class_names for c in BASIC6):
        raise SystemExit(f"{checkpoint} lacks some of the 6 basic classes: {model.class_names}")

    photos = jaffe_photos(args.jaffe)  # the 183 non-neutral photos
    paths = [p for p, _, _ in photos]
    truth = np.array([label for _, label, _ in photos])
    crops, boxes, found = largest_faces(paths, model.preprocessing)
    print(f"JAFFE: {len(photos)} photos, a face found in {int(found.sum())}", file=sys.stderr)

    # Ours: 6-way argmax over the basic classes (a 7-class model's neutral is left out, as fer's).
    cols = [model.class_names.index(c) for c in BASIC6]
    ours, ours_flip = (
        np.where(found, np.array(BASIC6)[model.probabilities(crops, flip=f)[:, cols].argmax(1)], "")
        for f in (False, True)
    )

    # fer, in its own venv, on the same photos and boxes.
    frame = benchmark_frame()
    grey = np.stack([read_grey(p) for p in paths])
    if not Path(args.fer_python).exists():
        raise SystemExit(f"{args.fer_python} does not exist: install fer into its own venv (see this script's help)")
    with tempfile.TemporaryDirectory() as tmp:
        np.savez(
            Path(tmp) / "in.npz",
            photos=grey,
            frame=frame,
            repeats=args.repeats,
            boxes=np.array([b if b else [-1, -1, -1, -1] for b in boxes]),
        )
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        t = time.perf_counter()
        p = subprocess.run(
            [args.fer_python, str(Path(__file__).with_name("fer_worker.py")), f"{tmp}/in.npz", f"{tmp}/out.json"],
            capture_output=True,
            text=True,
            env=env,
        )
        if p.returncode:
            raise SystemExit(f"fer failed:\n{p.stderr[-3000:]}")
        fer = json.loads((Path(tmp) / "out.json").read_text())
    print(f"fer ran in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    fer_names = [FER_NAMES[n] for n in fer["class_names"]]
    fer_probs = np.array([row if row is not None else [np.nan] * 7 for row in fer["probs"]])
    f6 = [fer_names.index(c) for c in BASIC6]
    fer6 = np.where(found, np.array(BASIC6)[np.nan_to_num(fer_probs[:, f6], nan=-1).argmax(1)], "")
    fer7 = np.where(found, np.array(fer_names)[np.nan_to_num(fer_probs, nan=-1).argmax(1)], "")

    acc = lambda pred: float((pred == truth).mean())
    pc_ours, pc_flip, pc_fer, pc_fer7 = (per_class(truth, x, BASIC6) for x in (ours, ours_flip, fer6, fer7))

    # Our speed on the same faces (the crops above), and the same 640×480 frame.
    batch = np.concatenate([crops[found]] * (100 // max(int(found.sum()), 1) + 1))[:100]
    ours_speed = {}
    from video_faces import make_clip, per_frame

    from mffcnn.export import export
    from mffcnn.predict.faces import RESCAN_FRAMES

    clip = make_clip(30)[0]  # bench/video_faces.py's clip
    onnx_path = Path(tempfile.mkdtemp()) / "model.onnx"
    export(checkpoint, format="onnx", out=onnx_path)
    backends = (("PyTorch", model), ("ONNX Runtime", load_model(onnx_path)))
    # each backend once per face (the network's own speed) and with its mirror image too (predict's default)
    for (name, m), flip in itertools.product(backends, (False, True)):
        b1, _ = timed(lambda m=m, f=flip: m.probabilities(batch[:1], flip=f), repeats=args.repeats, inner=20)
        b100, _ = timed(lambda m=m, f=flip: m.probabilities(batch, flip=f), repeats=args.repeats)

        def frame_once(m=m, f=flip, d=choose_detector(m.preprocessing)):  # predict's own detector (BlazeFace)
            boxes_, crops_ = find_faces(frame, m.preprocessing, detector=d)
            return m.probabilities(np.stack(crops_), flip=f) if crops_ else None

        fr, _ = timed(frame_once, repeats=args.repeats, inner=3)
        # predict's way through a video
        video = per_frame(m, clip, RESCAN_FRAMES, rounds=max(3, args.repeats // 5), flip=flip)
        label = name + (", flip (predict's default)" if flip else ", once per face")
        ours_speed[label] = {"b1_ms": 1e3 * b1, "b100": 100 / b100, "frame_ms": 1e3 * fr, "video_ms": video["ms"]}

    import_ours = _import_time()
    # what the model learnt from: a checkpoint of `mffcnn train` names its dataset, bench/many_sources.py's list them
    trained = model.info.get("dataset") or "+".join(t.get("dataset", "?") for t in model.info.get("trained_on", []))
    s = fer["speed"]
    lines = [
        f"fer {fer['versions']['fer']} "
        f"(TensorFlow {fer['versions']['tensorflow']}), mffcnn model `{checkpoint.name}` trained on "
        f"{trained}. Load average {os.getloadavg()[0]:.1f}: rerun on a quiet machine before quoting.",
        "",
        f"### Accuracy on JAFFE's {len(photos)} non-neutral photos (neither model trained on JAFFE), 6 classes",
        "",
        f"Same Viola-Jones box for both ({int(found.sum())}/{len(photos)} photos with a face found); each crops it "
        "as it was trained.",
        "",
        "| model | accuracy | " + " | ".join(BASIC6) + " |",
        "|---|---:|" + "---:|" * len(BASIC6),
        f"| mffcnn ({trained}) | {100 * acc(ours):.1f} % | "
        + " | ".join(f"{100 * pc_ours[c]:.0f}" for c in BASIC6)
        + " |",
        f"| mffcnn ({trained}), flip (predict's default) | {100 * acc(ours_flip):.1f} % | "
        + " | ".join(f"{100 * pc_flip[c]:.0f}" for c in BASIC6)
        + " |",
        "| fer (6-way: neutral left out) | "
        + f"{100 * acc(fer6):.1f} % | "
        + " | ".join(f"{100 * pc_fer[c]:.0f}" for c in BASIC6)
        + " |",
        "| fer (as it answers, 7-way) | "
        + f"{100 * acc(fer7):.1f} % | "
        + " | ".join(f"{100 * pc_fer7[c]:.0f}" for c in BASIC6)
        + " |",
        "",
        f"fer called {int((fer7 == 'neutral').sum())} of the {len(photos)} expressive photos neutral.",
        "",
        "### Speed on the same faces and frame",
        "",
        "Both tools timed by this one run, the same way (median of "
        f"{args.repeats}), on the same crops and the same frame. *Batch of 100*: 100 faces in one call to each "
        "tool's classifier, as each runs it: fer's TFLite path (its default) loops over them one face per "
        "interpreter call inside that call; its Keras path and mffcnn run them as one batch.",
        "",
        "| | one face (ms) | batch of 100 in one call (faces/s) | 640×480 frame, detection + classification (ms; "
        "mffcnn: predict's detector, BlazeFace) "
        "| a frame of a 640×480 video (ms; mffcnn: predict's VideoFaces, bench/video_faces.py's clip; fer: as a frame) "
        "| import |",
        "|---|---:|---:|---:|---:|---:|",
        f"| fer, TFLite (its default; one face per interpreter call) | {s['tflite_b1_ms']:.2f} | {s['tflite_b100_faces_s']:,.0f} | "
        f"{s['tflite_frame_ms']:.1f} (of which Haar {s['haar_frame_ms']:.1f}) | {s['tflite_frame_ms']:.1f} | "
        f"{fer['import_s']:.1f} s + "
        f"{fer['init_s']:.1f} s init |",
    ]
    if "keras_b1_ms" in s:
        lines.append(
            f"| fer, Keras | {s['keras_b1_ms']:.2f} | {s['keras_b100_faces_s']:,.0f} | | | "
            f"{s['keras_init_s']:.1f} s init |"
        )
    else:
        lines.append(f"| fer, Keras | did not run: {s.get('keras_error')} | | | | |")
    for name, r in ours_speed.items():
        lines.append(
            f"| mffcnn, {name} | {r['b1_ms']:.2f} | {r['b100']:,.0f} | {r['frame_ms']:.1f} | {r['video_ms']:.1f} | "
            + (f"{import_ours:.1f} s |" if name.startswith("PyTorch, once") else " |")
        )
    lines += [
        "",
        "Detector settings differ: fer's own (scaleFactor 1.1, minSize 50 px, full resolution) and "
        "the model's (see the speed section).",
    ]
    write_section(args.out, "fer_comparison", "mffcnn vs fer", lines)


def _import_time() -> float:
    """Seconds to import what `mffcnn predict` needs (torch, OpenCV, mffcnn.predict) in a fresh process."""
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "import mffcnn.predict, torch"],
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
