"""int8 against float in ONNX Runtime on CK+48: label agreement, accuracy change, faces/s, ms for one face.

    python bench/int8.py --ckplus48 ../shared/data/ckplus48 [--model PATH] [--fer-python ../fer-venv/bin/python]
        [--out BENCHMARKS.md]

The model (default: the bundled one) is exported as `mffcnn export` does: float ONNX, and int8 in both scopes
("linear": the fully connected layers; "all": every layer), calibrated on the faces of a fifth of CK+48's
subjects (drawn with a fixed seed) given as a folder of crops (`--images FOLDER --no-detect`). Agreement and
accuracy are measured on the other subjects' faces. The bundled model was trained on all of CK+48, so its
accuracy there is a training-set accuracy: the change from float to int8 is the number to read.

Speed: the network alone (60×60 crops in, probabilities out), medians of repeated runs: one face at a time
at 1 thread (wall time, and the process's CPU time, which other jobs on a shared machine disturb less), and
batches of 100 at 1 thread and at every core. With --fer-python, the `fer` package's TFLite
model (its default) is timed on the same faces in the same run, in its own venv (bench/int8_fer.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# As the mffcnn command does (mffcnn/cli.py), before torch loads OpenMP.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cv2  # noqa: E402
import numpy as np  # noqa: E402
from markdown import has_vnni, simd_text, write_section  # noqa: E402
from speed import timed  # noqa: E402

CALIBRATION_SHARE = 0.2  # of the subjects
SEED = 0
BATCH = 100
REPEATS = 15
FER_SIZE = 64  # fer's mini-Xception input


def split_by_subject(subjects: np.ndarray) -> np.ndarray:
    """True for the faces of the calibration subjects (a seeded fifth of them)."""
    people = np.unique(subjects)
    rng = np.random.default_rng(SEED)
    chosen = set(rng.choice(people, max(1, round(CALIBRATION_SHARE * len(people))), replace=False))
    return np.array([s in chosen for s in subjects])


def network_speed(model, faces: np.ndarray) -> dict:
    """ms for one face at 1 thread; faces/s at batch 100 at 1 thread and at every core."""
    from mffcnn.predict import load_model

    batch = np.concatenate([faces] * (BATCH // len(faces) + 1))[:BATCH]
    one = load_model(model.path, threads=1)
    every = load_model(model.path, threads=os.cpu_count())
    b1, b1_cpu = timed(lambda: one.probabilities(batch[:1]), repeats=REPEATS, inner=50)
    b100_1, _ = timed(lambda: one.probabilities(batch), repeats=REPEATS)
    b100_all, _ = timed(lambda: every.probabilities(batch), repeats=REPEATS)
    return {"b1_ms": 1e3 * b1, "b1_cpu_ms": 1e3 * b1_cpu, "b100_1": BATCH / b100_1, "b100_all": BATCH / b100_all}


def fer_speed(fer_python: str, faces: np.ndarray) -> dict:
    """fer's TFLite model on the same faces, in its own venv: ms for one face, faces/s at batch 100."""
    small = np.stack([cv2.resize(f, (FER_SIZE, FER_SIZE)) for f in faces]).astype(np.float32)
    small = (small / 255.0 - 0.5) * 2.0  # fer's own input scaling (v2)
    with tempfile.TemporaryDirectory() as tmp:
        np.savez(Path(tmp) / "in.npz", faces=small, repeats=REPEATS)
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        worker = Path(__file__).with_name("int8_fer.py")
        p = subprocess.run([fer_python, str(worker), f"{tmp}/in.npz", f"{tmp}/out.json"], capture_output=True, env=env)
        if p.returncode:
            raise SystemExit(f"fer failed:\n{p.stderr.decode(errors='replace')[-3000:]}")
        return json.loads((Path(tmp) / "out.json").read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckplus48", required=True, help="CK+48 (folder per class of 48×48 PNGs)")
    ap.add_argument("--model", help="checkpoint to export (default: the bundled model)")
    ap.add_argument("--fer-python", help="python of a venv with fer installed, to time fer beside us")
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()
    from mffcnn.data import load_dataset
    from mffcnn.export import export
    from mffcnn.predict import load_model, resolve_model_path

    checkpoint = resolve_model_path(args.model)
    data = load_dataset("ckplus48", args.ckplus48, cache=False)
    calibration = split_by_subject(data.subjects)
    held_out = ~calibration
    work = Path(tempfile.mkdtemp(prefix="mffcnn-int8-"))
    crops = work / "calibration"
    crops.mkdir()
    for i in np.flatnonzero(calibration):
        cv2.imwrite(str(crops / f"{i:04d}.png"), data.images[i])

    files = {"float": export(checkpoint, out=work / "float.onnx", images=[crops], detect=False)}
    for scope in ("linear", "all"):
        files[f"int8 {scope}"] = export(
            checkpoint, out=work / f"{scope}.int8.onnx", images=[crops], detect=False, int8=scope
        )
    models = {name: load_model(report.path) for name, report in files.items()}
    names = models["float"].class_names
    truth = np.array([names.index(data.class_names[k]) if data.class_names[k] in names else -1 for k in data.labels])
    labels = {name: m.probabilities(data.images[held_out]).argmax(1) for name, m in models.items()}
    accuracy = {name: float((pred == truth[held_out]).mean()) for name, pred in labels.items()}
    speed = {name: network_speed(m, data.images[held_out]) for name, m in models.items()}
    fer = fer_speed(args.fer_python, data.images[held_out]) if args.fer_python else None

    n_eval, n_cal = int(held_out.sum()), int(calibration.sum())
    lines = [
        f"Model `{checkpoint.name}` ({models['float'].info.get('dataset')}; it was trained on all of CK+48, so "
        f"accuracies here are training-set accuracies: read the change). CK+48: {len(data)} faces; int8 "
        f"calibrated on the {n_cal} faces of {len(np.unique(data.subjects[calibration]))} subjects "
        f"(`mffcnn export --format onnx --int8 [--int8-layers all] --images FOLDER --no-detect`), measured on the other "
        f"{n_eval} faces ({len(np.unique(data.subjects[held_out]))} subjects). Load average "
        f"{os.getloadavg()[0]:.1f} (other jobs on the machine: times are upper bounds).",
        "",
        "| ONNX Runtime | file (MB) | same label as float | accuracy | change (pp) | one face (ms, 1 thread): "
        "wall / CPU | "
        f"batch {BATCH} (faces/s, 1 thread) | batch {BATCH} (faces/s, {os.cpu_count()} threads) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, report in files.items():
        agree = float((labels[name] == labels["float"]).mean())
        change = 100 * (accuracy[name] - accuracy["float"])
        s = speed[name]
        lines.append(
            f"| {name} | {report.size_bytes / 1e6:.2f} | {100 * agree:.2f} % | {100 * accuracy[name]:.2f} % | "
            f"{change:+.2f} | {s['b1_ms']:.3f} / {s['b1_cpu_ms']:.3f} | {s['b100_1']:,.0f} | {s['b100_all']:,.0f} |"
        )
    if fer:
        lines.append(
            f"| `fer` {fer['version']}, TFLite (its default), same faces at 64×64 | | | | | {fer['b1_ms']:.3f} / "
            f"{fer['b1_cpu_ms']:.3f} | "
            f"{fer['b100']:,.0f} | |"
        )
    lines += [
        "",
        "int8 linear: the fully connected layers in int8 (most of the weights), the convolutions in float; int8 "
        f"all: the convolutions too. {int8_cpu_note(speed)}",
    ]
    write_section(args.out, "int8", "int8 against float (ONNX Runtime) on CK+48", lines)


def int8_cpu_note(speed: dict) -> str:
    """What this CPU offers int8 and what int8 all did with it, from its flags and the times just measured."""
    ratio = speed["int8 all"]["b1_ms"] / speed["float"]["b1_ms"]
    faster = "faster" if ratio < 1 else "slower"
    dot = (
        "has int8 dot-product instructions (VNNI), which ONNX Runtime's int8 convolutions use"
        if has_vnni()
        else "has no int8 dot-product instructions (VNNI): ONNX Runtime's int8 convolutions run on plain SIMD"
    )
    return f"This CPU ({simd_text()}) {dot}; one face through int8 all took {ratio:.2f}× the float time ({faster})."


if __name__ == "__main__":
    main()
