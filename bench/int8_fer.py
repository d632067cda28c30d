"""Times the `fer` package's TFLite model for bench/int8.py, in fer's own venv (as bench/fer_worker.py does).

    /path/to/fer-venv/bin/python bench/int8_fer.py IN.npz OUT.json

IN.npz: faces (n, 64, 64) float32, already scaled as fer scales them; repeats (int). OUT.json: ms for one face
(wall and CPU) and faces/s at batch 100 through fer's own classifier call, and fer's version. Imports nothing of mffcnn.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from fer_worker import timed

BATCH = 100


def cpu_seconds(fn, repeats: int, inner: int) -> float:
    """Median process CPU seconds (all threads) of one call: what other jobs on the machine disturb less."""

    def once() -> float:
        start = time.process_time()
        for _ in range(inner):
            fn()
        return (time.process_time() - start) / inner

    return statistics.median([once() for _ in range(repeats)])


def main() -> None:
    import cv2
    import numpy as np

    if not hasattr(cv2, "CascadeClassifier"):
        # OpenCV 5 (as pip may install beside fer) moved the Haar cascades out; only fer's classifier is timed
        # here, so its detector, which FER() builds, is not needed.
        cv2.CascadeClassifier = lambda *_: None
    from fer.fer import FER  # TensorFlow loads here

    data = np.load(sys.argv[1])
    faces, repeats = data["faces"], int(data["repeats"])
    batch = np.concatenate([faces] * (BATCH // len(faces) + 1))[:BATCH]
    lite = FER()  # its default: the quantised TFLite mini-Xception
    one = timed(lambda: lite._classify_emotions(batch[:1]), repeats, inner=50)
    one_cpu = cpu_seconds(lambda: lite._classify_emotions(batch[:1]), repeats, inner=50)
    many = timed(lambda: lite._classify_emotions(batch), repeats)
    from importlib.metadata import version

    with open(sys.argv[2], "w") as f:
        json.dump({"b1_ms": 1e3 * one, "b1_cpu_ms": 1e3 * one_cpu, "b100": BATCH / many, "version": version("fer")}, f)


if __name__ == "__main__":
    main()
