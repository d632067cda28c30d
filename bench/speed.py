"""Speed of mffcnn in use: the network alone, the face detector, a whole frame, and start-up.

    python bench/speed.py [--jaffe ../shared/data/jaffe] [--model PATH] [--out BENCHMARKS.md] [--quick]

Writes the `speed` section of BENCHMARKS.md:
1. the machine's measured peak: a 2048×2048 float32 matmul (GFLOP/s), at 1 thread and at all cores;
2. the network alone (face crops in, probabilities out) at batch 1 (ms per face) and batch 100 (faces/s)
   through each path predict can take — PyTorch (the checkpoint), TorchScript and ONNX Runtime — at 1
   thread and at all cores, with the FLOPs per face (mffcnn/model/flops.py) and the share of the peak
   reached; and the parity of the exported files with PyTorch;
3. the Viola-Jones detector: settings (downscale, minSize, scaleFactor) against time on a 640×480 frame,
   and faces found on the benchmark photos (JAFFE's 213 photos as they are and placed in a 640×480
   scene, the astronaut), so a faster setting is chosen only if it loses no face;
4. end to end on a 640×480 frame with one face (grey, detection, crop, classification), in ms;
5. start-up of `mffcnn predict one.jpg` as a whole process, beside `import torch` alone.

Times are medians of repeated runs, wall clock; the CPU seconds of the process are measured too, and the
load average is printed: on a shared machine (others' jobs on the same cores), wall times are upper
bounds, so rerun on a quiet machine before quoting.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

# As the mffcnn command does (mffcnn/cli.py), before torch loads OpenMP; OMP_WAIT_POLICY=ACTIVE to compare.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from markdown import write_section  # noqa: E402
from startup import time_processes  # noqa: E402

from mffcnn.data.face import DetectorSettings, detect_faces  # noqa: E402
from mffcnn.data.images import read_grey  # noqa: E402
from mffcnn.model.flops import flops_per_image  # noqa: E402
from mffcnn.predict import SAMPLE_IMAGE, find_faces, load_model, predict, resolve_model_path  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
CORES = os.cpu_count() or 1


def timed(fn, *, repeats: int, inner: int = 1) -> tuple[float, float]:
    """Median wall seconds and median process-CPU seconds of one call, over `repeats` rounds of `inner` calls."""
    fn()  # warm-up: allocations, oneDNN primitive caches
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        for _ in range(inner):
            fn()
        walls.append((time.perf_counter() - w) / inner)
        cpus.append((time.process_time() - c) / inner)
    return statistics.median(walls), statistics.median(cpus)


def set_threads(n: int) -> None:
    torch.set_num_threads(n)
    cv2.setNumThreads(n)


def peak_gflops(threads: int, repeats: int) -> float:
    set_threads(threads)
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    wall, _ = timed(lambda: a @ b, repeats=repeats)
    return 2 * 2048**3 / wall / 1e9


def benchmark_frame() -> np.ndarray:
    """A 640×480 grey frame with one face: the astronaut portrait scaled to 480 rows, edges extended."""
    return scene_640(read_grey(SAMPLE_IMAGE), fill=True)


def scene_640(grey: np.ndarray, *, fill: bool) -> np.ndarray:
    """A photo in a 640×480 frame: scaled to 480 rows (fill) or at its own size in the middle."""
    if fill:
        s = 480 / grey.shape[0]
        grey = cv2.resize(grey, (round(grey.shape[1] * s), 480), interpolation=cv2.INTER_AREA)
    h, w = grey.shape
    top, left = (480 - h) // 2, (640 - w) // 2
    return cv2.copyMakeBorder(grey, top, 480 - h - top, left, 640 - w - left, cv2.BORDER_REPLICATE)


def iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    return inter / (aw * ah + bw * bh - inter)


def detector_study(
    photos: dict[str, list[np.ndarray]],
    frame: np.ndarray,
    reference: DetectorSettings,
    *,
    repeats: int,
    quick: bool = False,
    extra: DetectorSettings | None = None,
) -> tuple[list[dict], dict]:
    """Each candidate setting: ms on the frame, photos with a face found, photos with more than one box
    (false alarms: every benchmark photo holds one face), and the mean IoU of its largest box with the
    reference setting's."""
    set_threads(1)
    grid = [
        replace(reference, max_side=m, scale_factor=s, min_size=n)
        for m in (640, 480, 320, 240)
        for s in (1.1, 1.2, 1.3)
        for n in (0.125, 0.2)
    ]
    if quick:
        grid = grid[::5]
    grid = [reference] + [g for g in grid if g != reference]
    if extra is not None and extra not in grid:
        grid.append(extra)
    ref_boxes = {k: [detect_faces(g, reference) for g in v] for k, v in photos.items()}
    rows = []
    for d in grid:
        wall, cpu = timed(lambda d=d: detect_faces(frame, d), repeats=repeats, inner=3)
        row = {"settings": d, "ms": 1e3 * wall, "cpu_ms": 1e3 * cpu}
        for k, images in photos.items():
            boxes = [detect_faces(g, d) for g in images]
            row[k] = sum(bool(b) for b in boxes)
            row[k + "_multi"] = sum(len(b) > 1 for b in boxes)
            pairs = [(b[0].to_list(), r[0].to_list()) for b, r in zip(boxes, ref_boxes[k]) if b and r]
            row[k + "_iou"] = float(np.mean([iou(p, q) for p, q in pairs])) if pairs else 0.0
        rows.append(row)
    ref = rows[0]
    # No face lost, no more false alarms than the reference, boxes where the reference puts them.
    safe = [
        r
        for r in rows
        if all(r[k] >= ref[k] and r[k + "_multi"] <= ref[k + "_multi"] and r[k + "_iou"] >= 0.8 for k in photos)
    ]
    best = min(safe, key=lambda r: r["ms"])
    return rows, best


def network_speed(paths: dict[str, Path], faces: np.ndarray, threads: list[int], *, repeats: int) -> list[dict]:
    rows = []
    for n in threads:
        set_threads(n)
        for name, path in paths.items():
            m = load_model(path, threads=n)
            one, batch = faces[:1], faces[:100]
            w1, c1 = timed(lambda m=m, one=one: m.probabilities(one), repeats=repeats, inner=20)
            wb, cb = timed(lambda m=m, batch=batch: m.probabilities(batch), repeats=repeats, inner=1)
            rows.append(
                {
                    "path": name,
                    "threads": n,
                    "b1_ms": 1e3 * w1,
                    "b1_cpu_ms": 1e3 * c1,
                    "b100_faces_s": len(batch) / wb,
                    "b100_cpu_faces_s": len(batch) / cb,
                }
            )
    return rows


def end_to_end(
    paths: dict[str, Path], frame: np.ndarray, detectors: dict[str, DetectorSettings], *, threads: int, repeats: int
) -> list[dict]:
    """ms for one 640×480 frame: grey → detect every face → crop → classify (predict's own functions)."""
    set_threads(threads)
    bgr = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    rows = []
    for name, path in paths.items():
        m = load_model(path, threads=threads)
        for dname, d in detectors.items():

            def once(m=m, d=d):
                grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
                boxes, crops = find_faces(grey, m.preprocessing, detector=d)
                return m.probabilities(np.stack(crops)) if crops else None

            n_faces = len(find_faces(frame, m.preprocessing, detector=d)[0])
            wall, cpu = timed(once, repeats=repeats, inner=5)
            api, _ = timed(lambda m=m, d=d: predict(bgr, model=m, detector=d), repeats=repeats, inner=5)
            rows.append(
                {
                    "path": name,
                    "detector": dname,
                    "faces": n_faces,
                    "ms": 1e3 * wall,
                    "cpu_ms": 1e3 * cpu,
                    "api_ms": 1e3 * api,
                }
            )
    return rows


def startup(image: Path, onnx_path: Path, *, repeats: int) -> dict:
    """Seconds for whole processes: `mffcnn predict one.jpg` (bundled model, and --onnx), `import torch`."""
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with tempfile.TemporaryDirectory() as tmp:
        commands = {
            "python -c 'import torch'": [sys.executable, "-c", "import torch"],
            "mffcnn predict one.jpg": [sys.executable, "-m", "mffcnn", "predict", str(image), "-q", "--output", tmp],
            "mffcnn predict one.jpg --onnx model.onnx": [
                sys.executable,
                "-m",
                "mffcnn",
                "predict",
                str(image),
                "-q",
                "--output",
                tmp,
                "--onnx",
                str(onnx_path),
            ],
        }
        times = time_processes(commands, repeats, env)
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="checkpoint to time (default: the bundled model)")
    ap.add_argument("--jaffe", help="JAFFE folder: its 213 photos check that detector tuning loses no face")
    ap.add_argument("--out", default="BENCHMARKS.md")
    ap.add_argument("--quick", action="store_true", help="fewer repeats (a check that the script runs)")
    args = ap.parse_args()
    repeats = 3 if args.quick else 15
    load_start = os.getloadavg()
    threads = sorted({1, CORES})

    checkpoint = resolve_model_path(args.model)
    print(f"model {checkpoint}", file=sys.stderr)
    tmp = Path(tempfile.mkdtemp(prefix="mffcnn-speed-"))
    from mffcnn.export import export

    parity = [export(checkpoint, format=f, out=tmp / f"model.{f}") for f in ("onnx", "torchscript")]
    for p in parity:
        print(p.line(), file=sys.stderr)
    paths = {"PyTorch": checkpoint, "TorchScript": tmp / "model.torchscript", "ONNX Runtime": tmp / "model.onnx"}

    model = load_model(checkpoint)
    flops = flops_per_image(model_config(checkpoint))
    peaks = {n: peak_gflops(n, repeats) for n in threads}
    print(f"peak GFLOP/s {peaks}", file=sys.stderr)

    from mffcnn.data.datasets.synthetic import generate

    faces = np.stack([f for f, *_ in generate(subjects=17, per_class=1, seed=7)][:100])  # 100 real-sized crops
    net = network_speed(paths, faces, threads, repeats=repeats)
    for r in net:
        print(r, file=sys.stderr)

    frame = benchmark_frame()
    photos = {"astronaut": [read_grey(SAMPLE_IMAGE), frame]}
    if args.jaffe:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from jaffe_photos import jaffe_photos

        jaffe = [read_grey(p) for p, _, _ in jaffe_photos(args.jaffe, neutral=True)]
        jaffe = jaffe[::5] if args.quick else jaffe
        photos["JAFFE"] = jaffe
        photos["JAFFE in 640×480"] = [scene_640(g, fill=False) for g in jaffe]
    reference = DetectorSettings()
    chosen = model.preprocessing.detector
    rows, best = detector_study(photos, frame, reference, repeats=repeats, quick=args.quick, extra=chosen)
    print(f"detector: fastest safe {best['settings']}; the model's {chosen}", file=sys.stderr)

    e2e = end_to_end(
        paths,
        frame,
        {"OpenCV defaults (640, 1.1, 1/8)": reference, "the model's": chosen, "fastest safe": best["settings"]},
        threads=1,
        repeats=repeats,
    )
    e2e_all = (
        end_to_end(
            {"ONNX Runtime": paths["ONNX Runtime"], "PyTorch": checkpoint},
            frame,
            {"the model's": chosen},
            threads=CORES,
            repeats=repeats,
        )
        if CORES > 1
        else []
    )
    image = tmp / "one.jpg"
    cv2.imwrite(str(image), cv2.imread(str(SAMPLE_IMAGE)))
    start = startup(image, paths["ONNX Runtime"], repeats=3 if args.quick else 5)
    load_end = os.getloadavg()

    # ---------------------------------------------------------------------------------------------------
    def share(faces_s: float, n: int) -> str:
        return f"{100 * faces_s * flops / (peaks[n] * 1e9):.1f} %"

    lines = [
        f"onnxruntime {_version('onnxruntime')}, OpenCV {cv2.__version__}; load average {load_start[0]:.1f} at "
        f"the start, {load_end[0]:.1f} at the end"
        + (" (**busy machine: wall times are upper bounds**)" if max(load_start[0], load_end[0]) > 0.5 * CORES else "")
        + f". Model: `{checkpoint.name}`, {flops / 1e6:.1f} MFLOPs per face (multiply-add = 2). Medians of "
        f"{repeats} runs. OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')} (as the mffcnn command sets it); "
        "ONNX Runtime without spinning threads (as predict loads it). *CPU ms* is the process's CPU time, "
        "all threads: on a busy machine it is closer to what a quiet one would take than the wall time.",
        "",
        "Peak of this machine (2048×2048 float32 matmul): "
        + ", ".join(f"{peaks[n]:.0f} GFLOP/s at {n} thread{'s' if n > 1 else ''}" for n in threads)
        + ".",
        "",
        "### The network alone (60×60 face crops → probabilities)",
        "",
        "| path | threads | batch 1: ms per face | batch 1: CPU ms | batch 100: faces/s | share of peak (batch 100) | "
        "faces per CPU-second (batch 100) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in net:
        lines.append(
            f"| {r['path']} | {r['threads']} | {r['b1_ms']:.2f} | {r['b1_cpu_ms']:.2f} | "
            f"{r['b100_faces_s']:,.0f} | "
            f"{share(r['b100_faces_s'], r['threads'])} | {r['b100_cpu_faces_s']:,.0f} |"
        )
    fastest = max(net, key=lambda r: r["b100_faces_s"])
    torch1 = min((r for r in net if r["path"] == "PyTorch"), key=lambda r: r["b1_ms"])
    lines += [
        "",
        f"Fastest batched: {fastest['path']} at {fastest['threads']} thread(s), {fastest['b100_faces_s']:,.0f} "
        f"faces/s (target ≥ 2,000). One face in PyTorch: {torch1['b1_ms']:.2f} ms at {torch1['threads']} "
        f"thread(s) (target ≤ 2 ms).",
        "",
        "Export parity with PyTorch (`mffcnn export`, real faces: 60 synthetic crops, at batch sizes 1, 7 and 60):",
        "",
        *[f"- {p.line()}" for p in parity],
        "",
        "### Viola-Jones: detector settings, time on a 640×480 frame, faces found",
        "",
        "Every benchmark photo holds one face: *found* counts photos with at least one box, *extra* photos "
        "with more than one (false alarms), *IoU* compares the largest box with the OpenCV-defaults one. "
        "1 thread.",
        "",
        "| max side | scaleFactor | minSize | ms | CPU ms | "
        + " | ".join(f"{k}: found / extra / IoU" for k in photos)
        + " |",
        "|---:|---:|---:|---:|---:|" + "---|" * len(photos),
    ]
    for r in rows:
        d = r["settings"]
        mark = " **(fastest safe)**" if r is best else (" (OpenCV defaults)" if d == reference else "")
        mark += " (the model's)" if d == chosen else ""
        lines.append(
            f"| {d.max_side} | {d.scale_factor} | {d.min_size:g}{mark} | {r['ms']:.1f} | {r['cpu_ms']:.1f} | "
            + " | ".join(f"{r[k]}/{len(v)} / {r[k + '_multi']} / {r[k + '_iou']:.2f}" for k, v in photos.items())
            + " |"
        )
    lines += [
        "",
        "### End to end: one 640×480 frame with one face (grey → detect → crop → classify)",
        "",
        "| path | detector | threads | faces | ms | CPU ms | ms through `predict()` |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in e2e:
        lines.append(
            f"| {r['path']} | {r['detector']} | 1 | {r['faces']} | {r['ms']:.1f} | {r['cpu_ms']:.1f} | "
            f"{r['api_ms']:.1f} |"
        )
    for r in e2e_all:
        lines.append(
            f"| {r['path']} | {r['detector']} | {CORES} | {r['faces']} | {r['ms']:.1f} | {r['cpu_ms']:.1f} | "
            f"{r['api_ms']:.1f} |"
        )
    lines += ["", "Target ≤ 25 ms.", "", "### Start-up (whole process, median)", ""]
    lines += [f"- `{k}`: {v:.2f} s" for k, v in start.items()]
    lines += ["", "Target ≤ 3 s for `mffcnn predict one.jpg`."]
    write_section(args.out, "speed", "Speed", lines)


def model_config(checkpoint: Path):
    from mffcnn.checkpoint import load_checkpoint

    return load_checkpoint(checkpoint).config


def _version(name: str) -> str:
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:
        return "not installed"


if __name__ == "__main__":
    main()
