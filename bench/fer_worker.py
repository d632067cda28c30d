"""Runs the `fer` package (Justin Shenk's FER, TensorFlow) for bench/fer_compare.py, in fer's own venv.

    /path/to/fer-venv/bin/python bench/fer_worker.py IN.npz OUT.json

fer needs TensorFlow, which does not belong in mffcnn's environment, so fer_compare.py writes the photos and
the Viola-Jones boxes both models share to IN.npz and reads fer's answers back from OUT.json. Imports
nothing of mffcnn.

IN.npz: photos (n, H, W) uint8 grey, boxes (n, 4) int [x, y, w, h] (-1 = no face found), frame (480, 640)
uint8, repeats (int). OUT.json: fer's class names, its raw probabilities per photo (before its rounding
to 2 decimals), and timings.
"""

from __future__ import annotations

import json
import statistics
import sys
import time


def timed(fn, repeats: int, inner: int = 1) -> float:
    fn()
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(inner):
            fn()
        out.append((time.perf_counter() - t) / inner)
    return statistics.median(out)


def main() -> None:
    src, dst = sys.argv[1], sys.argv[2]
    t0 = time.perf_counter()
    from fer.fer import FER  # TensorFlow loads here

    import_s = time.perf_counter() - t0
    import cv2
    import numpy as np

    data = np.load(src)
    photos, boxes, frame, repeats = data["photos"], data["boxes"], data["frame"], int(data["repeats"])
    t0 = time.perf_counter()
    lite = FER()  # its default: the quantised TFLite mini-Xception, Haar cascade detection
    init_s = time.perf_counter() - t0
    names = [lite._get_labels()[i] for i in range(7)]

    # Accuracy: fer's own crop of our box (square, 10 px offsets, 64×64), its raw output kept.
    seen = {}
    original = lite._classify_emotions

    def spy(gray_faces):
        out = np.asarray(original(gray_faces))
        seen["faces"], seen["probs"] = np.asarray(gray_faces), out
        return out

    lite._classify_emotions = spy
    probs, crops = [], []
    for photo, box in zip(photos, boxes):
        if box[0] < 0:
            probs.append(None)
            continue
        seen.clear()
        lite.detect_emotions(cv2.cvtColor(photo, cv2.COLOR_GRAY2BGR), face_rectangles=[tuple(int(v) for v in box)])
        probs.append(seen["probs"][0].tolist() if "probs" in seen else None)
        if "faces" in seen:
            crops.append(seen["faces"][0])
    lite._classify_emotions = original

    # Speed per face on the same crops: TFLite (its default; one face per call inside) and Keras (batched).
    crops = np.stack(crops).astype(np.float32)
    batch = np.concatenate([crops] * (100 // len(crops) + 1))[:100]
    speed = {}
    speed["tflite_b1_ms"] = 1e3 * timed(lambda: lite._classify_emotions(batch[:1]), repeats, inner=20)
    speed["tflite_b100_faces_s"] = 100 / timed(lambda: lite._classify_emotions(batch), repeats)
    bgr = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    speed["tflite_frame_ms"] = 1e3 * timed(lambda: lite.detect_emotions(bgr), repeats, inner=3)
    speed["frame_faces"] = len(lite.detect_emotions(bgr))
    speed["haar_frame_ms"] = 1e3 * timed(lambda: lite.find_faces(bgr), repeats, inner=3)
    try:
        t0 = time.perf_counter()
        keras = FER(use_tflite=False)
        speed["keras_init_s"] = time.perf_counter() - t0
        speed["keras_b1_ms"] = 1e3 * timed(lambda: keras._classify_emotions(batch[:1]), repeats, inner=5)
        speed["keras_b100_faces_s"] = 100 / timed(lambda: keras._classify_emotions(batch), repeats)
    except Exception as e:  # the Keras path is optional; say why it did not run
        speed["keras_error"] = f"{type(e).__name__}: {e}"[:300]

    from importlib.metadata import PackageNotFoundError, version

    def installed(*names: str) -> str | None:
        """The version of the first of these distributions that is installed (TensorFlow ships as several)."""
        for name in names:
            try:
                return version(name)
            except PackageNotFoundError:
                continue
        return None

    out = {
        "class_names": names,
        "probs": probs,
        "import_s": import_s,
        "init_s": init_s,
        "speed": speed,
        "versions": {
            "fer": installed("fer"),
            "tensorflow": installed("tensorflow", "tensorflow-cpu", "tflite-runtime"),
        },
    }
    with open(dst, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
