"""Faces from datasets and photos: reading images, Viola-Jones, preprocessing, the prepared-dataset cache,
and the datasets in their native layouts (data/datasets).

Names resolve on first use (PEP 562): `import mffcnn.data.face` must not load every loader, scikit-learn
and torch; the face utilities (face.py, images.py) need only OpenCV and NumPy.
"""

from __future__ import annotations

__all__ = ["DATASETS", "FaceSet", "PrepareSummary", "Preprocessing", "Record", "default_preprocessing", "load_dataset"]

_LAZY = {
    "DATASETS": "mffcnn.data.datasets",
    "default_preprocessing": "mffcnn.data.datasets",
    "load_dataset": "mffcnn.data.datasets",
    "FaceSet": "mffcnn.data.faceset",
    "PrepareSummary": "mffcnn.data.faceset",
    "Record": "mffcnn.data.faceset",
    "Preprocessing": "mffcnn.data.preprocess",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mffcnn.data' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
