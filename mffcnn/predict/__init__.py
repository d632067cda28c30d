"""Facial expressions of every face in photos, folders, video files and webcams (paper §3, §4.1 at use time).

    from mffcnn.predict import load_model, predict
    model = load_model()                      # the bundled default; or a checkpoint / .onnx / TorchScript file
    result = predict("photos/", model=model)  # a path (image, folder, video), a list of them, a numpy image, a webcam
    for r in result.results:                  # one per image or video frame, in input order
        for face in r.faces:
            print(r.file, r.frame, face.box, face.label, face.score)

How a face is found. BlazeFace (MediaPipe's detector with six landmarks; `detector=`/`--detector haar` for
the paper's Viola-Jones) finds faces and each is cut, grey, 60×60, exactly as the model's training data was:
the crop geometry (box and margin, or aligned on the eyes) comes from the checkpoint's Preprocessing
(faces.py). `predict` always detects, also for models trained
on datasets that come already cropped (CK+48, FER+): their users bring whole photos, not crops. Inputs that
already are face crops take `detect=False` (`--no-detect`): the whole image is then the face.

The package, by concern (after ultralytics' engine/predictor, engine/results and nn/autobackend):
backends.py (every model file behind one interface), faces.py (find and crop), sources.py (what is read),
pipeline.py (the stages, batching), draw.py (annotated output), results.py (result objects and writers);
videos: tracking.py (a track id per person), smoothing.py (steady labels), timeline.py (a timeline per person).
"""

from mffcnn.predict.backends import DEFAULT_MODEL, SAMPLE_IMAGE, Backend, resolve_model_path
from mffcnn.predict.draw import annotate
from mffcnn.predict.faces import choose_detector, collect_faces, detector_for_min_face, find_faces
from mffcnn.predict.pipeline import DEFAULT_BATCH, Model, load_model, predict
from mffcnn.predict.results import (
    OUTPUT_FORMATS,
    WRITERS,
    Face,
    FrameResult,
    Interrupted,
    Predictions,
    Summary,
    get_writer,
)
from mffcnn.predict.sources import VIDEO_SUFFIXES, parse_webcam


def __getattr__(name: str):
    """InferenceModel on first use: it is a torch module, and predicting with the bundled model needs no torch."""
    if name == "InferenceModel":
        from mffcnn.predict.inference import InferenceModel

        return InferenceModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_BATCH",
    "DEFAULT_MODEL",
    "OUTPUT_FORMATS",
    "SAMPLE_IMAGE",
    "VIDEO_SUFFIXES",
    "WRITERS",
    "Backend",
    "Face",
    "FrameResult",
    "InferenceModel",
    "Interrupted",
    "Model",
    "Predictions",
    "Summary",
    "annotate",
    "choose_detector",
    "collect_faces",
    "detector_for_min_face",
    "find_faces",
    "get_writer",
    "load_model",
    "parse_webcam",
    "predict",
    "resolve_model_path",
]
