"""Outputs pinned on purpose: the bundled model's probabilities and the preprocessing of fixed faces.

A change to the preprocessing (crop, resize, normalisation), to the weights or to the order of the classes
changes these numbers; tests/test_pinned.py then fails loudly. When the change is meant (a new bundled model, a
new normalisation), write the new values and commit them with it:

    python tests/pinned.py --write
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from mffcnn.data.datasets.synthetic import generate
from mffcnn.data.images import read_image, to_grey_uint8
from mffcnn.data.preprocess import Preprocessing
from mffcnn.predict import SAMPLE_IMAGE, find_faces, load_model

PINNED = Path(__file__).parent / "data" / "pinned.json"


def synthetic_faces() -> np.ndarray:
    """12 synthetic 60×60 faces, two of each class, drawn in code (the same on every machine)."""
    return np.stack([face for face, *_ in generate(subjects=2, per_class=1, seed=20261129, size=60)])


def compute() -> dict:
    model = load_model()  # the bundled model
    faces = synthetic_faces()
    grey = to_grey_uint8(read_image(SAMPLE_IMAGE))
    boxes, crops = find_faces(grey, model.preprocessing)
    normalised = Preprocessing().to_tensor(faces[:1])[0, 0].numpy()
    return {
        "class_names": model.class_names,
        "synthetic_probabilities": model.probabilities(faces).round(7).tolist(),
        "sample_boxes": [b.to_list() for b in boxes],
        "sample_crop_sum": int(np.stack(crops).astype(np.int64).sum()),
        "sample_probabilities": model.probabilities(np.stack(crops)).round(7).tolist(),
        "normalised_face": normalised.round(7).tolist(),  # (60, 60): face 0 as the network sees it
    }


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(__doc__)
    PINNED.parent.mkdir(exist_ok=True)
    PINNED.write_text(json.dumps(compute()) + "\n")
    print(f"wrote {PINNED}")
