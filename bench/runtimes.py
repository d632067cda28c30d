"""One face through the network: ONNX Runtime's threads and session options, and OpenVINO, side by side in one run.

    python bench/runtimes.py [--model PATH] [--repeats 15] [--out BENCHMARKS.md]

The model is exported to ONNX once (mffcnn export's graph, dynamic batch) and every runtime runs that file on the
same random 60×60 faces, at batch 1 (one face), 2 (one face and its mirror image: predict's default, flip) and
100; and the int8 file of `mffcnn export --int8 --int8-layers linear` (its fully connected layers in int8,
calibrated on synthetic faces: bench/int8.py measures its accuracy) the same ways. ONNX Runtime as predict
loads it (idle threads sleep: `session.intra_op.allow_spinning` 0) and with spinning threads, at 1 thread and
at all cores; OpenVINO (`pip install openvino`; skipped with a line when it is not installed) with its latency
hint at the same thread counts, its graph reshaped to each batch. Then ONNX Runtime's own profile of one face
at 1 thread: the share of each operator type in the kernels' time (the profiler adds a few µs to every node, so
the many small nodes weigh more there than in the times above).
Times are medians of `--repeats` rounds, wall clock; pause other work on the machine first.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from markdown import write_section  # noqa: E402
from speed import timed  # noqa: E402

from mffcnn.export import export  # noqa: E402
from mffcnn.predict import resolve_model_path  # noqa: E402

CORES = os.cpu_count() or 1
BATCHES = (1, 2, 100)


def median_ms(run, x: np.ndarray, repeats: int) -> float:
    """Median wall ms of one call of `run(x)` (bench/speed.py's timed: each round enough calls for about 40 faces)."""
    return 1e3 * timed(lambda: run(x), repeats=repeats, inner=max(1, 40 // len(x)))[0]


def ort_session(path: Path, threads: int, spinning: bool, profile: bool = False):
    import onnxruntime as ort  # noqa: PLC0415

    o = ort.SessionOptions()
    o.log_severity_level = 3
    o.intra_op_num_threads = threads
    o.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    o.enable_profiling = profile
    return ort.InferenceSession(str(path), o, providers=["CPUExecutionProvider"])


def ort_rows(path: Path, faces: np.ndarray, repeats: int, runtime: str = "ONNX Runtime") -> tuple[list[dict], dict]:
    rows, outputs = [], {}
    for threads in sorted({1, CORES}):
        for spinning in (False, True):
            s = ort_session(path, threads, spinning)
            name = s.get_inputs()[0].name
            run = lambda x, s=s, name=name: s.run(None, {name: x})[0]  # noqa: E731
            outputs.setdefault(runtime, run(faces))
            how = "idle threads sleep (predict's)" if not spinning else "threads spin"
            rows.append(
                {"runtime": runtime, "threads": threads, "how": how}
                | {b: median_ms(run, faces[:b], repeats) for b in BATCHES}
            )
    return rows, outputs


def int8_file(checkpoint: Path, folder: Path) -> Path:
    """`mffcnn export --int8 --int8-layers linear` of the checkpoint (the fully connected layers in int8),
    calibrated on 120 synthetic faces: its speed is the point here, bench/int8.py measures its accuracy."""
    import cv2  # noqa: PLC0415

    from mffcnn.data.datasets import synthetic  # noqa: PLC0415

    crops = folder / "calibration"
    crops.mkdir()
    for i, (face, label, _, _) in enumerate(synthetic.generate(subjects=20, per_class=1, seed=3, size=60)):
        cv2.imwrite(str(crops / f"{label}_{i}.png"), face)
    return Path(export(checkpoint, out=folder / "model.int8.onnx", images=[crops], detect=False, int8="linear").path)


def openvino_rows(path: Path, faces: np.ndarray, repeats: int) -> tuple[list[dict], dict, str | None]:
    try:
        import openvino as ov  # noqa: PLC0415
    except ImportError:
        return [], {}, "OpenVINO is not installed here (pip install openvino): no OpenVINO rows."
    core, rows, outputs = ov.Core(), [], {}
    for threads in sorted({1, CORES}):
        row = {"runtime": f"OpenVINO {ov.__version__.split('-')[0]}", "threads": threads, "how": "latency hint"}
        for b in BATCHES:
            model = core.read_model(str(path))
            model.reshape([b, *faces.shape[1:]])
            config = {
                "PERFORMANCE_HINT": "LATENCY",
                "INFERENCE_NUM_THREADS": threads,
                "INFERENCE_PRECISION_HINT": "f32",
            }
            request = core.compile_model(model, "CPU", config).create_infer_request()
            run = lambda x, r=request: r.infer({0: x})[0]  # noqa: E731
            if b == len(faces):
                outputs.setdefault("openvino", np.asarray(run(faces)))
            row[b] = median_ms(run, faces[:b], repeats)
        rows.append(row)
    return rows, outputs, None


def op_profile(path: Path, face: np.ndarray, runs: int = 300) -> list[tuple[str, float]]:
    """(operator type, µs per run) of ONNX Runtime's kernels for one face at 1 thread, largest first."""
    s = ort_session(path, 1, False, profile=True)
    name = s.get_inputs()[0].name
    for _ in range(runs):
        s.run(None, {name: face})
    trace = Path(s.end_profiling())
    events = json.loads(trace.read_text())
    trace.unlink()
    per_op = collections.Counter()
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            per_op[e["args"]["op_name"]] += e["dur"] / runs
    return per_op.most_common()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="checkpoint (default: the bundled model)")
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()

    checkpoint = resolve_model_path(args.model)
    onnx_path = Path(tempfile.mkdtemp()) / "model.onnx"
    export(checkpoint, format="onnx", out=onnx_path)
    faces = np.random.default_rng(0).uniform(0, 255, (100, 1, 60, 60)).astype(np.float32)

    rows, outputs = ort_rows(onnx_path, faces, args.repeats)
    int8_rows, _ = ort_rows(int8_file(checkpoint, onnx_path.parent), faces, args.repeats, "ONNX Runtime, int8 linear")
    rows += int8_rows
    ov_rows, ov_outputs, ov_missing = openvino_rows(onnx_path, faces, args.repeats)
    rows += ov_rows
    outputs |= ov_outputs
    profile = op_profile(onnx_path, faces[:1])
    total = sum(us for _, us in profile)

    lines = [
        f"Model `{checkpoint.name}`, exported to ONNX (dynamic batch); 100 random 60×60 faces; medians of "
        f"{args.repeats} rounds. *Batch 2* is one face and its mirror image, as predict classifies a face by default "
        f"(flip). Load average at the end {os.getloadavg()[0]:.1f}.",
        "",
        "| runtime | threads | threads between calls | batch 1: ms per face | batch 2 (a face + its mirror): ms "
        "| batch 100: faces/s |",
        "|---|---:|---|---:|---:|---:|",
    ]
    lines += [
        f"| {r['runtime']} | {r['threads']} | {r['how']} | {r[1]:.3f} | {r[2]:.3f} | {100 / r[100] * 1e3:,.0f} |"
        for r in rows
    ]
    if ov_missing:
        lines += ["", ov_missing]
    if "openvino" in outputs:
        diff = float(np.abs(outputs["openvino"] - outputs["ONNX Runtime"]).max())
        lines += ["", f"OpenVINO against ONNX Runtime on the 100 faces: max |Δp| = {diff:.1e}."]
    best = min(rows, key=lambda r: r[1])
    lines += [
        "",
        f"Fastest one face: {best['runtime']}, {best['threads']} thread(s), {best['how']}: {best[1]:.3f} ms.",
        "",
        f"ONNX Runtime's profile of one face at 1 thread ({total:.0f} µs of kernels per run, profiler included):",
        "",
        "| operator | µs per run | share |",
        "|---|---:|---:|",
    ]
    lines += [f"| {op} | {us:.1f} | {100 * us / total:.1f} % |" for op, us in profile[:10]]
    rest = sum(us for _, us in profile[10:])
    lines.append(f"| {len(profile) - 10} other types | {rest:.1f} | {100 * rest / total:.1f} % |")
    write_section(args.out, "runtimes", "One face through the network: runtimes and their options", lines)


if __name__ == "__main__":
    main()
