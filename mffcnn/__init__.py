"""mffcnn: MFF-CNN facial expression recognition (Zou, Zhang & Lee, Applied Intelligence 2021)."""

__version__ = "0.1.0"

__all__ = ["MFFCNN", "MFFCNNConfig", "cross_validate", "resume", "load_model", "__version__"]

# Names resolve on first use (PEP 562): `import mffcnn` must not pull in scikit-learn and matplotlib
# (≈2 s) when a user only runs `mffcnn predict`, whose start-up target is ≤ 3 s.
_LAZY = {
    "MFFCNN": "mffcnn.model",
    "MFFCNNConfig": "mffcnn.model",
    "cross_validate": "mffcnn.experiment",
    "resume": "mffcnn.experiment",
    "load_model": "mffcnn.predict",  # mffcnn.load_model().predict("photo.jpg"); mffcnn.predict is the module
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # resolve once
        return value
    raise AttributeError(f"module 'mffcnn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
