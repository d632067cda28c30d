"""mffcnn: MFF-CNN facial expression recognition (Zou, Zhang & Lee, Applied Intelligence 2021).

The public face of the package. The model:       MFFCNN, MFFCNNConfig (mffcnn.model, paper §3).
The studies (mffcnn.studies):                    cross_validate, resume, evaluate, ablate, sfew_protocol,
                                                 StudyOptions (what they share); train is mffcnn.studies.train.train
                                                 (mffcnn.train is the training-loop package).
Prediction (mffcnn.predict):                     load_model; mffcnn.predict.predict.
"""

__version__ = "0.1.0"

__all__ = [
    "MFFCNN",
    "MFFCNNConfig",
    "StudyOptions",
    "ablate",
    "cross_validate",
    "evaluate",
    "load_model",
    "resume",
    "sfew_protocol",
    "__version__",
]

# Names resolve on first use (PEP 562): `import mffcnn` must not pull in scikit-learn and matplotlib
# (≈2 s) when a user only runs `mffcnn predict`, whose start-up target is ≤ 3 s.
_LAZY = {
    "MFFCNN": "mffcnn.model",
    "MFFCNNConfig": "mffcnn.model",
    "StudyOptions": "mffcnn.studies._run",
    "cross_validate": "mffcnn.studies.cv",
    "resume": "mffcnn.studies.cv",
    "evaluate": "mffcnn.studies.evaluate",
    "ablate": "mffcnn.studies.ablate",
    "sfew_protocol": "mffcnn.studies.sfew",
    "load_model": "mffcnn.predict",  # mffcnn.load_model().predict("photo.jpg")
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
